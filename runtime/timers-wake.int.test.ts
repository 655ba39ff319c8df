// Durable timers of agents that are not running when they come due: a
// passivated on-demand agent is woken through the wake index and fires once;
// a node that dies hard has its spawned agents adopted by a peer, whose
// activation fires what is due, once in the persisted state even when the
// dead node had started handling the timer's message but never committed it;
// a durable-mailbox agent keeps its timers in its durable record.

import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { defineAgent, startNode, type TroupeNode } from "../actors/index.js";
import { FakeClock, waitFor } from "./testing/index.js";
import { useNatsServer } from "./testing/vitest.js";
import { decodeValue } from "./codec.js";
import { Subjects } from "./subjects.js";
import type { TimerWhen } from "./timer-table.js";

const nats = useNatsServer();

const T0 = Date.UTC(2026, 0, 1);
let clock: FakeClock;
/** Receives of timer messages, by agent id: how often each one's receive ran (committed or not). */
const runs = new Map<string, number>();
/** When set, a timer's receive on this node waits for the test (the crash between firing and commit). */
let holdOn: string | undefined;
let held: Array<() => void> = [];

type Msg = { op: "schedule"; name: string; when: TimerWhen } | { op: "tick" } | { op: "get" };

function timerAgent(type: string, extra: Record<string, unknown>) {
  return defineAgent({
    type,
    ...extra,
    state: () => ({ fired: [] as string[] }),
    receive(msg: Msg, ctx) {
      if (msg.op === "schedule") {
        ctx.schedule(msg.name, msg.when, { op: "tick" });
        return ctx.timers();
      }
      if (msg.op === "get") return { fired: [...ctx.state.fired], timers: ctx.timers() };
      runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
      // The name only: when the receive runs depends on how far the fake clock moved meanwhile.
      ctx.state.fired.push(String(ctx.timer));
      if (holdOn === ctx.node) return new Promise<null>((resolve) => held.push(() => resolve(null)));
      return null;
    },
  });
}

const napper = timerAgent("napper", { activation: "on-demand", idleTimeoutMs: 400 });
const keeper = timerAgent("keeper", {});
const ledger = timerAgent("dledger", { mailbox: "durable" });

const nodes: TroupeNode[] = [];
afterEach(async () => {
  for (const h of held) h();
  held = [];
  holdOn = undefined;
  for (const n of nodes.splice(0)) await n.close().catch(() => {});
});

let seq = 0;
async function cluster(names: string[], heartbeatMs = 100): Promise<TroupeNode[]> {
  clock = new FakeClock(T0);
  const namespace = `tw-${process.pid}-${++seq}`;
  const out: TroupeNode[] = [];
  for (const name of names) {
    const n = await startNode({ servers: nats.url, namespace, name, agents: [napper, keeper, ledger], clock, heartbeatMs });
    nodes.push(n);
    out.push(n);
  }
  return out;
}

/** Move the fake clock in small steps, letting real I/O (commits, heartbeats, watches) keep up, until `done`. */
async function advanceUntil(ms: number, step: number, done?: () => Promise<boolean>): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(step);
    await new Promise((r) => setTimeout(r, 5));
    if (done && (await done())) return;
  }
}

/** The process "dies": its connection drops, no graceful close (closing it afterwards would wait on the fake clock for JetStream retries). */
async function kill(n: TroupeNode): Promise<void> {
  nodes.splice(nodes.indexOf(n), 1);
  await n.connection.close();
}

const persisted = async (n: TroupeNode, id: string): Promise<string[]> => ((await n.persistedState(id))?.value as { fired?: string[] } | undefined)?.fired ?? [];

