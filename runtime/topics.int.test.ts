// Topics against a live server: declared and run-time subscriptions, NATS
// wildcards, order per publisher, subscriptions kept across a kill and a
// failover, unsubscribe, durable catch-up after downtime (each message once),
// hostile messages from a raw client, and bad names.

import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeValue } from "./codec.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { defineTopic } from "./define-topic.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { InvalidArgumentError, InvalidConfigError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();

interface Got {
  topic: string | undefined;
  sender: string | null;
  body: unknown;
}

/** Records every topic message; an ask with no topic is a query of what it got (or a command). */
const collector = defineAgent({
  type: "collector",
  persist: false,
  subscribe: ["orders.*"],
  state: (): { got: Got[] } => ({ got: [] }),
  async receive(msg: { op?: string; topic?: string } | unknown, ctx) {
    if (ctx.topic !== undefined) {
      ctx.state.got.push({ topic: ctx.topic, sender: ctx.sender, body: msg });
      return undefined;
    }
    const m = msg as { op: string; topic: string };
    if (m.op === "sub") return ctx.subscribe(m.topic);
    if (m.op === "unsub") return ctx.unsubscribe(m.topic);
    if (m.op === "pub") return ctx.publish(m.topic, { from: ctx.id });
    return ctx.state.got;
  },
});

/** Takes only `{ n: number }` (its schema), on `audit.>`. */
const strict = defineAgent({
  type: "strict",
  persist: false,
  subscribe: ["audit.>", "audit.*"],
  schema: (m: unknown) => {
    if (m === null || typeof m !== "object" || typeof (m as { n?: unknown }).n !== "number") throw new Error("n must be a number");
    return m as { n: number };
  },
  state: (): { got: Got[] } => ({ got: [] }),
  receive(msg: { n: number }, ctx) {
    if (ctx.topic !== undefined) ctx.state.got.push({ topic: ctx.topic, sender: ctx.sender, body: msg });
    return ctx.state.got;
  },
});

const got = (node: TroupeNode | TroupeClient, key: string, type = "collector"): Promise<Got[]> =>
  node.ref(type, key).ask<Got[]>((type === "strict" ? { n: 0 } : { op: "get" }) as never, { timeoutMs: 3000 }) as Promise<Got[]>;

describe("core topics", () => {
  const ns = "topics";
  let node: TroupeNode;
  let client: TroupeClient;
  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: ns, name: "t1", agents: [collector, strict], failover: false, maxMessageBytes: 64 * 1024 });
    client = await connectClient({ servers: nats.url, namespace: ns, name: "pub" });
    for (const k of ["a", "b", "c"]) await node.spawn("collector", { key: k });
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await node?.close();
  });

  it("delivers to every declared subscriber through its mailbox, with ctx.topic and ctx.sender", async () => {
    await node.publish("orders.placed", { id: 1 });
    await client.publish("orders.shipped", { id: 2 });
    await node.publish("orders.placed.eu", { id: 3 }); // "*" is one token: not delivered
    await node.publish("invoices.sent", { id: 4 });
    for (const k of ["a", "b", "c"]) {
      const seen = await waitFor(async () => ((await got(node, k)).length >= 2 ? got(node, k) : undefined), `collector/${k} got both`);
      // Two publishers: no order between them, only per publisher.
      expect([...seen].sort((x, y) => (x.body as { id: number }).id - (y.body as { id: number }).id)).toEqual([
        { topic: "orders.placed", sender: "node:t1", body: { id: 1 } },
        { topic: "orders.shipped", sender: "client:pub", body: { id: 2 } },
      ]);
    }
  });

  it("keeps the order of each publisher", async () => {
    await node.spawn("collector", { key: "order" });
    for (let i = 0; i < 300; i++) void client.publish("orders.seq", { i });
    await waitFor(async () => (await got(node, "order")).length === 300, "300 in order");
    expect((await got(node, "order")).map((g) => (g.body as { i: number }).i)).toEqual([...Array(300).keys()]);
  });

  it("takes run-time subscriptions with wildcards, once per message even when patterns overlap, and unsubscribes", async () => {
    const ref = node.ref("collector", "rt");
    await node.spawn("collector", { key: "rt" });
    await ref.ask({ op: "sub", topic: "metrics.>" });
    await ref.ask({ op: "sub", topic: "metrics.*.cpu" });
    await node.publish("metrics.h1.cpu", 1);
    await node.publish("metrics.h1.mem.free", 2);
    await waitFor(async () => (await got(node, "rt")).length >= 2, "two metrics");
    // A sentinel behind them: nothing else came (no duplicate of the overlapping one).
    await node.publish("orders.sentinel", 0);
    await waitFor(async () => (await got(node, "rt")).some((g) => g.topic === "orders.sentinel"), "sentinel");
    expect((await got(node, "rt")).map((g) => g.topic)).toEqual(["metrics.h1.cpu", "metrics.h1.mem.free", "orders.sentinel"]);

    await ref.ask({ op: "unsub", topic: "metrics.>" });
    await ref.ask({ op: "unsub", topic: "orders.*" }); // declared by the type: left by this agent only
    await node.publish("metrics.h2.mem", 3);
    await node.publish("metrics.h2.cpu", 4);
    await node.publish("orders.after", 5);
    await waitFor(async () => (await got(node, "rt")).length >= 4, "cpu after unsubscribe");
    await node.publish("metrics.h3.cpu", 6);
    await waitFor(async () => (await got(node, "rt")).length >= 5, "second cpu");
    expect((await got(node, "rt")).slice(3).map((g) => g.body)).toEqual([4, 6]);
    // Others of the type still take orders.*.
    await waitFor(async () => (await got(node, "a")).some((g) => g.topic === "orders.after"), "collector/a still subscribed");
  });

  it("keeps run-time subscriptions across a kill (restart)", async () => {
    const ref = node.ref("collector", "k");
    await node.spawn("collector", { key: "k" });
    await ref.ask({ op: "sub", topic: "alerts.*" });
    await node.kill("collector/k");
    await waitFor(async () => (await node.list()).find((a) => a.id === "collector/k" && a.state === "running" && a.restarts >= 1), "restarted");
    await node.publish("alerts.fire", "!");
    await waitFor(async () => (await got(node, "k")).some((g) => g.topic === "alerts.fire"), "alert after restart");
  });

  it("forgets an agent's run-time subscriptions when its state is deleted: a new agent with its id starts from nothing", async () => {
    const ref = node.ref("collector", "gone");
    await node.spawn("collector", { key: "gone" });
    await ref.ask({ op: "sub", topic: "weather.*" });
    await node.stop("collector/gone");
    await node.deleteState("collector/gone");
    await node.spawn("collector", { key: "gone" });
    await node.publish("weather.rain", "wet");
    await node.publish("orders.marker", "after");
    // The declared pattern still delivers (the marker), the deleted run-time one does not.
    await waitFor(async () => (await got(node, "gone")).some((g) => g.topic === "orders.marker"), "the marker");
    expect((await got(node, "gone")).map((g) => g.topic)).toEqual(["orders.marker"]);
  });

  it("lets agents publish, as themselves", async () => {
    await node.spawn("collector", { key: "p" });
    await node.ref("collector", "p").ask({ op: "pub", topic: "orders.from-agent" });
    await waitFor(async () => (await got(node, "a")).some((g) => g.topic === "orders.from-agent" && g.sender === "collector/p"), "agent's publish");
  });

  it("refuses bad topic names with InvalidArgumentError naming them", async () => {
    for (const bad of ["", "a..b", "a b", "orders.*", "orders.>", "a.>.b"]) {
      await expect(node.publish(bad, 1)).rejects.toThrow(InvalidArgumentError);
    }
    await expect(node.publish("a..b", 1)).rejects.toThrow(/"a\.\.b"/);
    await expect(node.ref("collector", "a").ask({ op: "sub", topic: "a.>.b" })).rejects.toThrow(/a\.>\.b/);
    expect(() => defineAgent({ type: "x", subscribe: ["ok", "not ok"], receive: () => 0 })).toThrow(InvalidConfigError);
    expect(() => defineAgent({ type: "x", subscribe: [defineTopic({ name: "d", durable: true })], receive: () => 0 })).toThrow(/mailbox: "durable"/);
  });

  describe("hostile messages from a raw client", () => {
    let raw: NatsConnection;
    const subjects = new Subjects(ns);
    beforeAll(async () => {
      raw = await connectTo(nats.url, "raw");
      for (const k of ["s1", "s2"]) await node.spawn("strict", { key: k });
      await node.spawn("collector", { key: "h" });
      await node.ref("collector", "h").ask({ op: "sub", topic: "audit.*" });
    });
    afterAll(async () => {
      await raw?.close();
    });

    it("dead-letters each once on the node (a schema failure once per type), and the others go on", async () => {
      raw.publish(subjects.topic("audit.x"), new Uint8Array([0xc1, 0xff, 0x00]));
      raw.publish(subjects.topic("audit.x"), encodeValue([1, Kind.Ask, "id1", "raw", null, { n: 1 }]));
      raw.publish(subjects.topic("audit.x"), new Uint8Array(100_000));
      raw.publish(subjects.topic("audit.x"), encodeEnvelope(Kind.Tell, "id2", "raw", null, { n: "nope" }, 1 << 20));
      raw.publish(subjects.topic("audit.x"), encodeEnvelope(Kind.Tell, "id3", "raw", null, { n: 7 }, 1 << 20));
      await raw.flush();
      // The strict ones got the good message once (audit.> and audit.* overlap), the collector got it and the schema-less one.
      for (const k of ["s1", "s2"]) {
        await waitFor(async () => (await got(node, k, "strict")).length === 1, `strict/${k} got the good one`);
        expect(await got(node, k, "strict")).toEqual([{ topic: "audit.x", sender: "raw", body: { n: 7 } }]);
      }
      await waitFor(async () => (await got(node, "h")).filter((g) => g.topic === "audit.x").length === 2, "collector/h got the two tells");
      // Each refused message is dead-lettered once on the node, not once per subscriber; a schema failure once per type.
      const letters = await waitFor(async () => {
        const l = await client.deadLetters.list({ limit: 50 });
        return l.total >= 4 ? l : undefined;
      }, "the node's dead letters");
      await new Promise((r) => setTimeout(r, 300)); // none more is coming
      const reasons = (await client.deadLetters.list({ limit: 50 })).letters.map((l) => (l.kind === "letter" ? l.reason : "")).filter((r) => r.includes("audit.x"));
      expect(letters.total).toBeGreaterThanOrEqual(4);
      expect(reasons.filter((r) => /tells only/.test(r))).toHaveLength(1);
      expect(reasons.filter((r) => /schema of strict/.test(r))).toHaveLength(1);
      expect(reasons.filter((r) => /decode|MessagePack|envelope/i.test(r))).toHaveLength(1);
      expect(reasons.filter((r) => /over the 65536-byte limit/.test(r))).toHaveLength(1);
      expect(reasons.find((r) => /tells only/.test(r))).toMatch(/^invalid message: a topic takes tells only \(on topic audit.x, meant for \d+ subscribers on this node; dead-lettered once\)$/);
      expect(reasons, reasons.join("\n")).toHaveLength(4);
      expect(await node.ref("collector", "a").ask({ op: "get" } as never, { timeoutMs: 3000 })).toBeDefined();
    });
  });
});

