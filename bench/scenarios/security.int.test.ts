// security in quick mode: the secured server really refuses anonymous
// connections, every row (on against off with its goal, verified against on,
// raw nats.js on against off, CPU per ask) has a finite figure and ratio, and
// no responder process outlives the run.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "../child-process.js";
import { runBench } from "../runner.js";
import { securityScenario } from "./security.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-security-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("security, --quick", () => {
  it("measures asks with security off, on and with verified senders in one run, and stops its responders", { timeout: 120_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [securityScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);

    // "On" was measured against a server that enforces credentials.
    expect(result.log.some((l) => l.startsWith("secured server: an anonymous connection is refused")), text).toBe(true);

    const withGoal = ["asks, 64 in flight, security on vs off", "ask latency p50, security on vs off"];
    const stated = [
      "ask latency p99, security on vs off",
      "asks, 64 in flight, requireVerifiedSender vs security on",
      "ask latency p50, requireVerifiedSender vs security on",
      "ask latency p99, requireVerifiedSender vs security on",
      "raw nats.js own-inbox requests, 64 in flight, security on vs off",
      "raw nats.js request latency p50, security on vs off",
      "CPU per ask, 64 in flight, nats-server, Troupe, security on vs off",
      "CPU per ask, 64 in flight, responding process, Troupe, requireVerifiedSender vs security on",
      "CPU per ask, 64 in flight, all three processes, raw nats.js, security on vs off",
    ];
    for (const name of [...withGoal, ...stated]) {
      const m = result.metrics.find((x) => x.name === name);
      expect(m, `${name}\n${text}`).toBeDefined();
      expect(m!.troupe! > 0 && m!.baseline! > 0 && Number.isFinite(m!.ratio), `${name} has figures and a ratio`).toBe(true);
      expect(m!.goal !== undefined, `${name} ${withGoal.includes(name) ? "has" : "has no"} goal`).toBe(withGoal.includes(name));
    }
    expect(result.metrics.find((m) => m.name === "asks, 64 in flight, security on vs off")!.goal).toBe("ratio ≥ 0.95");

    const rows = result.latency?.[0]?.rows.map((row) => row.label);
    expect(rows).toEqual([
      "Troupe ask, security off",
      "Troupe ask, credentials and permissions on",
      "Troupe ask, on, requireVerifiedSender type",
      "raw nats.js own-inbox request, security off",
      "raw nats.js own-inbox request, credentials and permissions on",
    ]);

    // The responders ran in other processes, and none is left.
    const line = result.log.find((l) => l.startsWith("responder processes:")) ?? "";
    const pids = [...line.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids, line).toHaveLength(4);
    for (const pid of pids) {
      expect(pid).not.toBe(process.pid);
      expect(isProcessAlive(pid), `responder pid ${pid} still runs`).toBe(false);
    }
  });
});
