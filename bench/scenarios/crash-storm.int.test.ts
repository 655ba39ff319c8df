// crash-storm in quick mode: agents fail 20 times a second under ask load, and
// still no ask hangs, every failed agent is restarted, and no acknowledged
// increment is lost.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { ScenarioResult } from "../scenario.js";
import { CrashStormFigure, crashStormScenario } from "./crash-storm.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-crash-storm-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function figure(result: ScenarioResult, name: string): number {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m.troupe ?? NaN;
}

describe("crash-storm, --quick", () => {
  it("answers or fails every ask, restarts every failed agent and loses no acknowledged increment", { timeout: 90_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [crashStormScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(figure(result, CrashStormFigure.Hung)).toBe(0);
    expect(figure(result, CrashStormFigure.Lost)).toBe(0);
    expect(figure(result, CrashStormFigure.Phantom)).toBe(0);
    expect(figure(result, CrashStormFigure.Repeated)).toBe(0);
    expect(figure(result, CrashStormFigure.MaxIntensity)).toBe(0);
    expect(figure(result, CrashStormFigure.Answered)).toBeGreaterThan(0);
    const strikes = figure(result, CrashStormFigure.Strikes);
    expect(strikes).toBeGreaterThan(0);
    // Every kill and every poison message is one restart.
    expect(figure(result, CrashStormFigure.Restarts)).toBe(strikes);
    expect(figure(result, CrashStormFigure.RestartP50)).toBeGreaterThan(0);
    expect(figure(result, CrashStormFigure.RestartP99)).toBeGreaterThanOrEqual(figure(result, CrashStormFigure.RestartP50));
    const ratio = result.metrics.find((m) => m.name === CrashStormFigure.Throughput)?.ratio;
    expect(Number.isFinite(ratio)).toBe(true);
  });
});
