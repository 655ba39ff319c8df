// Reading events as a client against a real server: the kept history (since)
// then live ones with neither gap nor duplicate at the seam, filters by kind
// and agent, hostile messages on event subjects skipped and counted, and a
// read in a namespace that does not exist creates nothing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { counter } from "../actors/builtins.js";
import { connectClient, type TroupeClient } from "./client.js";
import { encodeValue } from "./codec.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { InvalidArgumentError, NamespaceNotFoundError } from "./errors.js";
import type { EventFeed } from "./event-feed.js";
import type { TroupeEvent } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
const namespace = "ev-feed";
const subjects = new Subjects(namespace);

/** Take events from `feed` until `until` says stop (or `n` were taken); the feed is stopped after. */
async function take(feed: EventFeed, until: (seen: TroupeEvent[]) => boolean): Promise<TroupeEvent[]> {
  const seen: TroupeEvent[] = [];
  for await (const e of feed) {
    seen.push(e);
    if (until(seen)) break;
  }
  feed.stop();
  return seen;
}

/** A well-formed event as a node publishes it. */
function eventBytes(kind: string, type: string, key: string, fields: Record<string, unknown> = {}): Uint8Array {
  return encodeEnvelope(Kind.Event, `e-${kind}-${key}`, "node:raw", null, { ...fields, kind, id: `${type}/${key}`, node: "raw", at: Date.now() }, 1 << 20);
}

