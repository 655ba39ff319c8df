// Node names across processes: of two `agentctl node start` runs with one name
// started at the same moment, exactly one serves and the other exits 1 with
// NodeNameTakenError; a name held by a live process is refused; after a
// SIGKILL the name is free again once the heartbeat lapsed; a process that
// was frozen past the lapse window finds its name taken and stops hosting.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { recordEvents } from "./testing/supervision.js";
import { startNode, type TroupeNode } from "./node.js";
import { AgentctlProcess } from "../cli/testing/agentctl-process.js";
import { startChildNode, type ChildNode } from "../bench/child-node.js";

const nats = useNatsServer();
const HEARTBEAT_MS = 200;
const children: ChildNode[] = [];
const agentctls: AgentctlProcess[] = [];

describe("node names across processes", () => {
  let client: TroupeNode;
  beforeAll(async () => {
    client = await startNode({ servers: nats.url, namespace: "procs", name: "client", heartbeatMs: HEARTBEAT_MS });
  });
  afterAll(async () => {
    await client?.close();
    for (const c of children) await c.kill().catch(() => {});
    for (const a of agentctls) await a.stop("SIGKILL").catch(() => {});
  });

  it("runs exactly one of two agentctl nodes started at the same moment with one name; the other exits 1", async () => {
    const args = ["node", "start", "--name", "twin", "--server", nats.url, "--namespace", "twins"];
    const pair = [new AgentctlProcess(args), new AgentctlProcess(args)];
    agentctls.push(...pair);
    const exited = [false, false];
    pair.forEach((p, i) => void p.exited.then(() => (exited[i] = true)));
    const ready = (p: AgentctlProcess): boolean => /node twin ready/.test(p.stdout);
    // Until one has exited and the other serves, or both serve (two nodes under one name).
    await waitFor(() => (ready(pair[0]!) && ready(pair[1]!)) || (exited.some(Boolean) && pair.some(ready)), "one node serving, the other gone", 60_000);
    expect(pair.filter(ready)).toHaveLength(1);
    const loser = pair.find((p) => !ready(p))!;
    const end = await loser.exited;
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/a node named "twin" is already running in namespace "twins"/);
    await pair.find(ready)!.stop("SIGTERM");
  }, 90_000);

  it("refuses a live name, and frees it soon after the holder is SIGKILLed", async () => {
    const opts = { servers: nats.url, namespace: "procs", name: "phoenix", heartbeatMs: HEARTBEAT_MS };
    const first = await startChildNode(opts);
    children.push(first);
    const ref = await client.spawn("counter", { key: "p" });
    await ref.ask({ op: "inc", by: 4 });
    expect(await client.whereIs("counter/p")).toBe("phoenix");

    await expect(startChildNode(opts)).rejects.toThrow(/NodeNameTakenError/);

    await first.kill("SIGKILL");
    // The new process watches the old entry stand still for the lapse window (3 heartbeats), then takes it.
    const second = await startChildNode(opts);
    children.push(second);
    const listed = (await client.nodes()).filter((n) => n.id === "phoenix");
    expect(listed.map((n) => n.pid)).toEqual([second.pid]);
    // It adopts what the killed run left behind, with its persisted state.
    expect(await waitFor(() => client.ref("counter", "p").ask({ op: "get" }, { timeoutMs: 500 }), "counter/p back")).toBe(4);
  }, 90_000);

  it("makes a process frozen past the lapse window give up its name when it wakes", async () => {
    const lost = recordEvents(client, "name_lost");
    const opts = { servers: nats.url, namespace: "procs", name: "sleeper", heartbeatMs: HEARTBEAT_MS };
    const frozen = await startChildNode(opts);
    children.push(frozen);
    const ref = await client.spawn("counter", { key: "s" });
    await ref.ask({ op: "inc", by: 2 });
    process.kill(frozen.pid, "SIGSTOP");
    try {
      const successor = await startChildNode({ ...opts, readyTimeoutMs: 15_000 });
      children.push(successor);
      expect(await waitFor(() => client.ref("counter", "s").ask({ op: "get" }, { timeoutMs: 500 }), "counter/s adopted")).toBe(2);
      process.kill(frozen.pid, "SIGCONT");
      await waitFor(() => lost.some((e) => e.id === "node/sleeper"), "the woken process reports it lost its name");
      // The name and the agent stay with the successor.
      expect((await client.nodes()).filter((n) => n.id === "sleeper").map((n) => n.pid)).toEqual([successor.pid]);
      expect(await ref.ask({ op: "inc" })).toBe(3);
    } finally {
      if (!frozen.exited) process.kill(frozen.pid, "SIGCONT");
    }
  }, 90_000);

  it("makes an agentctl node whose name was taken while it was frozen exit 1 when it wakes", async () => {
    const node = new AgentctlProcess(["node", "start", "--name", "drowsy", "--server", nats.url, "--namespace", "procs"]);
    agentctls.push(node);
    await node.waitFor(/node drowsy ready/);
    process.kill(node.pid!, "SIGSTOP");
    try {
      const successor = await startChildNode({ servers: nats.url, namespace: "procs", name: "drowsy", heartbeatMs: HEARTBEAT_MS, readyTimeoutMs: 20_000 });
      children.push(successor);
    } finally {
      process.kill(node.pid!, "SIGCONT");
    }
    const end = await node.exited;
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/a node named "drowsy" is already running in namespace "procs"/);
  }, 90_000);
});
