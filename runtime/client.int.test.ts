// The light client against a real server: it calls agents on a node (asks,
// tells, spawn, stop, kill, list, tree, state, events, memory) while leaving
// no trace of itself: no heartbeat, no stream, no bucket it only read.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { counter, echo } from "../actors/builtins.js";
import { connectClient, type TroupeClient } from "./client.js";
import {
  AgentNotFoundError,
  BucketNotFoundError,
  ClientClosedError,
  InvalidArgumentError,
  NamespaceNotFoundError,
  NoNodeForTypeError,
} from "./errors.js";
import type { TroupeEvent } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();

/** Every stream on the server, by name (KV buckets are streams too). */
async function streamNames(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const s of jsm.streams.list()) names.push(s.config.name);
  return names.sort();
}

describe("a light client calling a node", () => {
  const namespace = "client-ns";
  let node: TroupeNode;
  let client: TroupeClient;

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace, name: "host-1", agents: [counter, echo] });
    client = await connectClient({ servers: nats.url, namespace, name: "caller", spawnWaitMs: 500 });
  });
  afterAll(async () => {
    await client?.close();
    await node?.close();
  });

  it("spawns through the pool, then tells and asks", async () => {
    const ref = await client.spawn<{ op: string }, number>("counter", { key: "c1" });
    expect(ref.id).toBe("counter/c1");
    await ref.tell({ op: "inc" });
    await ref.tell({ op: "inc" });
    expect(await client.ref("counter/c1").ask({ op: "get" })).toBe(2);
    expect(await client.ref("counter", "c1").ask({ op: "inc" })).toBe(3);
    expect(await client.whereIs("counter/c1")).toBe("host-1");
  });

  it("spawns on a named node, and says so when no node of that name answers", async () => {
    await client.spawn("echo", { key: "e1", node: "host-1" });
    expect(await client.ref("echo/e1").ask("hi")).toBe("hi");
    await expect(client.spawn("echo", { key: "e2", node: "nobody" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.spawn("ghost", { key: "g" })).rejects.toBeInstanceOf(NoNodeForTypeError);
  });

  it("lists and draws what the node runs, per node and across the namespace", async () => {
    const all = await client.listAll();
    expect(all.agents.map((a) => a.id)).toEqual(expect.arrayContaining(["counter/c1", "echo/e1"]));
    expect(all.unreachable).toEqual([]);
    expect((await client.list("host-1")).map((a) => a.id)).toEqual(expect.arrayContaining(["counter/c1", "echo/e1"]));
    const trees = await client.treeAll();
    expect(trees.map((t) => t.node)).toEqual(["host-1"]);
    expect((await client.tree("host-1")).children.map((c) => c.id)).toEqual(expect.arrayContaining(["counter/c1"]));
  });

  it("reads persisted state, and sees a kill as events", async () => {
    const events: TroupeEvent[] = [];
    const off = client.onEvent((e) => events.push(e), { type: "counter", key: "c1" });
    try {
      await waitFor(async () => (await client.persistedState("counter/c1"))?.value !== undefined, "state of counter/c1 persisted");
      expect((await client.persistedState("counter/c1"))?.value).toMatchObject({ count: 3 });
      await client.kill("counter/c1", "test kill");
      await waitFor(() => events.some((e) => e.kind === "child_restarted"), "a child_restarted event for counter/c1");
      expect(await client.ref("counter/c1").ask({ op: "get" })).toBe(3);
    } finally {
      off();
    }
  });

  it("stops an agent for good; stopping it again is AgentNotFoundError", async () => {
    await client.stop("echo/e1");
    expect(await client.whereIs("echo/e1")).toBeUndefined();
    await expect(client.stop("echo/e1")).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(client.kill("echo/e1")).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("is no member of the cluster: no heartbeat entry, and nodes() lists only the node", async () => {
    expect((await client.nodes()).map((n) => n.id)).toEqual(["host-1"]);
    const kv = await new Kvm(node.connection).open(new Subjects(namespace).nodesBucket());
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys).toEqual(["host-1"]);
  });

  it("shares memory with the node", async () => {
    await node.memory.put("greeting", "hello");
    expect((await client.memory.get("greeting"))?.value).toBe("hello");
    await client.memory.put("reply", { n: 1 });
    expect((await node.memory.get("reply", { fresh: true }))?.value).toEqual({ n: 1 });
  });
});

describe("a light client in a namespace that does not exist", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connectTo(nats.url);
  });
  afterAll(async () => {
    await nc?.close();
  });

  it("creates no stream or bucket, and its lookups fail with NamespaceNotFoundError", async () => {
    const before = await streamNames(nc);
    const client = await connectClient({ connection: nc, namespace: "typo" });
    try {
      for (const call of [
        () => client.nodes(),
        () => client.listAll(),
        () => client.treeAll(),
        () => client.whereIs("counter/c1"),
        () => client.persistedState("counter/c1"),
        () => client.stop("counter/c1"),
      ]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(NamespaceNotFoundError);
        expect(err).toMatchObject({ code: "NAMESPACE_NOT_FOUND", namespace: "typo" });
      }
      await expect(client.memory.get("k")).rejects.toBeInstanceOf(BucketNotFoundError);
      await expect(client.memory.bucket("notes").get("k")).rejects.toMatchObject({ code: "BUCKET_NOT_FOUND" });
      const keys = async (): Promise<string[]> => {
        const out: string[] = [];
        for await (const k of client.memory.keys()) out.push(k);
        return out;
      };
      await expect(keys()).rejects.toBeInstanceOf(BucketNotFoundError);
      const watch = client.memory.watch();
      await expect(watch.ready).rejects.toBeInstanceOf(BucketNotFoundError);
      expect(await streamNames(nc)).toEqual(before);

      // A write creates its memory bucket, as a node's does, and nothing else; reads then work.
      await client.memory.put("k", 1);
      expect(await streamNames(nc)).toEqual([...before, "KV_troupe_typo_mem"].sort());
      expect((await client.memory.get("k"))?.value).toBe(1);
      expect(await keys()).toEqual(["k"]);
    } finally {
      await client.close();
    }
  });

  it("fails every call after close() with ClientClosedError", async () => {
    const client = await connectClient({ connection: nc, namespace: "typo" });
    await client.close();
    expect(() => client.ref("echo/x")).not.toThrow();
    await expect(client.ref("echo/x").ask("hi")).rejects.toBeInstanceOf(ClientClosedError);
    expect(() => client.nodes()).toThrow(ClientClosedError);
    expect(nc.isClosed()).toBe(false);
  });
});
