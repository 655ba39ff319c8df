// interop in quick mode: every figure is there with its baseline and ratio,
// and the registration figure carries its goal. (Timing: the goals are not
// asserted here; the scenario reports them.)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import { InteropFigure, interopScenario } from "./interop.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-interop-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("interop, --quick", () => {
  it("measures the registration, the agent protocol and MCP tools against their baselines", { timeout: 240_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [interopScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    for (const name of Object.values(InteropFigure)) {
      const m = result.metrics.find((x) => x.name === name);
      expect(m, `${name}\n${text}`).toBeDefined();
      expect(m!.troupe! > 0 && m!.baseline! > 0 && Number.isFinite(m!.ratio), `${name} has figures and a ratio`).toBe(true);
    }
    expect(result.metrics.find((m) => m.name === InteropFigure.Registration)!.goal).toBe("ratio ≥ 0.95");
  });
});
