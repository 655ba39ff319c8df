// durable in quick mode: one node process and the nats-server are each killed
// with SIGKILL under a stream of durable tells and keyed asks; no acknowledged
// tell or answered ask is lost, nothing is applied twice, no send hangs, every
// mailbox drains again; and the report has its rows, throughput included.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { ScenarioResult } from "../scenario.js";
import { DurableFigure, durableScenario } from "./durable.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-durable-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function figure(result: ScenarioResult, name: string): number {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m.troupe ?? NaN;
}

describe("durable, --quick", () => {
  it("applies every acknowledged increment exactly once through a node kill and a server kill", { timeout: 150_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [durableScenario], quick: true, seed: 7, outDir, stdout: out, handleSignals: false, scenarioTimeoutMs: 140_000 });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    // Every row is there.
    for (const name of Object.values(DurableFigure)) figure(result, name);
    // The invariants.
    expect(figure(result, DurableFigure.Lost), text).toBe(0);
    expect(figure(result, DurableFigure.AsksLost), text).toBe(0);
    expect(figure(result, DurableFigure.Twice), text).toBe(0);
    expect(figure(result, DurableFigure.NeverSent), text).toBe(0);
    expect(figure(result, DurableFigure.AsksHung), text).toBe(0);
    expect(figure(result, DurableFigure.TellsHung), text).toBe(0);
    expect(figure(result, DurableFigure.GivenUp), text).toBe(0);
    expect(figure(result, DurableFigure.Unreadable), text).toBe(0);
    // Work was done, and each kind of kill happened and was drained after.
    expect(figure(result, DurableFigure.TellsAcked)).toBeGreaterThan(0);
    expect(figure(result, DurableFigure.AsksAnswered)).toBeGreaterThan(0);
    expect(figure(result, DurableFigure.Applied)).toBeGreaterThanOrEqual(figure(result, DurableFigure.TellsAcked) + figure(result, DurableFigure.AsksAnswered));
    expect(figure(result, DurableFigure.DrainNode)).toBeGreaterThan(0);
    expect(figure(result, DurableFigure.DrainServer)).toBeGreaterThan(0);
    expect(figure(result, DurableFigure.Adoption)).toBeGreaterThan(0);
    // Throughput was measured on both sides.
    for (const name of [DurableFigure.ThroughputOne, DurableFigure.ThroughputSpread]) {
      const m = result.metrics.find((x) => x.name === name)!;
      expect(m.troupe).toBeGreaterThan(0);
      expect(m.baseline).toBeGreaterThan(0);
    }
  });
});
