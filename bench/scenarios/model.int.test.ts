// model in quick mode: every figure is there; after the SIGKILL in the middle
// of the loop no completed model call or tool call was repeated, the killed
// tool call ran again with its key and the request completed on the other
// node; every runaway loop stopped at its budget; the long answer completed;
// and the node process did not outlive the run. (The step overhead is timing:
// its figures must be there, its goal is not asserted.)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "../child-process.js";
import { runBench } from "../runner.js";
import { ModelFigure, modelScenario } from "./model.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-model-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("model, --quick", () => {
  it("measures the step overhead, resumes after SIGKILL without repeats, stops runaways at the budget", { timeout: 120_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [modelScenario], quick: true, seed: 5, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    const metric = (name: string) => {
      const m = result.metrics.find((x) => x.name === name);
      expect(m, `${name}\n${text}`).toBeDefined();
      return m!;
    };

    for (const name of [ModelFigure.StepP50, ModelFigure.StepP99, ModelFigure.Request, ModelFigure.RequestCpu]) {
      const m = metric(name);
      expect(m.troupe! > 0 && m.baseline! > 0 && Number.isFinite(m.ratio), `${name} has figures and a ratio`).toBe(true);
    }
    expect(metric(ModelFigure.Overhead).goal).toBe("≤ 2 ms");
    expect(Number.isFinite(metric(ModelFigure.Overhead).troupe)).toBe(true);

    expect(metric(ModelFigure.RepeatedModelCalls)).toMatchObject({ troupe: 0, pass: true });
    expect(metric(ModelFigure.RepeatedToolCalls)).toMatchObject({ troupe: 0, pass: true });
    expect(metric(ModelFigure.InFlightRerun).troupe, text).toBe(1);
    expect(metric(ModelFigure.Resumed)).toMatchObject({ troupe: 1, pass: true });
    expect(metric(ModelFigure.FirstAsker)).toMatchObject({ troupe: 1, pass: true });
    expect(metric(ModelFigure.Runaway)).toMatchObject({ troupe: 5, pass: true });
    expect(metric(ModelFigure.Long)).toMatchObject({ troupe: 1, pass: true });

    // The killed node ran in another process, and it is gone.
    const line = result.log.find((l) => l.startsWith("resume: node process")) ?? "";
    const pid = Number(/pid (\d+)/.exec(line)?.[1]);
    expect(pid, line).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(isProcessAlive(pid)).toBe(false);
  });
});
