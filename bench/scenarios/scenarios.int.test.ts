// Every registered scenario runs to the end in quick mode and reports figures
// a reader can use: this keeps the scenarios from rotting as the runtime changes.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import { scenarios } from "./index.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-bench-scenarios-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Scenarios whose own test file runs them in quick mode with stricter checks: not run twice. */
const ownTests = new Set(["memory", "server-restart", "throughput", "security", "durable", "scale", "cluster", "model"]);

describe("registered scenarios, --quick", () => {
  it("have unique command-line names", () => {
    const names = scenarios.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it.each(scenarios.filter((s) => !ownTests.has(s.name)).map((s) => [s.name]))("%s runs and reports its figures", { timeout: 120_000 }, async (name) => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: scenarios, scenarios: [name], quick: true, seed: 1, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(result.summary).not.toBe("");
    expect(result.metrics.length).toBeGreaterThan(0);
    for (const m of result.metrics) {
      const figure = m.troupe ?? m.baseline;
      expect(Number.isFinite(figure), `${m.name} has a figure`).toBe(true);
      if (m.troupe !== undefined && m.baseline !== undefined) expect(Number.isFinite(m.ratio), `${m.name} has a ratio`).toBe(true);
    }
  });
});
