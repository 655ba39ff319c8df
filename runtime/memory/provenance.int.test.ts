// Memory provenance against a real server: every write through Troupe records
// its writer (an agent through ctx.memory, a light client, a node), history()
// shows it, and a write made without Troupe shows none. The writer header fits
// the bytes kept for a write's headers even at its longest.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient } from "../client.js";
import { encodeValue } from "../codec.js";
import { defineAgent } from "../define-agent.js";
import { InvalidArgumentError } from "../errors.js";
import { startNode, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { connectTo, useNatsServer } from "../testing/server.js";
import { KV_WRITE_HEADER_BYTES, MAX_WRITER_LENGTH } from "./kv-publish.js";
import { memoryAs, openMemory, type MemoryBucket, type MemoryEntry } from "./index.js";

const NS = "prov";
const nats = useNatsServer();

/** Writes what it is told through ctx.memory: the shared bucket or a named one. */
const scribe = defineAgent({
  type: "scribe",
  persist: false,
  async receive(msg: { key: string; value?: unknown; bucket?: string; del?: boolean }, ctx) {
    const mem = msg.bucket === undefined ? ctx.memory : ctx.memory.bucket(msg.bucket);
    if (msg.del) return mem.delete(msg.key);
    if (msg.value === "modify") return (await mem.modify<number>(msg.key, (n) => (n ?? 0) + 1)).revision;
    return mem.put(msg.key, msg.value);
  },
});

let node: TroupeNode;
let client: TroupeClient;
let raw: NatsConnection;

beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, name: "n1", agents: [scribe], failover: false });
  client = await connectClient({ servers: nats.url, namespace: NS, name: "c1" });
  raw = await connectTo(nats.url, "raw");
  await node.spawn("scribe", { key: "s1" });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await raw?.close();
  await node?.close();
});

async function history(bucket: MemoryBucket, key: string): Promise<Array<Pick<MemoryEntry, "op" | "value" | "writer">>> {
  const out: Array<Pick<MemoryEntry, "op" | "value" | "writer">> = [];
  for await (const e of bucket.history(key)) out.push({ op: e.op, value: e.value, writer: e.writer });
  return out;
}

describe("memory provenance", () => {
  it("history shows who wrote each revision: an agent, a client, the node, and nobody for a write without Troupe", async () => {
    const scribeRef = node.ref("scribe", "s1");
    await scribeRef.ask({ key: "fact.sky", value: "blue" });
    await client.memory.put("fact.sky", "grey");
    await node.memory.put("fact.sky", "green");
    const kv = await new Kvm(raw).open(new Subjects(NS).memoryBucket());
    await kv.put("fact.sky", encodeValue("black"));
    await scribeRef.ask({ key: "fact.sky", del: true });

    const seen = await history(node.memory, "fact.sky");
    // The bucket keeps 5 revisions a key: exactly these.
    expect(seen.map((e) => e.writer)).toEqual(["scribe/s1", "client:c1", "node:n1", undefined, "scribe/s1"]);
    expect(seen.map((e) => e.op)).toEqual(["put", "put", "put", "put", "delete"]);
    // Anyone reading the history sees the same.
    expect((await history(client.memory, "fact.sky")).map((e) => e.writer)).toEqual(seen.map((e) => e.writer));
  });

  it("writes to a named bucket and through every write operation record the writer; history over a pattern too", async () => {
    const scribeRef = node.ref("scribe", "s1");
    await scribeRef.ask({ key: "plan.a", value: 1, bucket: "team" });
    await scribeRef.ask({ key: "plan.b", value: "modify", bucket: "team" });
    await client.memory.bucket("team").create("plan.c", 3);
    const team = node.memory.bucket("team");
    const rev = (await team.get("plan.a", { fresh: true }))!.revision;
    await team.update("plan.a", 2, rev);
    const byKey: Record<string, Array<string | undefined>> = {};
    for await (const e of team.history("plan.>")) (byKey[e.key] ??= []).push(e.writer);
    expect(byKey).toEqual({ "plan.a": ["scribe/s1", "node:n1"], "plan.b": ["scribe/s1"], "plan.c": ["client:c1"] });
  });

  it("the longest writer fits the bytes kept for headers: a value of exactly the limit is stored", async () => {
    const writer = `${"t".repeat(128)}/${"k".repeat(128)}`;
    expect(writer.length).toBe(MAX_WRITER_LENGTH);
    const memory = openMemory(raw, new Subjects("prov-edge"));
    try {
      const b = memoryAs(memory, writer).bucket("edge");
      const limit = raw.info!.max_payload - KV_WRITE_HEADER_BYTES;
      // A string whose MessagePack encoding is exactly `limit` bytes (str32 header: 5 bytes).
      await b.put("fits", "x".repeat(limit - 5));
      expect((await history(b, "fits")).map((e) => e.writer)).toEqual([writer]);
    } finally {
      await memory.close();
    }
  });

  it("a writer a header cannot carry is refused", () => {
    const memory = openMemory(raw, new Subjects("prov-bad"));
    for (const bad of ["", "a b", "x\r\ny", "y".repeat(MAX_WRITER_LENGTH + 1)]) {
      expect(() => memoryAs(memory, bad)).toThrow(InvalidArgumentError);
      expect(() => openMemory(raw, new Subjects("prov-bad"), {}, { writer: bad })).toThrow(InvalidArgumentError);
    }
  });
});