describe("client.events", () => {
  let node: TroupeNode;
  let client: TroupeClient;
  let raw: NatsConnection;

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace, name: "ev-node", agents: [counter] });
    client = await connectClient({ servers: nats.url, namespace, name: "ev-reader" });
    raw = await connectTo(nats.url);
  });
  afterAll(async () => {
    await client?.close();
    await node?.close();
    await raw?.close();
  });

  it("the first node makes the bounded events stream: limits retention, oldest dropped, 24 h, 100k events, 64 MiB", async () => {
    const info = await (await jetstreamManager(raw)).streams.info(subjects.eventsStream());
    expect(info.config).toMatchObject({
      subjects: [subjects.allEvents()],
      retention: "limits",
      discard: "old",
      max_age: 24 * 3600 * 1e9,
      max_msgs: 100_000,
      max_bytes: 64 * 1024 * 1024,
      num_replicas: 1,
    });
  });

  it("with since: the kept history, then live events, each once", async () => {
    await node.spawn("counter", { key: "h1" });
    // The history holds child_started (at least) before the feed opens.
    await waitFor(async () => (await take(await client.events({ since: 60_000, agent: "counter/h1", follow: false }), () => false)).length > 0, "kept events of counter/h1");
    const feed = await client.events({ since: 60_000, agent: "counter/h1" });
    const seen: TroupeEvent[] = [];
    const reading = (async () => {
      for await (const e of feed) {
        seen.push(e);
        if (e.kind === "child_restarted") break;
      }
    })();
    await waitFor(() => seen.some((e) => e.kind === "child_started"), "the kept child_started");
    await node.kill("counter/h1", "seam test");
    await reading;
    feed.stop();
    const kinds = seen.map((e) => e.kind);
    expect(kinds).toContain("child_failed");
    expect(seen.every((e) => e.id === "counter/h1")).toBe(true);
    // No duplicates: every event (kind, time, fields) appears once up to the restart.
    const keys = seen.map((e) => JSON.stringify(e));
    expect(new Set(keys).size).toBe(keys.length);
    // And what the feed printed is exactly what the stream kept.
    const again = await take(await client.events({ since: 60_000, agent: "counter/h1", follow: false }), () => false);
    expect(again.slice(0, seen.length).map((e) => JSON.stringify(e))).toEqual(keys);
  });

  it("filters by kind, several at once", async () => {
    await node.spawn("counter", { key: "k1" });
    await node.kill("counter/k1", "kind test");
    const got = await take(await client.events({ since: 60_000, agent: "counter/k1", kinds: ["child_failed", "child_restarted"] }), (s) => s.length >= 2);
    expect(got.map((e) => e.kind).sort()).toEqual(["child_failed", "child_restarted"]);
  });

  it("with follow: false, ends once the history is read", async () => {
    const got = await take(await client.events({ since: 60_000, agent: "counter/k1", follow: false }), () => false);
    expect(got.length).toBeGreaterThan(0);
    const none = await take(await client.events({ since: 60_000, agent: "counter/never", follow: false }), () => false);
    expect(none).toEqual([]);
  });

  it("live only without since: an event from a raw publisher arrives", async () => {
    const feed = await client.events({ kinds: ["failover"] });
    expect(feed.stored).toBe(true);
    const got = take(feed, () => true);
    await client.connection.flush();
    raw.publish(subjects.event("failover", "counter", "live1"), eventBytes("failover", "counter", "live1", { from: "gone-node" }));
    expect(await got).toEqual([expect.objectContaining({ kind: "failover", id: "counter/live1", from: "gone-node", node: "raw" })]);
  });

  it("skips and counts what is no event (garbage, a wrong kind, another subject's agent), live and from history, and goes on", async () => {
    const skips: string[] = [];
    const live = await client.events({ agent: "counter/bad1", onSkip: (_s, reason) => skips.push(reason) });
    const got = take(live, () => true);
    await client.connection.flush();
    const subject = subjects.event("child_failed", "counter", "bad1");
    raw.publish(subject, new Uint8Array([0xc1, 0xff, 0x00, 0x13]));
    raw.publish(subject, eventBytes("no_such_kind", "counter", "bad1"));
    raw.publish(subject, eventBytes("lifecycle", "counter", "bad1"));
    raw.publish(subject, eventBytes("child_failed", "counter", "other"));
    raw.publish(subject, encodeValue([1, Kind.Event, "x", null, null, "not an object"]));
    // A time no Date can hold (a reader formatting it would throw).
    raw.publish(subject, encodeEnvelope(Kind.Event, "x2", null, null, { kind: "child_failed", id: "counter/bad1", node: "raw", at: 1e20 }, 1 << 20));
    raw.publish(subject, eventBytes("child_failed", "counter", "bad1", { reason: "real" }));
    expect(await got).toEqual([expect.objectContaining({ kind: "child_failed", reason: "real" })]);
    expect(live.skipped).toBe(6);
    expect(skips).toHaveLength(6);
    expect(skips.join("\n")).toMatch(/unknown event kind "no_such_kind"/);
    // The same messages, kept by the stream: skipped again, the real one read.
    const kept = await client.events({ since: 60_000, agent: "counter/bad1", follow: false });
    expect(await take(kept, () => false)).toEqual([expect.objectContaining({ reason: "real" })]);
    expect(kept.skipped).toBe(6);
  });

  it("refuses a bad kind, agent or since before reading", async () => {
    await expect(client.events({ kinds: ["nope" as "failover"] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.events({ agent: "no-slash" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.events({ since: -5 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("in a namespace that does not exist: since is NamespaceNotFoundError, live only says nothing is kept, and no stream is made", async () => {
    const typo = await connectClient({ servers: nats.url, namespace: "ev-typo", name: "typo-reader" });
    try {
      await expect(typo.events({ since: 60_000 })).rejects.toBeInstanceOf(NamespaceNotFoundError);
      const live = await typo.events();
      expect(live.stored).toBe(false);
      live.stop();
    } finally {
      await typo.close();
    }
    const names: string[] = [];
    for await (const n of (await jetstreamManager(raw)).streams.names()) names.push(n);
    expect(names.filter((n) => n.includes("TYPO") || n.includes("typo"))).toEqual([]);
  });

  it("a namespace whose nodes keep no history (eventHistory: false): no events stream, since gives live events, follow: false ends at once", async () => {
    const ns = "ev-nohist";
    const quiet = await startNode({ servers: nats.url, namespace: ns, name: "nohist-node", agents: [counter], eventHistory: false });
    const reader = await connectClient({ servers: nats.url, namespace: ns, name: "nohist-reader" });
    try {
      const jsm = await jetstreamManager(raw);
      const names: string[] = [];
      for await (const n of jsm.streams.names()) names.push(n);
      expect(names).toContain("KV_troupe_ev-nohist_nodes");
      expect(names).not.toContain(new Subjects(ns).eventsStream());
      const ended = await reader.events({ since: 60_000, follow: false });
      expect(ended.stored).toBe(false);
      expect(await take(ended, () => false)).toEqual([]);
      const live = await reader.events({ since: 60_000, agent: "counter/nh1" });
      expect(live.stored).toBe(false);
      const got = take(live, (seen) => seen.some((e) => e.kind === "child_started"));
      await quiet.spawn("counter", { key: "nh1" });
      expect((await got).map((e) => e.kind)).toContain("child_started");
    } finally {
      await reader.close();
      await quiet.close();
    }
  });
});
