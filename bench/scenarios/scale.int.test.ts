// scale in quick mode (1,000 and 2,000 agents): every figure is measured on
// both sides and positive, the goals are reported as pass/fail lines (whether
// they are met is the bench's business, not this test's), and the on-demand
// variant is either measured or skipped with a line saying why.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { Metric, ScenarioResult } from "../scenario.js";
import { ScaleFigure, scaleScenario, Way } from "./scale.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-scale-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function metric(result: ScenarioResult, name: string): Metric {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m;
}

describe("scale, --quick", () => {
  it("measures activation, heap and close at two sizes beside raw nats.js, with the goals as pass/fail lines", { timeout: 120_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [scaleScenario], quick: true, seed: 1, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    // A run that failed, was killed or was cut short leaves a note that starts with what it was.
    const problems = (result.notes ?? []).filter((n) => /^(raw nats\.js|spawned|on demand) at /.test(n));
    expect(problems, text).toEqual([]);

    const onDemandSkipped = (result.notes ?? []).some((n) => n.startsWith("On-demand activation skipped: "));
    const ways = onDemandSkipped ? [Way.Spawned] : [Way.Spawned, Way.OnDemand];
    for (const way of ways) {
      for (const size of [1_000, 2_000]) {
        for (const name of [ScaleFigure.activations(size, way), ScaleFigure.heap(size, way), ScaleFigure.close(size, way)]) {
          const m = metric(result, name);
          expect(m.troupe, name).toBeGreaterThan(0);
          expect(m.baseline, name).toBeGreaterThan(0);
          expect(Number.isFinite(m.ratio), `${name} has a ratio`).toBe(true);
        }
      }
      // The goals are judged at the largest size.
      for (const name of [ScaleFigure.activations(2_000, way), ScaleFigure.heap(2_000, way), ScaleFigure.close(2_000, way), ScaleFigure.flat(2_000, 1_000, way)]) {
        expect(metric(result, name).goal, name).toBeTruthy();
        expect(typeof metric(result, name).pass, name).toBe("boolean");
      }
      expect(metric(result, ScaleFigure.activations(1_000, way)).goal).toBeUndefined();
      expect(metric(result, ScaleFigure.flat(2_000, 1_000, way)).troupe).toBeGreaterThan(0);
    }
    if (!onDemandSkipped) {
      const passivationSkipped = (result.notes ?? []).some((n) => n.startsWith("Passivation and reactivation not measured: "));
      if (!passivationSkipped) {
        expect(metric(result, ScaleFigure.passivations(2_000)).troupe).toBeGreaterThan(0);
        expect(metric(result, ScaleFigure.reactivations(2_000)).troupe).toBeGreaterThan(0);
        expect(metric(result, ScaleFigure.passivationLag(2_000)).troupe).toBeGreaterThanOrEqual(0);
      }
    }
    // The report written to disk carries the same figures.
    expect(r.report?.results[0]?.metrics.length).toBe(result.metrics.length);
  });
});
