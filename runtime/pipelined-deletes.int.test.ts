// Pipelined KV deletes against a real server: a delete on the revision last
// written is stored, one on a stale revision is refused and leaves the entry,
// many at once all land, and nothing stays subscribed once they are answered.

import { Bucket, Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { FakeClock, systemClock } from "./clock.js";
import { PipelinedDeletes } from "./pipelined-deletes.js";
import { useConnection, useNatsServer } from "./testing/server.js";

const nats = useNatsServer();
const conn = useConnection(nats);
let seq = 0;

async function bucket(): Promise<Bucket> {
  const kv = await new Kvm(conn.nc).create(`pd${process.pid}x${++seq}`, { history: 1 });
  if (!(kv instanceof Bucket)) throw new Error("unexpected bucket implementation");
  return kv;
}

async function liveKeys(kv: Bucket): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return keys.sort();
}

describe("PipelinedDeletes", () => {
  it("deletes an entry whose revision is the one given, and refuses one that changed since", async () => {
    const kv = await bucket();
    const deletes = new PipelinedDeletes(conn.nc, kv, systemClock, 5000);
    const a = await kv.create("t.a", new Uint8Array([1]));
    const b = await kv.create("t.b", new Uint8Array([1]));
    await kv.put("t.b", new Uint8Array([2])); // b moved on: its first revision is stale
    expect(await Promise.all([deletes.delete("t.a", a), deletes.delete("t.b", b)])).toEqual([true, false]);
    expect(await liveKeys(kv)).toEqual(["t.b"]);
    expect((await kv.get("t.a"))?.operation).toBe("DEL");
    expect(deletes.inFlight).toBe(0);
  });

  it("lands thousands of deletes sent at once, each answered", async () => {
    const kv = await bucket();
    const deletes = new PipelinedDeletes(conn.nc, kv, systemClock, 30_000);
    const revisions = await Promise.all(Array.from({ length: 2000 }, (_, i) => kv.create(`t.k${i}`, new Uint8Array([i % 256]))));
    const results = await Promise.all(revisions.map((rev, i) => deletes.delete(`t.k${i}`, rev)));
    expect(results.every((r) => r)).toBe(true);
    expect(await liveKeys(kv)).toEqual([]);
    expect(deletes.inFlight).toBe(0);
  });

  it("answers false, never throws, when no stream takes the delete", async () => {
    const kv = await bucket();
    const deletes = new PipelinedDeletes(conn.nc, kv, systemClock, 5000);
    const rev = await kv.create("t.x", new Uint8Array([1]));
    await kv.destroy();
    expect(await deletes.delete("t.x", rev)).toBe(false);
    expect(deletes.inFlight).toBe(0);
  });

  it("answers false once its time is up when nothing acks the delete", async () => {
    const kv = await bucket();
    const clock = new FakeClock(0);
    const deletes = new PipelinedDeletes(conn.nc, kv, clock, 5000);
    const rev = await kv.create("t.y", new Uint8Array([1]));
    await kv.destroy();
    // Something takes the delete (so the server reports no missing responder) but never answers it.
    const silent = conn.nc.subscribe(`${kv.subjectForKey("t.y", true)}`, { callback: () => {} });
    await conn.nc.flush();
    const outcome = deletes.delete("t.y", rev);
    await conn.nc.flush();
    expect(deletes.inFlight).toBe(1);
    await clock.advance(5000);
    expect(await outcome).toBe(false);
    expect(deletes.inFlight).toBe(0);
    silent.unsubscribe();
  });
});
