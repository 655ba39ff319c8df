// An activation's end is one event that everything in it sees: `ctx.signal`
// fires on kill, timeout, stop and fencing; a receive that outlives its
// activation can no longer send in the agent's name; a start that was
// superseded is an error, never a running agent; onStop never runs beside onStart.

import { afterEach, describe, expect, it } from "vitest";
import { defineAgent, type AgentContext } from "./define-agent.js";
import { encodeValue } from "./codec.js";
import { AgentFencedError, AgentStoppedError, RemoteError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
let seq = 0;
const open: TroupeNode[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close().catch(() => {});
});
async function node(ns: string, name: string): Promise<TroupeNode> {
  const n = await startNode({ servers: nats.url, namespace: ns, name, agents: [waiter, timed, gated, warmup], heartbeatMs: 100 });
  open.push(n);
  return n;
}

/** What a receive saw after its activation ended: the signal's reason, and what a later send did. */
interface Aftermath {
  reason: unknown;
  sendError: unknown;
}
const aftermath = new Map<string, Aftermath>();
const waiting = new Set<string>();

/** Waits until its activation ends, then tries to send as the agent. */
async function waitForEnd(ctx: AgentContext): Promise<string> {
  waiting.add(ctx.id);
  await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
  const sendError = await ctx.self.tell("from beyond").then(
    () => undefined,
    (e: unknown) => e,
  );
  aftermath.set(ctx.id, { reason: ctx.signal.reason, sendError });
  return "done";
}

const waiter = defineAgent({ type: "waiter", persist: false, receive: (_m: unknown, ctx) => waitForEnd(ctx) });
const timed = defineAgent({ type: "timed", persist: false, receiveTimeoutMs: 100, receive: (_m: unknown, ctx) => waitForEnd(ctx) });

const starts: string[] = [];
let openGate: () => void = () => {};
const gated = defineAgent({
  type: "gated",
  persist: false,
  async onStart(ctx) {
    starts.push("onStart:begin");
    await new Promise<void>((resolve) => (openGate = resolve));
    starts.push(`onStart:end signal=${ctx.signal.aborted ? (ctx.signal.reason as Error).name : "live"}`);
  },
  onStop() {
    starts.push("onStop");
  },
  receive: () => "ok",
});

let openWarmup: () => void = () => {};
/** Set once the warmup agent's onStart is waiting for openWarmup. */
let warmupWaiting = false;
/** A persisted agent whose onStart changes its state, then waits. */
const warmup = defineAgent({
  type: "warmup",
  state: () => ({ warmed: false }),
  async onStart(ctx) {
    (ctx.state as { warmed: boolean }).warmed = true;
    await new Promise<void>((resolve) => {
      openWarmup = resolve;
      warmupWaiting = true;
    });
  },
  receive: (_m: unknown, ctx) => ctx.state,
});

describe("a stop while onStart runs", () => {
  it("still commits what onStart changed, then runs onStop", async () => {
    const n = await node(`act${++seq}`, "a");
    warmupWaiting = false;
    const spawning = n.spawn("warmup", { key: "w" }).catch((e: unknown) => e);
    // Listed as starting before onStart runs (it subscribes first): wait for onStart itself.
    await waitFor(() => warmupWaiting, "onStart to be running");
    const stopping = n.stop("warmup/w");
    await waitFor(async () => (await n.list()).some((a) => a.id === "warmup/w" && a.state === "stopping"), "the stop to reach the agent");
    openWarmup();
    await stopping;
    expect(await spawning).toBeInstanceOf(AgentStoppedError);
    expect((await n.persistedState("warmup/w"))?.value).toEqual({ warmed: true });
  });
});

describe("ctx.signal", () => {
  it("fires when the agent is killed; the dead activation's sends are refused", async () => {
    const n = await node(`act${++seq}`, "a");
    const ref = await n.spawn("waiter", { key: "k" });
    const asked = ref.ask("wait", { timeoutMs: 5000 }).catch((e: unknown) => e);
    await waitFor(() => waiting.has("waiter/k"), "the receive to be waiting");
    await n.kill("waiter/k", "test kill");
    const seen = await waitFor(() => aftermath.get("waiter/k"), "the receive to see the signal");
    expect(seen.reason).toBeInstanceOf(AgentStoppedError);
    expect((seen.reason as Error).message).toMatch(/killed: test kill/);
    expect(seen.sendError).toBeInstanceOf(AgentStoppedError);
    expect(await asked).toBeInstanceOf(RemoteError);
  });

  it("fires when a receive runs past receiveTimeoutMs", async () => {
    const n = await node(`act${++seq}`, "a");
    const ref = await n.spawn("timed", { key: "k" });
    await expect(ref.ask("wait", { timeoutMs: 5000 })).rejects.toBeInstanceOf(RemoteError);
    const seen = await waitFor(() => aftermath.get("timed/k"), "the receive to see the signal");
    expect((seen.reason as Error).message).toMatch(/did not finish within 100 ms/);
    expect(seen.sendError).toBeInstanceOf(AgentStoppedError);
  });

  it("fires when a stop's shutdown time runs out", async () => {
    const n = await node(`act${++seq}`, "a");
    const ref = await n.spawn("waiter", { key: "s", shutdownMs: 50 });
    void ref.ask("wait", { timeoutMs: 5000 }).catch(() => undefined);
    await waitFor(() => waiting.has("waiter/s"), "the receive to be waiting");
    await n.stop("waiter/s");
    const seen = await waitFor(() => aftermath.get("waiter/s"), "the receive to see the signal");
    expect((seen.reason as Error).message).toMatch(/not done within shutdown 50 ms/);
  });
});

describe("fencing an activation that is still starting", () => {
  it("signals onStart, waits for it, then runs onStop; the spawn fails instead of reporting a dead agent as running", async () => {
    const ns = `act${++seq}`;
    const a = await node(ns, "a");
    const b = await node(ns, "b");
    starts.length = 0;
    const spawning = a.spawn("gated", { key: "g", node: "a" }).catch((e: unknown) => e);
    await waitFor(() => starts.includes("onStart:begin"), "onStart began");
    // b has taken the agent over (as failover does when a looks gone) and tells a to let go.
    const { Kvm } = await import("@nats-io/kv");
    const kv = await new Kvm(b.connection).open(new Subjects(ns).registryBucket());
    await kv.put("gated.g", encodeValue({ node: "b", since: Date.now(), supervisor: "root", restart: "permanent" }));
    const fenced = (b as unknown as { calls: { control(s: string, body: unknown): Promise<unknown> } }).calls.control(new Subjects(ns).nodeControl("a", "gated"), { op: "fence", id: "gated/g" });
    await fenced;
    await new Promise((r) => setTimeout(r, 50)); // onStop would run now if fencing did not wait for onStart
    expect(starts).toEqual(["onStart:begin"]);
    openGate();
    const err = await spawning;
    expect(err).toBeInstanceOf(AgentFencedError);
    await waitFor(() => starts.length === 3, "onStop after onStart");
    expect(starts).toEqual(["onStart:begin", `onStart:end signal=${AgentFencedError.name}`, "onStop"]);
    await waitFor(async () => !(await a.list()).some((x) => x.id === "gated/g" && x.state === "running"), "no running gated/g on a");
  });
});
