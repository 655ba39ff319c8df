// agentctl events run as a user would: the kept history (--since) as readable
// lines or JSON lines, ended by --no-follow or --limit, filtered by --kind; an
// unknown kind is a usage error that lists the kinds; a live tail prints a kill
// and the restart that follows, and Ctrl-C ends it with 0; a mistyped namespace
// with --since is "not found" and leaves nothing behind.

import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter } from "../actors/builtins.js";
import { EVENT_KINDS, type TroupeEvent } from "../actors/index.js";
import { connectClient, type TroupeClient } from "../runtime/client.js";
import { startNode, type TroupeNode } from "../runtime/node.js";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { waitFor } from "../runtime/testing/wait.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 90_000;
const nats = useNatsServer();
const NS = "ev-cli";

let node: TroupeNode;
let client: TroupeClient;
let raw: NatsConnection;

/** The kinds of the kept events about `id`, read as a client. */
async function keptKinds(id: string): Promise<string[]> {
  const feed = await client.events({ since: 60_000, agent: id, follow: false });
  const kinds: string[] = [];
  for await (const e of feed) kinds.push(e.kind);
  return kinds;
}

/** The event lines of agentctl's stdout (notes go to stderr). */
const lines = (stdout: string): string[] => stdout.split("\n").filter((l) => l.trim() !== "");

beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, name: "ev-node", agents: [counter] });
  client = await connectClient({ servers: nats.url, namespace: NS, name: "ev-cli-test" });
  raw = await connectTo(nats.url);
  // History: counter/h1 started, failed (killed) and restarted.
  await node.spawn("counter", { key: "h1" });
  await node.kill("counter/h1", "for the history");
  await waitFor(async () => (await keptKinds("counter/h1")).includes("child_restarted"), "the restart of counter/h1 kept");
}, SLOW_MS);

afterAll(async () => {
  await client?.close();
  await node?.close();
  await raw?.close();
});

const at = (...args: string[]): string[] => [...args, "--server", nats.url, "--namespace", NS];

describe("agentctl events", { timeout: SLOW_MS }, () => {
  it("--since --no-follow prints the kept events, one readable line each, and exits 0", async () => {
    const r = await agentctl(at("events", "--since", "1m", "--no-follow", "--agent", "counter/h1"));
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    // time, kind, agent, node, then the kind's fields.
    expect(out.find((l) => /^\S+Z {2}child_started +counter\/h1 {2}ev-node/.test(l))).toBeDefined();
    expect(out.find((l) => /lifecycle +counter\/h1 {2}ev-node {2}running→failed {2}reason="killed: for the history"/.test(l))).toBeDefined();
    expect(out.find((l) => /child_failed +counter\/h1 {2}ev-node {2}reason=\S+ {2}restartCount=1 {2}supervisor=root/.test(l))).toBeDefined();
    expect(out.find((l) => /child_restarted +counter\/h1 {2}ev-node {2}attempt=1/.test(l))).toBeDefined();
    expect(out.every((l) => l.includes("counter/h1"))).toBe(true);
    // No colour into a pipe.
    expect(r.stdout).not.toContain("\u001b[");
  });

  it("--json prints one event object per line; --limit ends the read (even a following one) after that many", async () => {
    const r = await agentctl(at("events", "--since", "1m", "--agent", "counter/h1", "--json", "--limit", "2"));
    expect(r.code, r.stderr).toBe(0);
    const events = lines(r.stdout).map((l) => JSON.parse(l) as TroupeEvent);
    expect(events).toHaveLength(2);
    for (const e of events) expect(e).toMatchObject({ id: "counter/h1", node: "ev-node", at: expect.any(Number), kind: expect.any(String) });
    expect(events.map((e) => e.kind)).toEqual((await keptKinds("counter/h1")).slice(0, 2));
  });

  it("--kind prints only events of that kind (repeated or comma-separated)", async () => {
    const one = await agentctl(at("events", "--since", "1m", "--no-follow", "--agent", "counter/h1", "--json", "--kind", "child_failed"));
    expect(one.code, one.stderr).toBe(0);
    expect(lines(one.stdout).map((l) => (JSON.parse(l) as TroupeEvent).kind)).toEqual(["child_failed"]);
    const two = await agentctl(at("events", "--since", "1m", "--no-follow", "--agent", "counter/h1", "--json", "--kind", "child_failed,child_restarted"));
    expect(two.code, two.stderr).toBe(0);
    expect(lines(two.stdout).map((l) => (JSON.parse(l) as TroupeEvent).kind)).toEqual(["child_failed", "child_restarted"]);
  });

  it("an unknown kind is a usage error (exit 2) that lists the kinds", async () => {
    const r = await agentctl(at("events", "--kind", "child_restartd"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown event kind child_restartd");
    for (const k of EVENT_KINDS) expect(r.stderr).toContain(k);
    expect(r.stdout).toBe("");
  });

  it("live: prints a kill and the restart as they happen; Ctrl-C exits 0", async () => {
    await node.spawn("counter", { key: "live" });
    const tail = new AgentctlProcess(at("events", "--agent", "counter/live"));
    try {
      // The feed listens once it says how to stop it.
      await tail.waitFor(/live events only|press Ctrl-C/, 30_000, "stderr");
      await node.kill("counter/live", "live kill");
      await tail.waitFor(/child_restarted +counter\/live/, 30_000);
      expect(tail.stdout).toMatch(/lifecycle +counter\/live {2}ev-node {2}running→failed {2}reason="killed: live kill"/);
      expect(tail.stdout).toMatch(/child_failed +counter\/live {2}ev-node {2}reason=\S+ {2}restartCount=1/);
      const end = await tail.stop("SIGINT");
      expect(end.code, end.stderr).toBe(0);
      // Live only: nothing from before it started.
      expect(tail.stdout).not.toContain("counter/h1");
    } finally {
      await tail.stop("SIGKILL");
    }
  });

  it("a mistyped namespace with --since exits 4 (not found) and creates nothing", async () => {
    const r = await agentctl(["events", "--since", "5m", "--server", nats.url, "--namespace", "ev-clli"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/ev-clli/);
    const names: string[] = [];
    for await (const n of (await jetstreamManager(raw)).streams.names()) names.push(n);
    expect(names.filter((n) => /clli/i.test(n))).toEqual([]);
  });
});
