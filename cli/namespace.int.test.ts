// Namespaces from the shell: read commands on a mistyped namespace create
// nothing and say it does not exist; `ns ls` lists the namespaces on the
// server; `ns rm` deletes one's streams and buckets, carefully.

import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const ns = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}`;

let nc: NatsConnection | undefined;
afterAll(async () => {
  await nc?.close();
});

async function streams(): Promise<string[]> {
  nc ??= await connectTo(nats.url);
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const s of jsm.streams.list()) names.push(s.config.name);
  return names.sort();
}

describe("read commands in a mistyped namespace", { timeout: SLOW_MS }, () => {
  it("exit 4 saying the namespace does not exist, and create no stream or bucket", async () => {
    const typo = ns("typo");
    const before = await streams();
    const cmds = [["ps", "--all"], ["tree", "--json"], ["kv", "ls"], ["kv", "get", "k"], ["kv", "history", ">"], ["kv", "watch"], ["transcript", "assistant/a1"],
      ["ask", "counter/c1", "{}"], ["dlq", "ls", "--json"]];
    const results = await Promise.all(cmds.map((cmd) => agentctl([...cmd, "--server", nats.url, "--namespace", typo])));
    for (const [i, r] of results.entries()) {
      expect({ cmd: cmds[i], code: r.code, stderr: r.stderr.trim() }).toEqual({
        cmd: cmds[i],
        code: 4,
        stderr: `error: namespace "${typo}" does not exist on this server: no node has run in it`,
      });
    }
    expect(await streams()).toEqual(before);
  });
});

describe("agentctl ns", { timeout: SLOW_MS }, () => {
  const live = ns("live");
  const idle = ns("idle");
  let node: AgentctlProcess | undefined;
  afterAll(async () => {
    await node?.stop("SIGKILL");
  });

  it("ls lists each namespace on the server with its nodes and agents", async () => {
    const idleNode = new AgentctlProcess(["node", "start", "--server", nats.url, "--namespace", idle]);
    await idleNode.waitFor(/ready/);
    expect((await idleNode.stop("SIGINT")).code).toBe(0);
    node = new AgentctlProcess(["node", "start", "--name", "ns-n1", "--server", nats.url, "--namespace", live]);
    await node.waitFor(/ready/);
    expect((await agentctl(["spawn", "counter", "--key", "c1", "--server", nats.url, "--namespace", live])).code).toBe(0);

    const json = JSON.parse((await agentctl(["ns", "ls", "--json", "--server", nats.url])).stdout) as { namespace: string; nodes: number; agents: number | null; streams: number }[];
    expect(json.find((n) => n.namespace === live)).toMatchObject({ nodes: 1, agents: 1 });
    expect(json.find((n) => n.namespace === idle)).toMatchObject({ nodes: 0, agents: 0 });
    expect(json.find((n) => n.namespace === idle)!.streams).toBeGreaterThan(0);

    const text = await agentctl(["ns", "ls", "--server", nats.url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^NAMESPACE\s+NODES\s+AGENTS\s+STREAMS$/m);
    expect(text.stdout).toMatch(new RegExp(`^${live}\\s+1\\s+1\\s+\\d+$`, "m"));
  });

  it("rm needs --yes without a terminal, refuses while a node runs unless --force, and deletes every stream of the namespace", async () => {
    const noYes = await agentctl(["ns", "rm", idle, "--server", nats.url]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain("--yes");
    expect((await streams()).filter((s) => s.toLowerCase().includes(idle))).not.toEqual([]);

    const busy = await agentctl(["ns", "rm", live, "--yes", "--server", nats.url]);
    expect(busy.code).toBe(1);
    expect(busy.stderr.trim()).toBe(`error: namespace ${live} has 1 node running (ns-n1): stop it first, or give --force`);

    const removed = await agentctl(["ns", "rm", idle, "--yes", "--server", nats.url]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`^removed namespace ${idle} \\(\\d+ streams and buckets\\)$`, "m"));
    expect((await streams()).filter((s) => s.toLowerCase().includes(idle))).toEqual([]);
    const names = (JSON.parse((await agentctl(["ns", "ls", "--json", "--server", nats.url])).stdout) as { namespace: string }[]).map((n) => n.namespace);
    expect(names).not.toContain(idle);
    expect(names).toContain(live);

    const forced = await agentctl(["ns", "rm", live, "--yes", "--force", "--server", nats.url]);
    expect(forced.code).toBe(0);
    expect((await streams()).filter((s) => s.toLowerCase().includes(live))).toEqual([]);

    const again = await agentctl(["ns", "rm", idle, "--yes", "--server", nats.url]);
    expect(again.code).toBe(4);
    expect(again.stderr.trim()).toBe(`error: namespace "${idle}" does not exist on this server: no node has run in it`);
  });
});
