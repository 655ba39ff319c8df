// Durable mailboxes when a node process dies (SIGKILL) against a real server:
// messages a ledger applied but did not commit before the crash are applied
// again, once, by the node that adopts it; tells sent while the agent had no
// node are kept and applied once; the adopted activation goes on from the
// last applied message. The ledger keeps every applied id in its state, so
// the state itself shows what was applied, and how often.

import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startLedgerNode, type LedgerNode } from "./testing/durable/ledger-node.js";
import { ledgerAgent, twice, type LedgerMsg, type LedgerState } from "./testing/durable/ledger.js";
import { decodeDurableRecord } from "./durable/durable-record.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";

const nats = useNatsServer();
const HEARTBEAT_MS = 100;
let seq = 0;
const closing: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await ("stop" in c ? c.stop() : c.close()).catch(() => {});
});

async function childNode(ns: string, name: string, spawn: string[]): Promise<LedgerNode> {
  const n = await startLedgerNode({ servers: nats.url, namespace: ns, name, heartbeatMs: HEARTBEAT_MS, spawn });
  closing.push(n);
  return n;
}

async function survivor(ns: string): Promise<TroupeNode> {
  const n = await startNode({ servers: nats.url, namespace: ns, name: "survivor", heartbeatMs: HEARTBEAT_MS, agents: [ledgerAgent()] });
  closing.push(n);
  return n;
}

/** What the state bucket holds for ledger/`key` now: the committed ids and place. */
async function committed(node: TroupeNode, key: string): Promise<{ applied: string[]; seq: number }> {
  const kv = await new Kvm(node.connection).open(new Subjects(node.namespace).stateBucket());
  const e = await kv.get(new Subjects(node.namespace).stateKey("ledger", key));
  if (!e || e.operation !== "PUT") return { applied: [], seq: 0 };
  const record = decodeDurableRecord(e.value);
  return { applied: (record.state as LedgerState).applied, seq: record.cursor.seq };
}

/** Messages still in ledger/`key`'s durable mailbox. */
async function waiting(node: TroupeNode, key: string): Promise<number> {
  const subjects = new Subjects(node.namespace);
  const jsm = await jetstreamManager(node.connection);
  const info = await jsm.streams.info(subjects.mailboxStream(), { subjects_filter: subjects.mailbox("ledger", key) });
  return info.state.subjects?.[subjects.mailbox("ledger", key)] ?? 0;
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe("durable mailboxes across a node crash", () => {
  it("applies again, once, what a crashed node applied but had not committed", async () => {
    const ns = `crash${++seq}`;
    const a = await childNode(ns, "a", ["r"]);
    const b = await survivor(ns);
    const ref = b.ref<LedgerMsg>("ledger", "r");
    for (const id of ids(1, 20)) await ref.tell({ op: "add", id });
    await waitFor(async () => (await committed(b, "r")).applied.length === 20, "the first 20 committed");
    // 40 more, each taking 30 ms: the node pulls them ahead, then the server freezes, so
    // what it applies from then on cannot be committed.
    for (const id of ids(21, 60)) await ref.tell({ op: "add", id, ms: 30 });
    await waitFor(() => a.applied.length >= 25, "a applies the slow ones");
    process.kill(nats.server.pid, "SIGSTOP");
    try {
      await waitFor(() => a.applied.length >= 35, "a applies more while its commits cannot land");
      await a.kill();
    } finally {
      process.kill(nats.server.pid, "SIGCONT");
    }
    const atCrash = await committed(b, "r");
    const notCommitted = a.applied.filter((id) => !atCrash.applied.includes(id));
    expect(notCommitted.length).toBeGreaterThan(0);

    // b takes ledger/r over once a's heartbeats lapse.
    await waitFor(async () => (await committed(b, "r")).applied.length >= 60, "b adopted ledger/r and drained its mailbox", 20_000);
    const state = await ref.ask<LedgerState>({ op: "get" });
    expect(twice(state.applied)).toEqual([]);
    expect(state.applied).toEqual(ids(1, 60));
    await waitFor(async () => (await waiting(b, "r")) === 0, "the applied messages left the mailbox");
  }, 60_000);

  it("keeps tells sent while the agent has no node; the adopting node goes on from the last applied message", async () => {
    const ns = `crash${++seq}`;
    const a = await childNode(ns, "a", ["f"]);
    const b = await survivor(ns);
    const ref = b.ref<LedgerMsg>("ledger", "f");
    for (const id of ids(1, 10)) await ref.tell({ op: "add", id });
    await waitFor(async () => (await committed(b, "f")).applied.length === 10, "the first 10 committed");
    // Removed from the stream once their commit landed (a moment after it).
    await waitFor(async () => (await waiting(b, "f")) === 0, "the first 10 left the mailbox");
    const before = await committed(b, "f");
    await a.kill();
    // Stored while nobody runs ledger/f: each resolves once JetStream has it.
    for (const id of ids(11, 20)) await ref.tell({ op: "add", id });
    expect(await waiting(b, "f")).toBe(10);

    await waitFor(async () => (await committed(b, "f")).applied.length === 20, "b adopted ledger/f and applied what waited", 20_000);
    const after = await committed(b, "f");
    expect(after.applied).toEqual(ids(1, 20));
    expect(after.seq).toBeGreaterThan(before.seq);
    expect(a.applied).toEqual(ids(1, 10));
    await waitFor(async () => (await waiting(b, "f")) === 0, "the applied messages left the mailbox");
    // And it goes on taking tells, in order, once each.
    for (const id of ids(21, 25)) await ref.tell({ op: "add", id });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(ids(1, 25));
  }, 60_000);
});
