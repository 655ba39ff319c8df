// Durable mailboxes against a real server: a tell resolves once stored and is
// applied once; an ask is stored and answered; the agent resumes after its
// committed place across restarts and respawns; a failing message is tried
// again from the last commit (what it half-changed is not kept), then
// dead-lettered with its delivery count; a retried tell id is stored once and
// a retried ask key is answered from the stored outcome.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { recordDeadLetters, recordEvents } from "./testing/supervision.js";
import { Kvm } from "@nats-io/kv";
import { encodeValue } from "./codec.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { InvalidConfigError, RemoteError } from "./errors.js";
import { Subjects } from "./subjects.js";
import { decodeEnvelope, encodeEnvelope, Kind } from "./envelope.js";

const nats = useNatsServer();

type Msg = { op: "add"; n: number } | { op: "get" } | { op: "poison" } | { op: "flaky"; failures: number };

/** A durable tally; `poison` half-changes the state, then throws; `flaky` throws its first `failures` tries. */
const tally = defineAgent({
  type: "tally",
  mailbox: "durable",
  maxDeliver: 3,
  state: () => ({ sum: 0, seen: 0 }),
  receive(msg: Msg, ctx) {
    ctx.state.seen++;
    switch (msg.op) {
      case "add":
        ctx.state.sum += msg.n;
        return ctx.state.sum;
      case "get":
        return ctx.state;
      case "poison":
        ctx.state.sum += 1_000_000;
        throw new Error("poisoned");
      case "flaky":
        if (ctries.get(ctx.key) === undefined) ctries.set(ctx.key, 0);
        if (ctries.get(ctx.key)! < msg.failures) {
          ctries.set(ctx.key, ctries.get(ctx.key)! + 1);
          throw new Error("not yet");
        }
        return "done";
    }
  },
});
const ctries = new Map<string, number>();

describe("durable mailboxes", () => {
  let node: TroupeNode;
  let raw: NatsConnection;
  const ns = "dur";

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: ns, name: "d1", agents: [tally] });
    raw = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await node?.close();
    await raw?.close();
  });

  it("keeps what a message on its core subject changed (from a sender that took the type for core)", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "core" });
    await ref.tell({ op: "add", n: 2 });
    await ref.ask({ op: "get" }); // the two paths are not ordered with each other
    const core = new Subjects(ns).agent("tally", "core");
    const reply = await raw.request(core, encodeEnvelope(Kind.Ask, "raw-1", null, null, { op: "add", n: 3 }, 1 << 20));
    expect(decodeEnvelope(reply.data, 1 << 20).body).toBe(5);
    await ref.tell({ op: "add", n: 1 });
    await node.stop("tally/core");
    await node.spawn("tally", { key: "core" });
    expect(await ref.ask({ op: "get" })).toMatchObject({ sum: 6 });
  });

  it("leaves fenced, not restarted, when a failure's rollback finds the state taken by another writer", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "taken" });
    await ref.tell({ op: "add", n: 1 });
    await ref.ask({ op: "get" }); // committed
    const kv = await new Kvm(raw).open(new Subjects(ns).stateBucket());
    await kv.put(new Subjects(ns).stateKey("tally", "taken"), encodeValue({ sum: 42, seen: 0 }));
    const events = recordEvents(node);
    await ref.tell({ op: "poison" });
    await waitFor(() => events.some((e) => e.kind === "child_stopped" && e.id === "tally/taken"), "the fenced agent stopped");
    expect(events.filter((e) => e.id === "tally/taken").map((e) => e.kind)).toContain("fenced");
    expect(events.some((e) => e.kind === "child_restarted" && e.id === "tally/taken")).toBe(false);
    expect((await node.list()).find((a) => a.id === "tally/taken")).toBeUndefined();
  });

  it("refuses a durable type that persists nothing", () => {
    expect(() => defineAgent({ type: "x", mailbox: "durable", persist: false, receive: () => 1 })).toThrow(InvalidConfigError);
    expect(() => defineAgent({ type: "x", maxDeliver: 2, receive: () => 1 })).toThrow(InvalidConfigError);
  });

  it("stores a tell before it resolves, applies it once, and answers an ask", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "a" });
    for (let i = 1; i <= 20; i++) await ref.tell({ op: "add", n: i });
    expect(await ref.ask({ op: "get" })).toEqual({ sum: 210, seen: 21 });
    // Applied messages leave the stream.
    const jsm = await jetstreamManager(raw);
    const subject = new Subjects(ns).mailbox("tally", "a");
    const waiting = async (): Promise<number> => (await jsm.streams.info(new Subjects(ns).mailboxStream(), { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    await waitFor(async () => (await waiting()) === 0, "mailbox purged");
  });

  it("stores a retried tell id once", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "b" });
    await ref.tell({ op: "add", n: 5 }, { id: "once" });
    await ref.tell({ op: "add", n: 5 }, { id: "once" });
    await ref.tell({ op: "add", n: 1 }, { id: "other" });
    expect(await ref.ask({ op: "get" })).toEqual({ sum: 6, seen: 3 });
  });

  it("answers a retried ask key from the stored outcome, without applying it again", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "c" });
    expect(await ref.ask({ op: "add", n: 7 }, { id: "k1" })).toBe(7);
    expect(await ref.ask({ op: "add", n: 7 }, { id: "k1" })).toBe(7);
    expect(await ref.ask({ op: "add", n: 1 })).toBe(8);
    expect(await ref.ask({ op: "get" })).toEqual({ sum: 8, seen: 3 });
  });

  it("keeps tells sent while the agent is stopped and applies them when it is spawned again", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "d" });
    await ref.tell({ op: "add", n: 1 });
    await ref.ask({ op: "get" });
    await node.stop("tally/d");
    for (let i = 0; i < 10; i++) await ref.tell({ op: "add", n: 10 });
    await node.spawn("tally", { key: "d" });
    expect(await ref.ask({ op: "get" })).toEqual({ sum: 101, seen: 13 });
  });

  it("tries a failing message again from the last commit, then dead-letters it with its delivery count and goes on", async () => {
    const letters = recordDeadLetters(node, "tally", "e");
    const ref = await node.spawn<Msg>("tally", { key: "e" });
    await ref.tell({ op: "add", n: 1 });
    await ref.tell({ op: "poison" });
    await ref.tell({ op: "add", n: 2 });
    await waitFor(async () => ((await ref.ask<{ sum: number }>({ op: "get" }, { timeoutMs: 20_000 })).sum === 3), "poison given up", 30_000);
    // The half-change of the poison message was never kept.
    const state = await ref.ask<{ sum: number; seen: number }>({ op: "get" });
    expect(state.sum).toBe(3);
    await waitFor(() => letters.length === 1, "the poison message dead-lettered");
    expect(letters[0]).toMatchObject({ to: "tally/e", messageType: "poison", deliveries: 3, reason: "gave up after 3 tries: poisoned" });
  }, 40_000);

  it("answers an ask that keeps failing with the failure, once given up", async () => {
    const ref = await node.spawn<Msg>("tally", { key: "f" });
    await expect(ref.ask({ op: "poison" }, { timeoutMs: 20_000, id: "p1" })).rejects.toThrow(RemoteError);
    // The same key again: the stored outcome, not a fourth try.
    await expect(ref.ask({ op: "poison" }, { timeoutMs: 5_000, id: "p1" })).rejects.toThrow(/gave up after 3 tries/);
  }, 40_000);
});
