// Virtual agents (activation: "on-demand"): every id is addressable; the
// first message activates the agent on a node of its type's pool, resuming
// its persisted state; an idle agent is passivated and comes back on the
// next message; first messages from several nodes at once make one activation.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { connectClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { AgentNotFoundError, InvalidConfigError } from "./errors.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { decodeValue } from "./codec.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();

/** A conversation-like agent: counts what it was told, remembers every node it was activated on. */
function talker(idleTimeoutMs: number) {
  return defineAgent({
    type: "talker",
    activation: "on-demand",
    idleTimeoutMs,
    state: () => ({ count: 0, told: 0, activations: [] as string[] }),
    onStart(ctx) {
      ctx.state.activations.push(ctx.node);
    },
    receive(msg: { op: "inc" } | { op: "get" } | { op: "note" }, ctx) {
      if (msg.op === "inc") ctx.state.count++;
      if (msg.op === "note") ctx.state.told++;
      // A copy: the answer is encoded once the state is committed, and later messages change the state.
      return { ...ctx.state, activations: [...ctx.state.activations] };
    },
  });
}

const spawnOnly = defineAgent({ type: "spawnonly", state: () => ({}), receive: () => "hi" });

describe("virtual agents", () => {
  let a: TroupeNode;
  let b: TroupeNode;
  let raw: NatsConnection;
  const events: TroupeEvent[] = [];

  beforeAll(async () => {
    a = await startNode({ servers: nats.url, namespace: "va", name: "va-a", agents: [talker(300), spawnOnly] });
    b = await startNode({ servers: nats.url, namespace: "va", name: "va-b", agents: [talker(300), spawnOnly] });
    raw = await connect({ servers: nats.url });
    a.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await raw?.close();
  });

  it("activates an agent that runs nowhere on its first ask, and it passivates when idle and resumes its state", async () => {
    expect(await a.whereIs("talker/u1")).toBeUndefined();
    const first = await a.ref("talker", "u1").ask<{ count: number }>({ op: "inc" });
    expect(first.count).toBe(1);
    const where = await a.whereIs("talker/u1");
    expect(["va-a", "va-b"]).toContain(where);
    await waitFor(() => events.some((e) => e.kind === "activated" && e.id === "talker/u1" && e.node === where), "activated event");

    // Idle for longer than its timeout: passivated (claim released, nothing in memory).
    await waitFor(async () => (await a.whereIs("talker/u1")) === undefined, "talker/u1 passivated", 10_000);
    expect([...(await a.list()), ...(await b.list())].some((i) => i.id === "talker/u1")).toBe(false);
    await waitFor(() => events.some((e) => e.kind === "passivated" && e.id === "talker/u1"), "passivated event");
    expect(await a.persistedState("talker/u1")).toMatchObject({ value: { count: 1 } });

    // The next message brings it back, with its state.
    const again = await b.ref("talker", "u1").ask<{ count: number; activations: string[] }>({ op: "inc" });
    expect(again.count).toBe(2);
    expect(again.activations).toHaveLength(2);
  });

  it("activates on a tell too, and keeps the order of a sender's tells", async () => {
    const ref = a.ref("talker", "t1");
    for (let i = 0; i < 50; i++) await ref.tell({ op: "note" });
    const state = await ref.ask<{ told: number; activations: string[] }>({ op: "get" });
    expect(state.told).toBe(50);
    expect(state.activations).toHaveLength(1);
    expect(a.stats().undeliveredTells).toBe(0);
  });

  it("makes one activation for first messages from several nodes and clients at once", async () => {
    const client = await connectClient({ servers: nats.url, namespace: "va" });
    try {
      const asks = [a, b, client].flatMap((sender) => Array.from({ length: 10 }, () => sender.ref("talker", "crowd").ask<{ count: number }>({ op: "inc" })));
      const counts = (await Promise.all(asks)).map((s) => s.count).sort((x, y) => x - y);
      expect(counts).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const state = await a.ref("talker", "crowd").ask<{ activations: string[] }>({ op: "get" });
      expect(state.activations).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("answers AgentNotFoundError for a spawn-only type that runs nowhere, and keeps spawn working for both kinds", async () => {
    await expect(a.ref("spawnonly", "x").ask("hi")).rejects.toBeInstanceOf(AgentNotFoundError);
    const spawned = await a.spawn("talker", { key: "spawned" });
    expect((await spawned.ask<{ count: number }>({ op: "inc" })).count).toBe(1);
    expect(await a.whereIs("talker/spawned")).toBe("va-a");
  });

  it("refuses an activation request from the wire with a typed error when it is malformed", async () => {
    const bad = encodeEnvelope(Kind.System, "m1", null, null, { op: "activate", type: "talker", key: "no spaces allowed" }, 1 << 20);
    const reply = await raw.request("troupe.va.pool.talker.activate", bad, { timeout: 2000 });
    const decoded = decodeValue(reply.data) as unknown[];
    expect(JSON.stringify(decoded)).toContain("InvalidArgument");
    // And the nodes keep answering.
    expect((await a.ref("talker", "after-bad").ask<{ count: number }>({ op: "inc" })).count).toBe(1);
  });

  it("records the activation mode in the types bucket so every sender routes the same way", async () => {
    const kv = await new Kvm(raw).open("troupe_va_types");
    const entry = await kv.get("talker");
    expect(decodeValue(entry!.value)).toEqual({ mailbox: "core", activation: "on-demand" });
  });

  it("loses nothing while an agent passivates and activates again and again under traffic", async () => {
    const churn = defineAgent({
      type: "churn",
      activation: "on-demand",
      idleTimeoutMs: 20,
      state: () => ({ count: 0, told: 0, activations: 0 }),
      onStart(ctx) {
        ctx.state.activations++;
      },
      receive(msg: { op: "inc" | "note" | "get" }, ctx) {
        if (msg.op === "inc") ctx.state.count++;
        if (msg.op === "note") ctx.state.told++;
        return { ...ctx.state };
      },
    });
    const c1 = await startNode({ servers: nats.url, namespace: "va-churn", name: "c1", agents: [churn] });
    const c2 = await startNode({ servers: nats.url, namespace: "va-churn", name: "c2", agents: [churn] });
    try {
      let asked = 0;
      let told = 0;
      for (let round = 0; round < 40; round++) {
        const sender = round % 2 === 0 ? c1 : c2;
        const ref = sender.ref("churn", "k");
        await ref.tell({ op: "note" });
        told++;
        const s = await ref.ask<{ count: number }>({ op: "inc" });
        asked++;
        expect(s.count).toBe(asked);
        // Sometimes quiet long enough to be passivated, sometimes not.
        await new Promise((r) => setTimeout(r, (round * 7) % 60));
      }
      const last = await c1.ref("churn", "k").ask<{ count: number; told: number; activations: number }>({ op: "get" });
      expect(last.count).toBe(asked);
      expect(last.told).toBe(told);
      expect(last.activations).toBeGreaterThan(1);
      expect(c1.stats().undeliveredTells + c2.stats().undeliveredTells).toBe(0);
    } finally {
      await c1.close();
      await c2.close();
    }
  });

  it("node.activate starts an on-demand agent and says where; a spawn-only one must be running", async () => {
    const node = await a.activate("talker/act");
    expect(["va-a", "va-b"]).toContain(node);
    expect(await a.whereIs("talker/act")).toBe(node);
    await expect(a.activate("spawnonly/none")).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("rejects options that do not fit together", () => {
    expect(() => defineAgent({ type: "x", idleTimeoutMs: 5, receive: () => 1 })).toThrow(InvalidConfigError);
    expect(() => defineAgent({ type: "x", activation: "sometimes" as never, receive: () => 1 })).toThrow(InvalidConfigError);
    expect(() => defineAgent({ type: "x", activation: "on-demand", mailbox: "durable", receive: () => 1 })).toThrow(InvalidConfigError);
  });
});