describe("subscriptions across failover", () => {
  it("a node adopting the agent takes its run-time subscriptions", async () => {
    const opts = { servers: nats.url, namespace: "topicsfo", agents: [collector], heartbeatMs: 100 };
    const doomed = await startNode({ ...opts, name: "doomed" });
    const survivor = await startNode({ ...opts, name: "survivor" });
    try {
      await doomed.spawn("collector", { key: "f" });
      await doomed.ref("collector", "f").ask({ op: "sub", topic: "news.>" });
      await doomed.connection.close();
      await waitFor(async () => (await survivor.whereIs("collector/f")) === "survivor", "adopted");
      await waitFor(async () => {
        await survivor.publish("news.today", "hello");
        return (await got(survivor, "f")).some((g) => g.topic === "news.today");
      }, "news after failover");
      const topics = (await got(survivor, "f")).map((g) => g.topic);
      expect(topics.every((t) => t === "news.today")).toBe(true);
    } finally {
      await survivor.close();
      await doomed.close().catch(() => {});
    }
  }, 30_000);
});

describe("durable topics", () => {
  const orders = defineTopic({ name: "orders.>", durable: true });
  const placed = defineTopic({ name: "orders.placed", durable: true });
  const ledger = defineAgent({
    type: "ledger",
    mailbox: "durable",
    subscribe: [orders],
    state: (): { ids: number[]; topics: string[] } => ({ ids: [], topics: [] }),
    receive(msg: { id: number } | { op: "get" }, ctx) {
      if (ctx.topic !== undefined) {
        ctx.state.ids.push((msg as { id: number }).id);
        ctx.state.topics.push(ctx.topic);
        return undefined;
      }
      return ctx.state;
    },
  });

  it("a subscriber that was down gets what it missed, each message once", async () => {
    const opts = { servers: nats.url, namespace: "dtopics", agents: [ledger], failover: false };
    const client = await connectClient({ servers: nats.url, namespace: "dtopics", name: "shop" });
    let node = await startNode({ ...opts, name: "n1" });
    try {
      await node.spawn("ledger", { key: "l1" });
      const read = () => node.ref("ledger", "l1").ask<{ ids: number[]; topics: string[] }>({ op: "get" } as never, { timeoutMs: 3000 });
      for (let i = 1; i <= 5; i++) await client.publish(placed, { id: i });
      await waitFor(async () => (await read()).ids.length === 5, "first five");
      // The node goes away (its agent with it); orders keep coming.
      await node.close();
      for (let i = 6; i <= 20; i++) await client.publish(placed, { id: i });
      node = await startNode({ ...opts, name: "n1" });
      await node.spawn("ledger", { key: "l1" });
      await waitFor(async () => (await read()).ids.length >= 20, "caught up");
      const state = await read();
      expect(state.ids).toEqual([...Array(20).keys()].map((i) => i + 1));
      expect(new Set(state.topics)).toEqual(new Set(["orders.placed"]));
      // Killed and restarted: it goes on from its place, nothing applied twice.
      await node.kill("ledger/l1");
      await client.publish(placed, { id: 21 });
      await waitFor(async () => (await read()).ids.length >= 21, "after the kill");
      expect((await read()).ids.slice(-2)).toEqual([20, 21]);
      // Killed while a stream of orders is forwarded: each arrives once, in order.
      const sending = (async () => {
        for (let i = 22; i <= 150; i++) await client.publish(placed, { id: i });
      })();
      await waitFor(async () => (await read()).ids.length >= 40, "forwarding under way");
      await node.kill("ledger/l1");
      await sending;
      await waitFor(async () => (await read()).ids.length >= 150, "all 150");
      expect((await read()).ids).toEqual([...Array(150).keys()].map((i) => i + 1));
    } finally {
      await client.close();
      await node.close();
    }
  }, 60_000);

  it("refuses a durable subscription for a core mailbox", async () => {
    expect(() => defineAgent({ type: "bad", subscribe: [orders], receive: () => 0 })).toThrow(InvalidConfigError);
  });
});
