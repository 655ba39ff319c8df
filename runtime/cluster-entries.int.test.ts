// Anyone with access to a namespace can write its cluster buckets. Garbage in
// the membership and registry buckets (nil, a string, a map without `id`,
// fields of the wrong type, bytes that are not MessagePack) is skipped and
// reported once; every call that reads the buckets keeps working for the
// well-formed entries.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { recordEvents } from "./testing/supervision.js";
import { startNode, type TroupeNode } from "./node.js";
import { counter } from "../actors/builtins.js";
import { encodeValue } from "./codec.js";
import { Subjects } from "./subjects.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();
const ns = "garbage";
const subjects = new Subjects(ns);

const notMsgPack = new Uint8Array([0xc1]); // a byte MessagePack never uses
const heartbeat = (id: string): Record<string, unknown> => ({ id, types: ["counter"], startedAt: 1, lastSeen: Date.now(), pid: 1, host: "h", agents: 0 });

/** Malformed entries of the membership bucket, by key. */
const badNodes: Record<string, Uint8Array> = {
  nil: encodeValue(null),
  text: encodeValue("hello"),
  noid: encodeValue({ ...heartbeat("noid"), id: undefined }),
  wrongtypes: encodeValue({ ...heartbeat("wrongtypes"), types: "counter", lastSeen: "now" }),
  otherid: encodeValue(heartbeat("someone-else")),
  bytes: notMsgPack,
  list: encodeValue([1, 2, 3]),
};

/** Malformed entries of the registry bucket, by key. */
const badClaims: Record<string, Uint8Array> = {
  "counter.nil": encodeValue(null),
  "counter.text": encodeValue("x"),
  "counter.nonode": encodeValue({ since: 1, supervisor: "root" }),
  "counter.wrongtypes": encodeValue({ node: 5, since: "then", supervisor: "root" }),
  "counter.bytes": notMsgPack,
};

describe("malformed cluster entries", () => {
  let raw: NatsConnection;
  let nodesKv: KV;
  let registryKv: KV;
  let node: TroupeNode;

  beforeAll(async () => {
    raw = await connectTo(nats.url);
    const kvm = new Kvm(raw);
    nodesKv = await kvm.create(subjects.nodesBucket(), { history: 1 });
    registryKv = await kvm.create(subjects.registryBucket(), { history: 1 });
    for (const [k, v] of Object.entries(badNodes)) await nodesKv.put(k, v);
    for (const [k, v] of Object.entries(badClaims)) await registryKv.put(k, v);
    // A well-formed claim of a node that is gone: failover must get past the garbage to adopt it.
    await registryKv.put("counter.orphan", encodeValue({ node: "gone", since: 1, supervisor: "root" }));
    // A well-formed claim that points at a malformed heartbeat: its node does not count as alive.
    await registryKv.put("counter.ghost", encodeValue({ node: "noid", since: 1, supervisor: "root" }));
    node = await startNode({ servers: nats.url, namespace: ns, name: "good", agents: [counter], heartbeatMs: 100 });
  });
  afterAll(async () => {
    await node?.close();
    await raw?.close();
  });

  it("lists the good nodes only", async () => {
    expect((await node.nodes()).map((n) => n.id)).toEqual(["good"]);
    const all = await node.listAll();
    expect(all.nodes.map((n) => n.id)).toEqual(["good"]);
    expect(all.unreachable).toEqual([]);
  });

  it("answers whereIs for malformed claims with undefined", async () => {
    for (const k of Object.keys(badClaims)) expect(await node.whereIs(k.replace(".", "/"))).toBeUndefined();
  });

  it("adopts the orphans of gone nodes despite the garbage around them", async () => {
    const get = (key: string) => () => node.ref("counter", key).ask({ op: "get" }, { timeoutMs: 300 }).then((count) => ({ count }));
    expect(await waitFor(get("orphan"), "counter/orphan adopted")).toEqual({ count: 0 });
    expect(await waitFor(get("ghost"), "counter/ghost adopted")).toEqual({ count: 0 });
    expect(await node.whereIs("counter/orphan")).toBe("good");
  });

  it("spawns over a malformed claim", async () => {
    const ref = await node.spawn("counter", { key: "nil" });
    expect(await ref.ask({ op: "inc" })).toBe(1);
    expect(await node.whereIs("counter/nil")).toBe("good");
    const listed = (await node.listAll()).agents.map((a) => a.id);
    expect(listed).toContain("counter/nil");
  });

  it("reports each malformed entry once, as an invalid_entry event", async () => {
    const watcher = await startNode({ servers: nats.url, namespace: ns, name: "watcher", heartbeatMs: 100 });
    try {
      const events: TroupeEvent[] = recordEvents(watcher, "invalid_entry");
      await registryKv.put("counter.late", encodeValue({ node: "good", since: "late", supervisor: "root" }));
      await nodesKv.put("late", encodeValue({ ...heartbeat("late"), pid: "one" }));
      // read them again and again: by hand, and in failover rounds (every 100 ms)
      for (let i = 0; i < 3; i++) {
        expect(await node.whereIs("counter/late")).toBeUndefined();
        expect((await node.nodes()).map((n) => n.id)).toEqual(["good", "watcher"]);
      }
      await waitFor(() => events.filter((e) => e.id === "node/good").length >= 2, "events about the late entries");
      await new Promise((r) => setTimeout(r, 500));
      const fromGood = events.filter((e) => e.id === "node/good");
      const seen = fromGood.map((e) => `${String(e.bucket)}:${String(e.key)}`).sort();
      expect(seen).toEqual(["nodes:late", "registry:counter.late"]);
      expect(fromGood.find((e) => e.bucket === "nodes")?.reason).toMatch(/pid/);
      expect(fromGood.find((e) => e.bucket === "registry")?.reason).toMatch(/since/);
    } finally {
      await watcher.close();
    }
  });
});
