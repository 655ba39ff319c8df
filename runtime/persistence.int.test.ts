// Persisted agent state: written after each change with compare-and-set,
// resumed on start and restart, kept across stop, fenced when stale.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { createMachine, assign } from "xstate";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { counter } from "../actors/builtins.js";
import { AgentFencedError, RemoteError } from "./errors.js";
import { encodeValue } from "./codec.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();

const volatile = defineAgent({
  type: "volatile",
  persist: false,
  state: () => ({ count: 0 }),
  receive(msg: { op: string }, ctx) {
    if (msg.op === "inc") ctx.state.count++;
    return ctx.state.count;
  },
});

const steps = defineAgent({
  type: "steps",
  machine: createMachine({
    id: "steps",
    initial: "a",
    context: { n: 0 },
    states: {
      a: { on: { NEXT: { target: "b", actions: assign({ n: ({ context }) => context.n + 1 }) } } },
      b: { on: { NEXT: { target: "a", actions: assign({ n: ({ context }) => context.n + 1 }) } } },
    },
  }),
});

const fragile = defineAgent({
  type: "fragile",
  state: () => ({ count: 0 }),
  receive(msg: { op: string }, ctx) {
    if (msg.op === "inc") ctx.state.count++;
    if (msg.op === "crash") {
      ctx.state.count = 999; // a change made by the failing message is never committed
      throw new Error("crash");
    }
    return ctx.state.count;
  },
});

describe("persisted state", () => {
  let node: TroupeNode;
  let raw: NatsConnection;
  const events: TroupeEvent[] = [];

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: "p", agents: [counter, volatile, steps, fragile], name: "p1" });
    raw = await connect({ servers: nats.url });
    node.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await node?.close();
    await raw?.close();
  });

  it("keeps state across stop and a later spawn, on another node too", async () => {
    const ref = await node.spawn("counter", { key: "keep" });
    for (let i = 0; i < 5; i++) await ref.tell({ op: "inc" });
    expect(await ref.ask({ op: "get" })).toBe(5);
    expect(await node.persistedState("counter/keep")).toMatchObject({ value: { count: 5 } });
    await node.stop(ref);
    const again = await node.spawn("counter", { key: "keep" });
    expect(await again.ask({ op: "inc" })).toBe(6);
    await node.stop(again);

    const second = await startNode({ servers: nats.url, namespace: "p", agents: [counter], name: "p2" });
    try {
      const moved = await second.spawn("counter", { key: "keep" });
      expect(await moved.ask({ op: "get" })).toBe(6);
      await second.stop(moved);
    } finally {
      await second.close();
    }
  });

  it("answers an ask only after the state it produced is committed", async () => {
    const ref = await node.spawn("counter", { key: "commit" });
    const answers = await Promise.all(Array.from({ length: 50 }, () => ref.ask<number>({ op: "inc" })));
    expect(answers.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // every answered value is durable: the stored revision holds at least the highest answer
    const stored = await node.persistedState("counter/commit");
    expect(stored?.value).toEqual({ count: 50 });
    await node.stop(ref);
  });

  it("resumes a restarted agent from its last committed state, without the failing message's change", async () => {
    const ref = await node.spawn("fragile", { key: "f" });
    await ref.ask({ op: "inc" });
    await ref.ask({ op: "inc" });
    await expect(ref.ask({ op: "crash" })).rejects.toBeInstanceOf(RemoteError);
    await waitFor(async () => (await ref.ask({ op: "get" }).catch(() => -1)) === 2, "fragile/f restarted with count 2");
    const [row] = (await node.list()).filter((a) => a.id === "fragile/f");
    expect(row!.restarts).toBe(1);
    await node.stop(ref);
  });

  it("starts afresh after its state is deleted, and persists again", async () => {
    const ref = await node.spawn("counter", { key: "wipe" });
    await ref.ask({ op: "inc", by: 4 });
    await node.stop(ref);
    await node.deleteState("counter/wipe");
    expect(await node.persistedState("counter/wipe")).toBeUndefined();
    const again = await node.spawn("counter", { key: "wipe" });
    expect(await again.ask({ op: "inc" })).toBe(1);
    expect((await node.persistedState("counter/wipe"))?.value).toEqual({ count: 1 });
    await node.stop(again);
  });

  it("starts a persist:false agent from state(args) again", async () => {
    const ref = await node.spawn("volatile", { key: "v" });
    await ref.ask({ op: "inc" });
    await node.stop(ref);
    const again = await node.spawn("volatile", { key: "v" });
    expect(await again.ask({ op: "get" })).toBe(0);
    expect(await node.persistedState("volatile/v")).toBeUndefined();
    await node.stop(again);
  });

  it("persists an XState agent's snapshot and resumes it", async () => {
    const ref = await node.spawn("steps", { key: "m" });
    await ref.ask({ type: "NEXT" });
    expect(await ref.ask({ type: "NEXT" })).toMatchObject({ value: "a", context: { n: 2 } });
    await node.stop(ref);
    const again = await node.spawn("steps", { key: "m" });
    expect(await again.ask({ type: "NEXT" })).toMatchObject({ value: "b", context: { n: 3 } });
    const stored = (await node.persistedState("steps/m"))?.value as { v: number };
    expect(stored.v).toBe(1);
    await node.stop(again);
  });

  it("fences a stale activation: its write loses compare-and-set, it stops and says so", async () => {
    const ref = await node.spawn("counter", { key: "fence" });
    expect(await ref.ask({ op: "inc" })).toBe(1);
    // Another activation (elsewhere) moved the state forward behind this one's back.
    const kv = await new Kvm(raw).open("troupe_p_state");
    await kv.put("counter.fence", encodeValue({ count: 100 }));
    const err = await ref.ask({ op: "inc" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentFencedError);
    await waitFor(() => events.some((e) => e.id === "counter/fence" && e.kind === "fenced"), "fenced event");
    await waitFor(async () => !(await node.list()).some((a) => a.id === "counter/fence"), "fenced agent gone from the list");
    expect((await node.persistedState("counter/fence"))?.value).toEqual({ count: 100 });
  });
});
