// throughput in quick mode: every responder runs in a process of its own, every
// variant reports a figure and a ratio (verified senders against a plain type
// too), and no responder process outlives the run.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import { throughputScenario } from "./throughput.js";
import { isProcessAlive } from "../child-process.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-throughput-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("throughput, --quick", () => {
  it("measures Troupe, raw nats.js and Moleculer against responders in their own processes, and stops them", { timeout: 120_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [throughputScenario], quick: true, seed: 5, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);

    const names = result.metrics.map((m) => m.name);
    for (const name of [
      "asks, 64 in flight vs raw own-inbox requests",
      "asks, 64 in flight vs Moleculer calls",
      "ask latency p50 vs raw nc.request",
      "ask latency p99 vs raw nc.request",
      "tell throughput vs raw pub/sub",
      "read-only asks, 50 KB persisted state vs 100-byte state",
    ]) {
      expect(names, text).toContain(name);
      const m = result.metrics.find((x) => x.name === name)!;
      expect(Number.isFinite(m.ratio), `${name} has a ratio`).toBe(true);
      expect(m.goal, `${name} has a goal`).toBeDefined();
    }

    // Asks to a type that accepts only verified senders were answered, beside the same asks to a plain type.
    for (const name of [
      "asks, 64 in flight, to a requireVerifiedSender type vs a plain type (same client)",
      "ask latency p50, requireVerifiedSender type vs plain type (same client)",
    ]) {
      const m = result.metrics.find((x) => x.name === name);
      expect(m, `${name}\n${text}`).toBeDefined();
      expect(m!.troupe! > 0 && Number.isFinite(m!.ratio), `${name} has a figure and a ratio`).toBe(true);
    }

    // The responders ran in other processes, and none of them is left.
    const line = result.log.find((l) => l.startsWith("responder processes:")) ?? "";
    const pids = [...line.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids, line).toHaveLength(3);
    for (const pid of pids) {
      expect(pid).not.toBe(process.pid);
      expect(isProcessAlive(pid), `responder pid ${pid} still runs`).toBe(false);
    }
  });
});
