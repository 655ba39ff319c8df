// Durable mailboxes against a real server, at their edges: a light client in a
// namespace whose type directory does not exist yet (nodes of an older
// version) sends to the core mailbox instead of looking the type up forever;
// and asks with keys whose answers are large do not grow the agent's record
// past what the server stores (every later commit failing, the mailbox stuck);
// and a message whose state cannot be committed (too large for the server) is
// tried again and dead-lettered like one whose receive throws, instead of
// failing the agent forever; and an ask from a durable mailbox waiting for the
// commit of a stale activation is answered by the activation that applies it,
// not refused with AgentFencedError (it is applied all the same).

import { afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, useNatsServer } from "./testing/server.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { decodeEnvelope } from "./envelope.js";
import { waitFor } from "./testing/wait.js";
import { recordDeadLetters } from "./testing/supervision.js";
import { recordEvents } from "./testing/events.js";
import { EventKind } from "./events.js";
import { Kvm } from "@nats-io/kv";
import { ledgerAgent, type LedgerMsg, type LedgerState } from "./testing/durable/ledger.js";

const nats = useNatsServer();
const open: Array<TroupeNode | TroupeClient> = [];
afterEach(async () => {
  for (const n of open.splice(0).reverse()) await n.close().catch(() => {});
});

/** A durable agent that answers each ask with `size` characters. */
const big = defineAgent({
  type: "big",
  mailbox: "durable",
  state: () => ({ asked: 0 }),
  receive(msg: { size: number }, ctx) {
    ctx.state.asked++;
    return "x".repeat(msg.size);
  },
});

/** A durable agent that keeps every blob it is told. */
const hoard = defineAgent({
  type: "hoard",
  mailbox: "durable",
  maxDeliver: 2,
  state: () => ({ blobs: [] as string[], n: 0 }),
  receive(msg: { blob?: string; get?: true }, ctx) {
    if (msg.get) return { blobs: ctx.state.blobs.length, n: ctx.state.n };
    if (msg.blob !== undefined) ctx.state.blobs.push(msg.blob);
    ctx.state.n++;
    return null;
  },
});

describe("durable mailboxes at their edges", () => {
  it("a client in a namespace without a type directory sends to the core mailbox", async () => {
    const ns = "rev-notypes";
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n", agents: [] });
    await node.close();
    // The namespace as nodes before durable mailboxes left it: no type directory.
    const nc = await connectTo(nats.url);
    await (await jetstreamManager(nc)).streams.delete(`KV_${new Subjects(ns).typesBucket()}`);
    await nc.close();
    const client = await connectClient({ servers: nats.url, namespace: ns, name: "c" });
    open.push(client);
    const sub = client.connection.subscribe(new Subjects(ns).agent("echo", "e1"), { max: 1 });
    const got = (async () => {
      for await (const m of sub) return decodeEnvelope(m.data, 1 << 20).body;
    })();
    await client.ref("echo", "e1").tell("hello");
    expect(await got).toBe("hello");
  });

  it("keeps asks with keys and large answers answered, and the record within what the server stores", async () => {
    const ns = "rev-bigoutcomes";
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n", agents: [big] });
    open.push(node);
    const ref = await node.spawn<{ size: number }, string>("big", { key: "b1" });
    // 24 answers of 64 KiB: 1.5 MiB of outcomes, past the server's 1 MiB max_payload if all were kept.
    for (let i = 0; i < 24; i++) {
      const answer = await ref.ask({ size: 64 * 1024 }, { id: `ask-${i}`, timeoutMs: 10_000 });
      expect(answer.length).toBe(64 * 1024);
    }
    // A retry of the newest keyed ask is answered from what was kept, not applied again.
    const again = await ref.ask({ size: 64 * 1024 }, { id: "ask-23", timeoutMs: 10_000 });
    expect(again.length).toBe(64 * 1024);
    expect(await ref.ask({ size: 1 }, { timeoutMs: 10_000 })).toBe("x");
  });

  it("dead-letters a message whose state cannot be committed, and goes on", async () => {
    const ns = "rev-toolarge";
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n", agents: [hoard] });
    open.push(node);
    const letters = recordDeadLetters(node, "hoard", "h1");
    const ref = await node.spawn<{ blob?: string; get?: true }>("hoard", { key: "h1" });
    const blob = "b".repeat(400 * 1024);
    await ref.tell({ blob });
    expect(await ref.ask({ get: true })).toEqual({ blobs: 1, n: 1 });
    await ref.tell({ blob });
    expect(await ref.ask({ get: true })).toEqual({ blobs: 2, n: 2 });
    // A third blob makes the state larger than the server stores in one message.
    await ref.tell({ blob });
    await ref.tell({});
    await waitFor(() => letters.length === 1, "the message whose state could not be committed dead-lettered", 30_000);
    expect(letters[0]).toMatchObject({ to: "hoard/h1", deliveries: 2 });
    await waitFor(async () => {
      const got = await ref.ask<{ blobs: number; n: number }>({ get: true }, { timeoutMs: 5_000 }).catch(() => undefined);
      return got?.n === 3 && got.blobs === 2;
    }, "the message after it applied", 30_000);
  }, 60_000);

  it("answers a durable ask that waited for a stale activation's commit from the activation that applies it", async () => {
    const ns = "rev-fenced-ask";
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n", heartbeatMs: 100, agents: [ledgerAgent()] });
    open.push(node);
    const fenced = recordEvents(node, { kind: EventKind.Fenced });
    const ref = await node.spawn<LedgerMsg>("ledger", { key: "z" });
    expect(await ref.ask({ op: "add", id: "m1" })).toBe(1);
    // A newer activation elsewhere committed (the same state): this one's revision is stale now.
    const kv = await new Kvm(node.connection).open(new Subjects(ns).stateBucket());
    const key = new Subjects(ns).stateKey("ledger", "z");
    const e = (await kv.get(key))!;
    await kv.update(key, e.value, e.revision);
    const asked = ref.ask<number>({ op: "add", id: "m2" }, { timeoutMs: 30_000 });
    const settled = asked.then(
      (v) => ({ v }),
      (err: unknown) => ({ err }),
    );
    await waitFor(() => fenced.events.some((f) => f.id === "ledger/z"), "the stale activation fenced");
    // Let go: not running, and its registry claim released (a moment after it stopped).
    await waitFor(async () => !(await node.list()).some((a) => a.id === "ledger/z" && a.state === "running"), "it stopped");
    await waitFor(async () => (await node.whereIs("ledger/z")) === undefined, "its claim released");
    await node.spawn("ledger", { key: "z" });
    // m2 is applied (once) by the next activation, which answers it.
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2"]);
    expect(await settled).toEqual({ v: 2 });
  }, 60_000);
});
