// coordination in quick mode: every figure is there with its baseline; no
// pool ask failed and least loaded spread the work over every worker; and no
// timer fired twice or was lost, with nothing killed, with a node process
// SIGKILLed and with the server restarted. (Ratios and delays are timing:
// their figures must be there, their goals are not asserted.)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import { CoordinationFigure, coordinationScenario } from "./coordination.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-coordination-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("coordination, --quick", () => {
  it("routes, fans out and fires timers once each, also across a node SIGKILL and a server restart", { timeout: 240_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [coordinationScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    const metric = (name: string) => {
      const m = result.metrics.find((x) => x.name === name);
      expect(m, `${name}\n${text}`).toBeDefined();
      return m!;
    };

    for (const name of [CoordinationFigure.PoolP99, CoordinationFigure.PoolP50, CoordinationFigure.Fanout, CoordinationFigure.FanoutDecoding]) {
      const m = metric(name);
      expect(m.troupe! > 0 && m.baseline! > 0 && Number.isFinite(m.ratio), `${name} has figures and a ratio`).toBe(true);
    }
    expect(metric(CoordinationFigure.PoolP99).goal).toBe("least loaded ≤ 0.5x round robin");
    expect(metric(CoordinationFigure.Fanout).goal).toBe("ratio ≥ 0.80");
    expect(metric(CoordinationFigure.PoolFailed)).toMatchObject({ troupe: 0, pass: true });
    expect(metric(CoordinationFigure.TimerP99).troupe! >= 0).toBe(true);
    for (const name of [
      CoordinationFigure.TimerTwice,
      CoordinationFigure.TimerLost,
      CoordinationFigure.KillTwice,
      CoordinationFigure.KillLost,
      CoordinationFigure.RestartTwice,
      CoordinationFigure.RestartLost,
    ]) {
      expect(metric(name), `${name}\n${text}`).toMatchObject({ troupe: 0, pass: true });
    }
    // Least loaded gave every one of the 16 workers some of the work.
    const note = result.notes!.find((n) => n.startsWith("Pool:")) ?? "";
    const leastLoaded = /least loaded: ([\d ]+)\./.exec(note)?.[1]?.trim().split(" ").map(Number) ?? [];
    expect(leastLoaded.length, note).toBe(16);
    expect(leastLoaded.every((n) => n > 0), note).toBe(true);
  });
});
