// An event sent into an agent's inbox (a consumer of the events stream whose
// deliver subject is the agent's, say): refused and counted like any message
// the agent does not take, but reported by no `invalid_message` event and
// kept as no dead letter. Either would be stored (dead letters are event
// envelopes too), delivered again by such a consumer, refused again: a loop.

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter } from "../actors/builtins.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { EventKind, type TroupeEvent } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const NS = "ev-inbox";
const s = new Subjects(NS);
const nats = useNatsServer();
let node: TroupeNode;
let raw: NatsConnection;

beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, name: "n1", agents: [counter] });
  raw = await connectTo(nats.url, "raw");
  await node.spawn("counter", { key: "c1" });
}, 60_000);

afterAll(async () => {
  await raw?.close();
  await node?.close();
});

const rejected = async (): Promise<number> => (await node.list()).find((a) => a.id === "counter/c1")?.rejected ?? -1;

describe("an event envelope on an agent's subject", () => {
  it("is counted as rejected, publishes no invalid_message event and no dead letter; other refusals still do", async () => {
    const invalid: TroupeEvent[] = [];
    const off = node.onEvent((e) => invalid.push(e), { kind: EventKind.InvalidMessage, type: "counter", key: "c1" });
    await node.connection.flush();
    const before = await rejected();
    // A stored event, as a consumer of the events stream would deliver it.
    const event = { kind: EventKind.InvalidMessage, id: "counter/c1", node: "n1", at: 1, reason: "an earlier refusal" };
    raw.publish(s.agent("counter", "c1"), encodeEnvelope(Kind.Event, "e-1", null, null, event, 1024 * 1024));
    // One refused before it is decoded (its reply subject is no inbox): no event either.
    raw.publish(s.agent("counter", "c1"), encodeEnvelope(Kind.Event, "e-2", null, null, event, 1024 * 1024), { reply: "not.an.inbox" });
    // Then bytes that are no envelope: their refusal is reported, and arrives after the event's would have.
    raw.publish(s.agent("counter", "c1"), new Uint8Array([0xc1, 0xc1]));
    await raw.flush();
    await waitFor(() => invalid.length > 0, "the invalid_message event of the bytes that are no envelope");
    await waitFor(async () => (await rejected()) === before + 3, "all three messages counted as rejected");
    off();
    expect(invalid).toHaveLength(1);
    // One dead letter: the bytes that are no envelope (published after the events', on the same connection).
    const jsm = await jetstreamManager(raw);
    const letters = async (): Promise<number> =>
      (await jsm.streams.info(s.deadLetterStream(), { subjects_filter: s.deadLetter("counter", "c1") })).state.subjects?.[s.deadLetter("counter", "c1")] ?? 0;
    await waitFor(async () => (await letters()) >= 1, "the dead letter of the bytes that are no envelope");
    expect(await letters()).toBe(1);
    expect(String(invalid[0]!.reason)).not.toContain("tell and ask");
    // The agent goes on.
    expect(await node.ref("counter", "c1").ask({ op: "inc" })).toBe(1);
  });

  it("on a node's control subject is counted as rejected and publishes no invalid_message event", async () => {
    const invalid: TroupeEvent[] = [];
    const off = node.onEvent((e) => invalid.push(e), { kind: EventKind.InvalidMessage, type: "node", key: "n1" });
    await node.connection.flush();
    const before = node.stats().rejectedControl;
    const event = { kind: EventKind.InvalidMessage, id: "node/n1", node: "n1", at: 1, reason: "an earlier refusal" };
    raw.publish(s.nodeControl("n1", "counter"), encodeEnvelope(Kind.Event, "e-3", null, null, event, 1024 * 1024));
    raw.publish(s.nodeControl("n1", "counter"), new Uint8Array([0xc1, 0xc1]));
    await raw.flush();
    await waitFor(() => invalid.length > 0, "the invalid_message event of the bytes that are no envelope");
    await waitFor(() => node.stats().rejectedControl === before + 2, "both control messages counted as rejected");
    off();
    expect(invalid).toHaveLength(1);
    expect(String(invalid[0]!.reason)).not.toContain("system messages only");
  });
});
