// memory in quick mode: every figure is measured on both sides, the cache
// answers reads in-process, another node sees each write, and the persisted
// agent's stored state holds everything it counted.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { Metric, ScenarioResult } from "../scenario.js";
import { MemoryFigure, memoryScenario } from "./memory.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-memory-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function metric(result: ScenarioResult, name: string): Metric {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m;
}

describe("memory, --quick", () => {
  it("measures gets, puts, cross-node visibility and persisted tells beside raw KV", { timeout: 90_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [memoryScenario], quick: true, seed: 1, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);

    const compared = [
      MemoryFigure.CachedGet,
      MemoryFigure.Put,
      MemoryFigure.PutWatched,
      MemoryFigure.SeenByGetP50,
      MemoryFigure.SeenByGetP99,
      MemoryFigure.SeenByWatchP50,
      MemoryFigure.SeenByWatchP99,
      MemoryFigure.PersistedTells,
    ];
    for (const name of compared) {
      const m = metric(result, name);
      expect(m.troupe, name).toBeGreaterThan(0);
      expect(m.baseline, name).toBeGreaterThan(0);
      expect(Number.isFinite(m.ratio), `${name} has a ratio`).toBe(true);
    }
    // A cached get never leaves the process: far faster than a server round trip
    // on any machine (the 200x goal is reported, not asserted).
    expect(metric(result, MemoryFigure.CachedGet).ratio).toBeGreaterThan(10);
    // p99 is never below p50.
    expect(metric(result, MemoryFigure.SeenByGetP99).troupe).toBeGreaterThanOrEqual(metric(result, MemoryFigure.SeenByGetP50).troupe!);
    expect(metric(result, MemoryFigure.Unstored).troupe).toBe(0);
    expect(metric(result, MemoryFigure.LostTells).troupe).toBe(0);
    expect(result.latency?.[0]?.rows).toHaveLength(4);
  });
});
