// agentctl bench --strict: a missed goal is a non-zero exit (7), for CI. The
// scenario here is a stand-in whose goal cannot be met, so no benchmark runs.

import { mkdtempSync, rmSync } from "node:fs";
import { PassThrough } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Command } from "commander";
import { compare, type Scenario } from "../bench/index.js";
import { register } from "./commands/bench.js";
import { Factory } from "./factory.js";
import type { Output } from "./output.js";
import { agentctl } from "./testing/agentctl-process.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-bench-strict-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** A scenario that runs at once and misses its goal (half the baseline's speed, goal 0.9). */
const slowpoke: Scenario = {
  name: "slowpoke",
  title: "Slowpoke",
  description: "misses its goal",
  run: () =>
    Promise.resolve({
      name: "slowpoke",
      ok: true,
      summary: "too slow",
      metrics: [compare({ name: "speed", unit: "op/s", better: "higher", troupe: 50, baseline: 100, minRatio: 0.9 })],
    }),
};

const silent: Output = { line() {}, write() {}, json() {}, jsonLine() {}, table() {}, note() {} };

/** Run `agentctl bench ...args` in this process with `slowpoke` as the only scenario; its exit code. */
async function bench(...args: string[]): Promise<number> {
  const program = new Command("agentctl").exitOverride();
  const f = new Factory(program, silent);
  register(program, f, { registry: [slowpoke], stdout: new PassThrough() });
  await program.parseAsync(["bench", ...args, "--out", outDir], { from: "user" });
  return f.exitCode;
}

describe("agentctl bench --strict", () => {
  it("exits 7 when a goal is missed, and 0 without --strict", async () => {
    expect(await bench("slowpoke", "--strict")).toBe(7);
    expect(await bench("slowpoke")).toBe(0);
  });

  it("documents the flag and its exit code in --help", async () => {
    const r = await agentctl(["bench", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--strict\s+.*goal/);
    expect(r.stdout).toMatch(/^\s+7\s+.*goal.*missed/m);
  }, 60_000);
});
