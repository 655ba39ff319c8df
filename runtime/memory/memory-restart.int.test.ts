// Shared memory across a server crash: the cache stops answering while the
// connection is down, the watch re-arms from the last revision it saw after the
// restart, and a JetStream that stays down ends in MemoryUnavailableError.
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryUnavailableError } from "../errors.js";
import { Subjects } from "../subjects.js";
import { connectTo, reconnected, useNatsServer } from "../testing/server.js";
import { openMemory, type Memory, type MemoryBucket, type MemoryOptions } from "./index.js";
import type { MemoryBucketImpl } from "./memory-bucket.js";
import { MISS } from "./memory-cache.js";

const nats = useNatsServer();
let ncA: NatsConnection;
let ncB: NatsConnection;
const opened: Memory[] = [];

beforeAll(async () => {
  ncA = await connectTo(nats.url, "restart-a");
  ncB = await connectTo(nats.url, "restart-b");
});

afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
  await ncA?.close();
  await ncB?.close();
});

// Generous retries: JetStream takes a moment to come back after a restart.
const patient: MemoryOptions = { retry: { attempts: 40, minMs: 50, maxMs: 250 } };

function memory(nc: NatsConnection, ns: string, options: MemoryOptions = patient): Memory {
  const m = openMemory(nc, new Subjects(ns), options);
  opened.push(m);
  return m;
}

function impl(bucket: MemoryBucket): MemoryBucketImpl {
  return bucket as unknown as MemoryBucketImpl;
}

function cached(bucket: MemoryBucket, key: string): unknown {
  const c = impl(bucket).cache;
  return c.trusted ? c.lookup(key) : MISS;
}

async function eventually<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function restartServer(): Promise<void> {
  await nats.server.restart();
  await reconnected(ncA);
  await reconnected(ncB);
}

describe("memory across a server restart", () => {
  it("re-arms the watch after a kill and restart; a later write from another node reaches the cache", async () => {
    const a = memory(ncA, "restart1").bucket("r");
    const b = memory(ncB, "restart1").bucket("r");
    await b.put("k", "v1");
    expect((await a.get("k"))?.value).toBe("v1");
    expect(cached(a, "k")).toMatchObject({ value: "v1" });
    const w = a.watch("k");
    await w.ready;
    const armsBefore = impl(a).watcher?.arms ?? 0;
    expect(armsBefore).toBe(1);

    await nats.server.kill();
    // The disconnect is noticed and the cache stops answering.
    expect(await eventually(() => impl(a).cache.trusted, (t) => !t, 5000)).toBe(false);

    await restartServer();
    const rev = await b.put("k", "v2");

    const seen = await eventually(
      () => cached(a, "k"),
      (v) => (v as { revision?: number } | undefined)?.revision === rev,
      10_000,
    );
    expect(seen).toEqual({ value: "v2", revision: rev });
    expect(impl(a).watcher?.arms).toBeGreaterThan(armsBefore);
    // The caller's watch carried on across the restart, without a gap.
    const change = await w.next();
    expect(change.value).toMatchObject({ key: "k", value: "v2", revision: rev, op: "put" });
    w.stop();
  });

  it("fails with MemoryUnavailableError when JetStream stays down, and works again once it is back", async () => {
    const quick: MemoryOptions = { retry: { attempts: 3, minMs: 20, maxMs: 50 }, timeoutMs: 300 };
    const c = memory(ncA, "restart2", quick).bucket("down");
    await c.put("k", 1);
    expect((await c.get("k"))?.value).toBe(1); // cached

    await nats.server.kill();
    try {
      await eventually(() => impl(c).cache.trusted, (t) => !t, 5000);
      const started = Date.now();
      const putErr = await c.put("k", 2).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(putErr).toBeInstanceOf(MemoryUnavailableError);
      expect((putErr as MemoryUnavailableError).cause).toBeDefined();
      expect(Date.now() - started).toBeLessThan(5000);
      // A read of a cached key does not answer from the cache while disconnected.
      await expect(c.get("k")).rejects.toBeInstanceOf(MemoryUnavailableError);
    } finally {
      await restartServer();
    }
    const rev = await eventually(
      () => c.put("k", 3).catch(() => 0),
      (r) => r > 0,
      10_000,
    );
    expect(rev).toBeGreaterThan(0);
    expect(await c.get("k")).toEqual({ value: 3, revision: rev });
  });
});
