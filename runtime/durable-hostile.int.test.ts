// Hostile messages in a durable mailbox, published straight to its subject by
// a raw NATS client (anyone allowed to publish there can): bytes that do not
// decode, a value that is not an envelope, an envelope of the wrong kind, a
// message over the node's size limit, an ask whose `Troupe-Reply` is not an
// inbox and one whose `Troupe-Key` is malformed. Each is refused (an
// `invalid_message` event and a dead letter), the agent's place moves past it,
// later good messages are applied, and the node goes on.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { useNatsServer } from "./testing/server.js";
import { connectTo } from "./testing/connect.js";
import { waitFor } from "./testing/wait.js";
import { recordEvents } from "./testing/events.js";
import { recordDeadLetters } from "./testing/supervision.js";
import { ledgerAgent, type LedgerMsg, type LedgerState } from "./testing/durable/ledger.js";
import { decodeDurableRecord } from "./durable/durable-record.js";
import { DurableHeader } from "./durable/durable-sender.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { encodeValue } from "./codec.js";
import { EventKind } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { Kvm } from "@nats-io/kv";

const nats = useNatsServer();
const NS = "hostile";
const MAX = 64 * 1024;
let node: TroupeNode;
let raw: NatsConnection;
beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, name: "n", agents: [ledgerAgent()], maxMessageBytes: MAX });
  raw = await connectTo(nats.url, "hostile");
});
afterAll(async () => {
  await raw?.close();
  await node?.close();
});

const subjects = new Subjects(NS);
const add = (id: string, kind: (typeof Kind)[keyof typeof Kind] = Kind.Tell): Uint8Array =>
  encodeEnvelope(kind, `raw-${id}`, null, null, { op: "add", id } satisfies LedgerMsg, MAX);

describe("hostile messages in a durable mailbox", () => {
  it("refuses each, moves past it, and goes on applying good messages", async () => {
    const ref = await node.spawn<LedgerMsg>("ledger", { key: "h" });
    const invalid = recordEvents(node, { kind: EventKind.InvalidMessage, type: "ledger", key: "h" });
    const letters = recordDeadLetters(node, "ledger", "h");
    const js = jetstream(raw);
    const to = subjects.mailbox("ledger", "h");
    const withHeaders = (h: Record<string, string>) => {
      const hdrs = headers();
      for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
      return { headers: hdrs };
    };
    const inbox = "_INBOX.hostile.1";
    const hostile: Array<[string, Uint8Array, ReturnType<typeof withHeaders> | undefined]> = [
      ["garbage bytes", new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37]), undefined],
      ["a value that is not an envelope", encodeValue({ op: "add", id: "bare" }), undefined],
      ["an envelope of the wrong kind", add("wrong-kind", Kind.Reply), undefined],
      ["a message over the size limit", encodeValue([1, Kind.Tell, "big", null, null, { op: "add", id: "big", pad: "x".repeat(3 * MAX) }]), undefined],
      ["a reply header that is not an inbox", add("bad-reply", Kind.Ask), withHeaders({ [DurableHeader.Reply]: subjects.mailbox("ledger", "other") })],
      ["a malformed idempotency key", add("bad-key", Kind.Ask), withHeaders({ [DurableHeader.Reply]: inbox, [DurableHeader.Key]: "has spaces in it" })],
    ];
    await ref.tell({ op: "add", id: "g1" });
    for (const [, data, opts] of hostile) await js.publish(to, data, opts);
    await ref.tell({ op: "add", id: "g2" });

    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["g1", "g2"]);
    await waitFor(() => invalid.events.length === hostile.length, `${hostile.length} invalid_message events`);
    await waitFor(() => letters.length === hostile.length, `${hostile.length} dead letters`);
    // The committed place is past all of them, and they left the mailbox.
    const jsm = await jetstreamManager(raw);
    const last = (await jsm.streams.info(subjects.mailboxStream())).state.last_seq;
    await waitFor(async () => {
      const e = await (await new Kvm(raw).open(subjects.stateBucket())).get(subjects.stateKey("ledger", "h"));
      return e !== null && decodeDurableRecord(e.value).cursor.seq >= last;
    }, "the committed place moved past them");
    await waitFor(async () => {
      const info = await jsm.streams.info(subjects.mailboxStream(), { subjects_filter: to });
      return (info.state.subjects?.[to] ?? 0) === 0;
    }, "the mailbox is empty");
    // Nothing crashed: the agent runs and the node answers.
    expect((await node.list()).find((a) => a.id === "ledger/h")).toMatchObject({ state: "running", failures: 0 });
    await ref.tell({ op: "add", id: "g3" });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["g1", "g2", "g3"]);
  });
});
