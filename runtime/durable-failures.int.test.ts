// Durable mailboxes against a real server, when things go wrong inside one
// node: a commit that landed without its messages being removed (they are
// not applied again, and are removed); a poison message reaching the dead
// letters with its delivery count (an ask, maxDeliver 1, and a supervisor
// that gives up first, whose tries the mailbox keeps for a later spawn); a
// retried ask key across a restart and after its asker timed out; a full
// mailbox refused at once; and an activation that lost its state to another
// one, which can neither commit nor remove messages.

import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { recordEvents } from "./testing/events.js";
import { recordDeadLetters } from "./testing/supervision.js";
import { ledgerAgent, twice, type LedgerMsg, type LedgerState } from "./testing/durable/ledger.js";
import { decodeDurableRecord, encodeDurableRecord, MailboxCursor } from "./durable/durable-record.js";
import { encodeValue } from "./codec.js";
import { EventKind } from "./events.js";
import { AskTimeoutError, MailboxFullError, RemoteError } from "./errors.js";
import { startNode, type NodeOptions, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";

const nats = useNatsServer();
let seq = 0;
const open: TroupeNode[] = [];
afterEach(async () => {
  for (const n of open.splice(0).reverse()) await n.close().catch(() => {});
});

const ledger = ledgerAgent();
const once = ledgerAgent({ type: "once", maxDeliver: 1 });
const thrice = ledgerAgent({ type: "thrice", maxDeliver: 3 });

async function node(ns: string, name = "n", options: Omit<NodeOptions, "servers" | "namespace" | "name" | "agents"> = {}): Promise<TroupeNode> {
  const n = await startNode({ servers: nats.url, namespace: ns, name, heartbeatMs: 100, agents: [ledger, once, thrice], ...options });
  open.push(n);
  return n;
}

function kvOf(node: TroupeNode): Promise<Awaited<ReturnType<Kvm["open"]>>> {
  return new Kvm(node.connection).open(new Subjects(node.namespace).stateBucket());
}

/** What the state bucket holds for `type/key`. */
async function stored(node: TroupeNode, type: string, key: string): Promise<{ applied: string[]; cursor: MailboxCursor; revision: number } | undefined> {
  const e = await (await kvOf(node)).get(new Subjects(node.namespace).stateKey(type, key));
  if (!e || e.operation !== "PUT") return undefined;
  const record = decodeDurableRecord(e.value);
  return { applied: (record.state as LedgerState).applied, cursor: record.cursor, revision: e.revision };
}

/** Messages still in the durable mailbox of `type/key`. */
async function waiting(node: TroupeNode, type: string, key: string): Promise<number> {
  const subjects = new Subjects(node.namespace);
  const jsm = await jetstreamManager(node.connection);
  const info = await jsm.streams.info(subjects.mailboxStream(), { subjects_filter: subjects.mailbox(type, key) });
  return info.state.subjects?.[subjects.mailbox(type, key)] ?? 0;
}

const ns = (): string => `fail${++seq}`;

describe("durable mailboxes: a crash between commit and removal", () => {
  it("does not apply again what the committed place covers, and removes it", async () => {
    const n = await node(ns());
    const ref = n.ref<LedgerMsg>("ledger", "c");
    // Stored while the agent does not run.
    for (const id of ["m1", "m2", "m3", "m4", "m5"]) await ref.tell({ op: "add", id });
    const subjects = new Subjects(n.namespace);
    const jsm = await jetstreamManager(n.connection);
    const first = (await jsm.streams.info(subjects.mailboxStream())).state.first_seq;
    // The commit of m1..m3 landed, and the node died before removing them.
    const cursor = new MailboxCursor();
    cursor.seq = first + 2;
    await (await kvOf(n)).put(subjects.stateKey("ledger", "c"), encodeDurableRecord(encodeValue({ applied: ["m1", "m2", "m3"] }), cursor));
    expect(await waiting(n, "ledger", "c")).toBe(5);

    await n.spawn("ledger", { key: "c" });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    await waitFor(async () => (await waiting(n, "ledger", "c")) === 0, "the applied messages removed");
  });
});

describe("durable mailboxes: poison messages", () => {
  it("answers an ask that keeps failing with the failure and dead-letters it with its delivery count", async () => {
    const n = await node(ns());
    const letters = recordDeadLetters(n, "thrice", "a");
    const ref = await n.spawn<LedgerMsg>("thrice", { key: "a" });
    await ref.tell({ op: "add", id: "m1" });
    const failed = ref.ask({ op: "poison", id: "p" }, { timeoutMs: 20_000 });
    await ref.tell({ op: "add", id: "m2" });
    await expect(failed).rejects.toThrow(RemoteError);
    await expect(failed).rejects.toThrow(/gave up after 3 tries: poisoned by p/);
    await waitFor(() => letters.length === 1, "the poison ask dead-lettered");
    expect(letters[0]).toMatchObject({ to: "thrice/a", messageType: "poison", deliveries: 3 });
    // Its half-change was never kept, and the mailbox went on.
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2"]);
  }, 40_000);

  it("with maxDeliver 1 tries a message once, then dead-letters it", async () => {
    const n = await node(ns());
    const letters = recordDeadLetters(n, "once", "a");
    const failed = recordEvents(n, { kind: EventKind.ChildFailed });
    const ref = await n.spawn<LedgerMsg>("once", { key: "a" });
    await ref.tell({ op: "poison", id: "p" });
    await ref.tell({ op: "add", id: "m1" });
    expect((await ref.ask<LedgerState>({ op: "get" }, { timeoutMs: 10_000 })).applied).toEqual(["m1"]);
    await waitFor(() => letters.length === 1, "dead-lettered");
    expect(letters[0]).toMatchObject({ to: "once/a", messageType: "poison", deliveries: 1 });
    await waitFor(() => failed.events.some((e) => e.id === "once/a"), "its failure reported");
    expect(failed.events.filter((e) => e.id === "once/a")).toHaveLength(1);
  });

  it("keeps a message whose supervisor gave up first in the mailbox, with its tries, for a later spawn", async () => {
    const n = await node(ns(), "n", { root: { intensity: 1, periodMs: 60_000 } });
    const maxed = recordEvents(n, { kind: EventKind.MaxIntensity });
    const letters = recordDeadLetters(n, "thrice", "s");
    const ref = await n.spawn<LedgerMsg>("thrice", { key: "s" });
    await ref.tell({ op: "add", id: "m1" });
    await ref.tell({ op: "poison", id: "p" });
    await ref.tell({ op: "add", id: "m2" });
    // Two failures: the root's intensity (1 restart) is past before maxDeliver (3).
    await waitFor(() => maxed.events.some((e) => e.id === "thrice/s"), "the root gave up on thrice/s");
    await waitFor(async () => (await stored(n, "thrice", "s"))?.cursor.failing?.attempts === 2, "both tries recorded");
    const record = (await stored(n, "thrice", "s"))!;
    expect(record.applied).toEqual(["m1"]);
    expect(record.cursor.failing).toMatchObject({ attempts: 2, reason: "poisoned by p" });
    expect(await waiting(n, "thrice", "s")).toBe(2);
    expect(letters).toEqual([]);

    // Spawned again: its third try fails, and the one after is not made: it is dead-lettered with 3 deliveries.
    await n.spawn("thrice", { key: "s" });
    await waitFor(async () => (await stored(n, "thrice", "s"))?.applied.includes("m2") === true, "m2 applied", 20_000);
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2"]);
    await waitFor(() => letters.length === 1, "dead-lettered");
    expect(letters[0]).toMatchObject({ to: "thrice/s", messageType: "poison", deliveries: 3 });
  }, 40_000);
});

describe("durable mailboxes: a retried ask key", () => {
  it("is answered from the stored outcome across a restart of the agent", async () => {
    const n = await node(ns());
    const ref = await n.spawn<LedgerMsg>("ledger", { key: "k" });
    expect(await ref.ask({ op: "add", id: "a1" }, { id: "key-1" })).toBe(1);
    const restarted = recordEvents(n, { kind: EventKind.ChildRestarted });
    await n.kill("ledger/k");
    await waitFor(async () => restarted.events.length === 1 && (await n.list()).some((a) => a.id === "ledger/k" && a.state === "running"), "restarted");
    expect(await ref.ask({ op: "add", id: "a1" }, { id: "key-1" })).toBe(1);
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["a1"]);
  });

  it("is answered from the outcome of the ask that timed out while the agent was stopped", async () => {
    const n = await node(ns());
    const ref = await n.spawn<LedgerMsg>("ledger", { key: "t" });
    await ref.tell({ op: "add", id: "a1" });
    await n.stop("ledger/t");
    await expect(ref.ask({ op: "add", id: "a2" }, { id: "key-2", timeoutMs: 300 })).rejects.toBeInstanceOf(AskTimeoutError);
    await n.spawn("ledger", { key: "t" });
    expect(await ref.ask({ op: "add", id: "a2" }, { id: "key-2" })).toBe(2);
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["a1", "a2"]);
  });
});

