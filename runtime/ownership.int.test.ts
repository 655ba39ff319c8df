// One activation per agent while nodes only look gone, come back under the
// same name, or stop agents mid-start: the cases where ownership is easy to get wrong.

import { afterEach, describe, expect, it } from "vitest";
import { Subjects } from "./subjects.js";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { counter } from "../actors/builtins.js";
import { defineSupervisor } from "./define-supervisor.js";
import { AgentExistsError, AgentNotFoundError, AgentStoppedError, NodeClosedError } from "./errors.js";
import { systemClock, type Clock } from "./clock.js";

const nats = useNatsServer();
let seq = 0;
const open: TroupeNode[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close().catch(() => {});
});
async function node(ns: string, name: string, extra: Parameters<typeof startNode>[0] = {}): Promise<TroupeNode> {
  const n = await startNode({ servers: nats.url, namespace: ns, name, agents: [counter, tally, slowStart, quitter, slowTeam], heartbeatMs: 100, ...extra });
  open.push(n);
  return n;
}

const applied: string[] = [];
const tally = defineAgent({
  type: "tally",
  persist: false,
  receive: (msg: { n: number }, ctx) => void applied.push(`${ctx.node}:${msg.n}`),
});

const starts: string[] = [];
const slowStart = defineAgent({
  type: "slowstart",
  persist: false,
  async onStart() {
    starts.push("onStart:begin");
    await new Promise((r) => setTimeout(r, 200));
    starts.push("onStart:end");
  },
  onStop() {
    starts.push("onStop");
  },
  receive: () => "ok",
});

const quitter = defineAgent({
  type: "quitter",
  persist: false,
  state: () => ({ n: 0 }),
  async receive(msg: { quit?: boolean }, ctx) {
    await new Promise((r) => setTimeout(r, 5));
    ctx.state.n++;
    if (msg.quit) ctx.stop();
    return ctx.state.n;
  },
});

const slowTeam = defineSupervisor({
  type: "slowteam",
  children: [
    { id: "a", type: "slowstart", key: "a" },
    { id: "b", type: "tally", key: "b" },
  ],
});

/** A clock running `offsetMs` ahead of the system clock. */
function skewed(offsetMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + offsetMs };
}

describe("ownership", () => {
  it("does not adopt the agents of a live node whose clock runs behind", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const b = await node(ns, "b", { clock: skewed(5_000) });
    await a.spawn("tally", { key: "t" });
    await new Promise((r) => setTimeout(r, 800)); // many heartbeats and failover rounds on b
    applied.length = 0;
    await b.ref("tally", "t").ask({ n: 1 });
    expect(applied).toEqual(["a:1"]);
    expect(await b.whereIs("tally/t")).toBe("a");
  });

  it("lets a node that crashed come back under the same name and run its agents again", async () => {
    const ns = `own${++seq}`;
    const first = await startNode({ servers: nats.url, namespace: ns, name: "fixed", agents: [counter], heartbeatMs: 100 });
    const ref = await first.spawn("counter", { key: "c1" });
    await ref.ask({ op: "inc", by: 3 });
    await first.connection.close(); // crash: no release, no goodbye
    await new Promise((r) => setTimeout(r, 400)); // its heartbeat lapses
    const again = await node(ns, "fixed");
    // the first round of failover re-adopts what the earlier run of "fixed" left behind
    expect(await waitFor(() => again.ref("counter", "c1").ask({ op: "get" }, { timeoutMs: 300 }), "counter/c1 back")).toBe(3);
    await again.stop("counter/c1");
    const spawned = await again.spawn("counter", { key: "c1" });
    expect(await spawned.ask({ op: "get" })).toBe(3);
  });

  it("fences its own activation when another node took the agent over", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const b = await node(ns, "b");
    await a.spawn("tally", { key: "x" });
    // b takes the agent over (as failover does when a looks gone), then tells a to let go
    const kvKey = "tally.x";
    const { Kvm } = await import("@nats-io/kv");
    const { encodeValue } = await import("./codec.js");
    const kv = await new Kvm(b.connection).open(new Subjects(ns).registryBucket());
    await kv.put(kvKey, encodeValue({ node: "b", since: Date.now(), supervisor: "root" }));
    await (b as unknown as { calls: { control(s: string, body: unknown): Promise<unknown> } }).calls.control(new Subjects(ns).nodeControl("a", "tally"), { op: "fence", id: "tally/x" });
    await waitFor(async () => !(await a.list()).some((x) => x.id === "tally/x"), "a let go of tally/x");
  });

  it("honours ctx.stop() from an async receive handled straight away", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const ref = await a.spawn("quitter", { key: "q", restart: "transient" });
    expect(await ref.ask({ quit: true })).toBe(1);
    await waitFor(async () => !(await a.list()).some((x) => x.id === "quitter/q"), "quitter stopped itself");
    await expect(ref.ask({})).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("runs onStop after onStart when stopped mid-start, and tells the spawner", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    starts.length = 0;
    const spawning = a.spawn("slowstart", { key: "s" }).catch((e: unknown) => e);
    await waitFor(() => starts.includes("onStart:begin"), "onStart began");
    await a.stop("slowstart/s");
    expect(await spawning).toBeInstanceOf(AgentStoppedError);
    expect(starts).toEqual(["onStart:begin", "onStart:end", "onStop"]);
  });

  it("leaves nothing running when closed while a supervisor starts its children", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const watcher = await node(ns, "w");
    starts.length = 0;
    const spawning = a.spawn("slowteam", { key: "t" }).catch((e: unknown) => e);
    await waitFor(() => starts.includes("onStart:begin"), "first child starting");
    await a.close();
    await spawning;
    for (const id of ["slowteam/t", "slowstart/a", "tally/b"]) {
      await expect(watcher.ref(id).ask({ n: 0 }, { timeoutMs: 1000 })).rejects.toBeInstanceOf(AgentNotFoundError);
    }
    expect(starts.filter((x) => x === "onStop")).toHaveLength(starts.filter((x) => x === "onStart:end").length);
  });

  it("fails asks from a closed node at once with NodeClosedError", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const ref = a.ref("counter", "nobody");
    await a.close();
    const t0 = Date.now();
    await expect(ref.ask({ op: "get" }, { timeoutMs: 5000 })).rejects.toBeInstanceOf(NodeClosedError);
    await expect(ref.tell({ op: "inc" })).rejects.toBeInstanceOf(NodeClosedError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("refuses to delete the state of an agent running on another node", async () => {
    const ns = `own${++seq}`;
    const a = await node(ns, "a");
    const b = await node(ns, "b");
    const ref = await a.spawn("counter", { key: "keep" });
    await ref.ask({ op: "inc" });
    await expect(b.deleteState("counter/keep")).rejects.toBeInstanceOf(AgentExistsError);
    expect((await b.persistedState("counter/keep"))?.value).toEqual({ count: 1 });
  });
});

