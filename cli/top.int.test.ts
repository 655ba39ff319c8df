// agentctl top against a real server: a node hosting a worker (a few ms per
// message) and a crasher (fails on every message), messages sent while
// `top --once` takes its two listings, then the rows as a user reads them.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient } from "../actors/index.js";
import { useNatsServer } from "../runtime/testing/server.js";
import type { TopRow } from "./top-model.js";
import { agentctl, AgentctlProcess, freePort } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `top-${randomBytes(3).toString("hex")}`;
const NODE = "top-node-1";

const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

describe("agentctl top", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;
  let client: TroupeClient;

  beforeAll(async () => {
    node = new AgentctlProcess(["node", "start", "--agents", "cli/fixtures/top-agents.ts", "--name", NODE, "--server", nats.url, "--namespace", namespace]);
    await node.waitFor(/ready/);
    client = await connectClient({ servers: nats.url, namespace, name: "top-test" });
    await client.spawn("worker", { key: "w1" });
    await client.spawn("worker", { key: "idle" });
    await client.spawn("crasher", { key: "c1" });
  }, SLOW_MS);
  afterAll(async () => {
    await client?.close();
    await node?.stop("SIGKILL");
  });

  /** Run `top --once` while the worker is kept busy and the crasher is made to fail, until top exits. */
  async function onceUnderLoad(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const top = run("top", "--once", "--interval", "1500", ...args);
    let done = false;
    void top.then(() => (done = true));
    const worker = client.ref("worker/w1");
    const crasher = client.ref("crasher/c1");
    let sent = 0;
    while (!done) {
      // Asks, so each waits for its answer: a steady few hundred messages a second.
      await worker.ask({ ms: 2 });
      if (++sent % 50 === 0) await crasher.tell({ boom: true }).catch(() => {});
    }
    return top;
  }

  it("--once --json: a row per agent with its rate, p99 and restarts; the crashing agent marked failing", async () => {
    const r = await onceUnderLoad("--json");
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as TopRow[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect([...byId.keys()].sort()).toEqual(["crasher/c1", "worker/idle", "worker/w1"]);
    const w1 = byId.get("worker/w1")!;
    expect(w1.node).toBe(NODE);
    expect(w1.state).toBe("running");
    expect(w1.rate).toBeGreaterThan(20);
    // It takes 2 ms (a timer of 2 ms) per message; the p99 says at least that.
    expect(w1.p99Ms).toBeGreaterThanOrEqual(2);
    expect(w1.p99Ms).toBeLessThan(1000);
    expect(w1.failing).toBe(false);
    const idle = byId.get("worker/idle")!;
    expect(idle.rate).toBe(0);
    expect(idle.p99Ms).toBeNull();
    const c1 = byId.get("crasher/c1")!;
    expect(c1.restarts).toBeGreaterThan(0);
    expect(c1.failing).toBe(true);
  });

  it("--once prints a header with totals and a table, the failing agent marked with !", async () => {
    const r = await onceUnderLoad("--sort", "agent");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^namespace ${namespace}: 1 node, 3 agents, 1 failing, [\\d.,]+ msg/s · sort: agent$`));
    const header = lines.find((l) => l.includes("AGENT"))!;
    expect(header.trim().split(/\s+/)).toEqual(["AGENT", "NODE", "STATE", "MSG/S", "MAILBOX", "RESTARTS", "P99", "UPTIME"]);
    const rows = lines.slice(lines.indexOf(header) + 1);
    expect(rows.map((l) => l.slice(3).split(/\s+/)[0])).toEqual(["crasher/c1", "worker/idle", "worker/w1"]);
    expect(rows[0]).toMatch(/^! {2}crasher\/c1/);
    expect(rows[2]).toMatch(/^ {3}worker\/w1\s+top-node-1\s+running\s+[\d.,]+\s+\d+\s+0\s+[\d.]+m?s\s+\S+$/);
  });

  it("--filter keeps the agents whose id or node contains the text", async () => {
    const r = await run("top", "--once", "--interval", "100", "--json", "--filter", "worker/");
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as TopRow[]).map((row) => row.id).sort()).toEqual(["worker/idle", "worker/w1"]);
  });

  it("bad options are usage errors", async () => {
    for (const args of [["--interval", "0"], ["--sort", "cpu"], ["--bogus"], ["--json"]]) {
      const r = await run("top", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/Usage: agentctl top/);
    }
  });

  it("without a terminal the live view refuses and points at --once", async () => {
    const r = await run("top");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a terminal; use --once/);
  });

  it("with no server, says so in one line and exits 3", async () => {
    const port = await freePort();
    const r = await agentctl(["top", "--once", "--server", `nats://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