describe("durable mailboxes: a full mailbox", () => {
  it("refuses the tell past the limit at once with MailboxFullError; other mailboxes take theirs", async () => {
    const n = await node(ns(), "n", { durableMailboxes: { maxMessagesPerAgent: 5 } });
    await n.spawn("ledger", { key: "full" });
    const other = await n.spawn<LedgerMsg>("ledger", { key: "other" });
    await n.stop("ledger/full");
    const ref = n.ref<LedgerMsg>("ledger", "full");
    // Every store attempt shows on the mailbox subject.
    let attempts = 0;
    const sub = n.connection.subscribe(new Subjects(n.namespace).mailbox("ledger", "full"), { callback: () => void attempts++ });
    for (const id of ["m1", "m2", "m3", "m4", "m5"]) await ref.tell({ op: "add", id });
    const refused = await ref.tell({ op: "add", id: "m6" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MailboxFullError);
    expect(refused).toMatchObject({ agentId: "ledger/full", bound: "durable" });
    await n.connection.flush();
    sub.unsubscribe();
    // Refused at its first attempt: not retried.
    expect(attempts).toBe(6);

    await other.tell({ op: "add", id: "o1" });
    expect((await other.ask<LedgerState>({ op: "get" })).applied).toEqual(["o1"]);
    // An ask is stored in the mailbox too: it is refused while the mailbox is full.
    await expect(ref.ask({ op: "get" })).rejects.toBeInstanceOf(MailboxFullError);
    await n.spawn("ledger", { key: "full" });
    // Applied messages leave the mailbox: there is room again.
    await waitFor(async () => (await waiting(n, "ledger", "full")) === 0, "the applied messages removed");
    await ref.tell({ op: "add", id: "m6" });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
  });
});

describe("durable mailboxes: a stale activation", () => {
  it("cannot commit or remove messages once another activation wrote the state", async () => {
    const n = await node(ns());
    const fenced = recordEvents(n, { kind: EventKind.Fenced });
    const ref = await n.spawn<LedgerMsg>("ledger", { key: "z" });
    await ref.tell({ op: "add", id: "m1" });
    await waitFor(async () => (await stored(n, "ledger", "z"))?.applied.length === 1, "m1 committed");
    // A newer activation elsewhere commits (the same state): this one's revision is stale now.
    const kv = await kvOf(n);
    const key = new Subjects(n.namespace).stateKey("ledger", "z");
    const e = (await kv.get(key))!;
    await kv.update(key, e.value, e.revision);

    await ref.tell({ op: "add", id: "m2" });
    await waitFor(() => fenced.events.some((f) => f.id === "ledger/z"), "the stale activation fenced");
    expect((await stored(n, "ledger", "z"))!.applied).toEqual(["m1"]);
    expect(await waiting(n, "ledger", "z")).toBe(1);

    // Whoever runs it next applies m2, once.
    await waitFor(async () => !(await n.list()).some((a) => a.id === "ledger/z" && a.state === "running"), "it let go");
    await n.spawn("ledger", { key: "z" });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["m1", "m2"]);
  });

  it("two activations of one agent (the registry moved it): the one that commits second is fenced, and each message is applied once", async () => {
    const space = ns();
    const a = await node(space, "a");
    const b = await node(space, "b");
    const fenced = recordEvents(a, { kind: EventKind.Fenced });
    const fencedB = recordEvents(b, { kind: EventKind.Fenced });
    const ref = await a.spawn<LedgerMsg>("ledger", { key: "y" });
    for (const id of ["m1", "m2", "m3"]) await ref.tell({ op: "add", id });
    await waitFor(async () => (await stored(a, "ledger", "y"))?.applied.length === 3, "m1..m3 committed");
    // b takes it over while a still runs it (a looked gone for a moment).
    const registry = await new Kvm(b.connection).open(new Subjects(space).registryBucket());
    await registry.delete("ledger.y");
    await b.spawn("ledger", { key: "y" });
    const ids = Array.from({ length: 30 }, (_, i) => `m${i + 4}`);
    for (const id of ids) await ref.tell({ op: "add", id });
    // Both applied what came; the first commit won, and the other activation lost its compare-and-set.
    await waitFor(() => fenced.events.some((f) => f.id === "ledger/y") || fencedB.events.some((f) => f.id === "ledger/y"), "one of them fenced");
    const all = ["m1", "m2", "m3", ...ids];
    await waitFor(async () => (await stored(a, "ledger", "y"))?.applied.length === all.length, "the one left applied everything");
    expect((await stored(a, "ledger", "y"))!.applied).toEqual(all);
    await waitFor(async () => (await waiting(a, "ledger", "y")) === 0, "the applied messages removed");
  });
});

describe("durable mailboxes: a backlog behind a slow receive", () => {
  it("waits for room without keeping the event loop busy", async () => {
    const n = await node(ns());
    const ref = await n.spawn<LedgerMsg>("ledger", { key: "slow" });
    await ref.tell({ op: "add", id: "slow", ms: 4_000 });
    // More than the mailbox takes ahead of the agent (DURABLE_HIGH_WATER), all stored.
    await Promise.all(Array.from({ length: 700 }, (_, i) => ref.tell({ op: "add", id: `m${i}` })));
    await waitFor(async () => (await n.list()).find((a) => a.id === "ledger/slow")!.mailbox >= 512, "the backlog reached the mark");
    const before = performance.eventLoopUtilization();
    await new Promise((r) => setTimeout(r, 500));
    const busy = performance.eventLoopUtilization(before).utilization;
    // Waiting for the receive, the process has nothing to do (a loop polling for room is busy all the time).
    expect(busy).toBeLessThan(0.5);
    await waitFor(async () => (await n.list()).find((a) => a.id === "ledger/slow")!.handled === 701, "the backlog applied", 20_000);
  }, 40_000);
});