describe("durable timers of agents that are not running", () => {
  it("wakes a passivated on-demand agent through the wake index, and it fires once", async () => {
    const [a, b] = await cluster(["wa", "wb"]);
    await a.ref("napper", "n1").ask({ op: "schedule", name: "later", when: { afterMs: 5_000 } });
    // Idle past its timeout: passivated, running nowhere.
    await advanceUntil(3_000, 100, async () => (await a.whereIs("napper/n1")) === undefined);
    expect(await a.whereIs("napper/n1")).toBeUndefined();
    const kv = await new Kvm(a.connection).open(new Subjects(a.namespace).timersBucket());
    const entry = await kv.get("napper.n1");
    expect(decodeValue(entry!.value)).toBe(T0 + 5_000);
    expect(await persisted(a, "napper/n1")).toEqual([]);

    // Due: a node of its pool wakes it, its activation fires the timer; then it passivates again.
    await advanceUntil(5_000, 100, async () => (await persisted(b, "napper/n1")).length > 0);
    expect(await persisted(b, "napper/n1")).toEqual(["later"]);
    await advanceUntil(3_000, 100, async () => (await a.whereIs("napper/n1")) === undefined && (await kv.get("napper.n1"))?.operation !== "PUT");
    expect(await a.whereIs("napper/n1")).toBeUndefined();
    // No timers left: the index entry is gone, and nothing wakes it again.
    expect((await kv.get("napper.n1"))?.operation).not.toBe("PUT");
    await advanceUntil(2_000, 200);
    expect(await persisted(a, "napper/n1")).toEqual(["later"]);
    expect(runs.get("napper/n1")).toBe(1);
  });

  it("fires the timers of a node that died hard on the peer that adopts its agents, once", async () => {
    const [doomed, peer] = await cluster(["fd", "fp"]);
    const ref = await doomed.spawn("keeper", { key: "k1", node: "fd" });
    await ref.ask({ op: "schedule", name: "t", when: { afterMs: 3_000 } });
    await kill(doomed);
    await advanceUntil(10_000, 100, async () => (await peer.whereIs("keeper/k1")) === "fp" && (await persisted(peer, "keeper/k1")).length > 0);
    expect(await peer.whereIs("keeper/k1")).toBe("fp");
    expect(await persisted(peer, "keeper/k1")).toEqual(["t"]);
    await advanceUntil(2_000, 200);
    expect(await persisted(peer, "keeper/k1")).toEqual(["t"]);
  });

  it("fires a timer again on the adopting peer when the dead node handled its message but never committed it: once in the state", async () => {
    const [doomed, peer] = await cluster(["cd", "cp"]);
    const ref = await doomed.spawn("keeper", { key: "k2", node: "cd" });
    await ref.ask({ op: "schedule", name: "t", when: { afterMs: 1_000 } });
    holdOn = "cd";
    await advanceUntil(2_000, 100, async () => held.length > 0);
    expect(held).toHaveLength(1);
    // The receive ran on the doomed node; it dies before its commit.
    await kill(doomed);
    held.shift()!();
    await advanceUntil(10_000, 100, async () => (await persisted(peer, "keeper/k2")).length > 0);
    expect(runs.get("keeper/k2")).toBe(2);
    expect(await persisted(peer, "keeper/k2")).toHaveLength(1);
    await advanceUntil(2_000, 200);
    expect(await persisted(peer, "keeper/k2")).toHaveLength(1);
  });

  it("keeps a durable-mailbox agent's timers in its durable record, across a restart", async () => {
    const [a] = await cluster(["da"]);
    const ref = await a.spawn("dledger", { key: "d1" });
    await ref.ask({ op: "schedule", name: "x", when: { every: 1_000 } });
    await a.kill("dledger/d1", "test");
    await waitFor(async () => (await a.list()).some((i) => i.id === "dledger/d1" && i.state === "running" && i.restarts === 1), "restarted");
    // ["troupe/durable", 1, state, seq, failing, outcomes, timers]
    const record = async () => (await a.persistedState("dledger/d1"))!.value as unknown[];
    const fired = async () => (decodeValue((await record())[2] as Uint8Array) as { fired: string[] }).fired;
    await advanceUntil(1_000, 100);
    await waitFor(async () => (await fired()).length === 1, "fired once");
    expect(await fired()).toEqual(["x"]);
    const stored = await record();
    expect(stored[0]).toBe("troupe/durable");
    expect(stored).toHaveLength(7);
    expect((await ref.ask<{ timers: unknown[] }>({ op: "get" })).timers).toEqual([{ name: "x", kind: "every", due: T0 + 2_000, attempts: 0 }]);
  });
});
