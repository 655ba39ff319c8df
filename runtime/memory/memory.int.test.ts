// Shared memory against a real nats-server: reads and writes, compare-and-set,
// keys, history, watches, two nodes sharing a bucket through their caches, and
// the failures a caller must be able to tell apart.
import { decode } from "@msgpack/msgpack";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  InvalidConfigError,
  InvalidKeyError,
  KeyExistsError,
  RevisionConflictError,
  ValueDecodeError,
  ValueTooLargeError,
} from "../errors.js";
import { Subjects } from "../subjects.js";
import { connectTo, useNatsServer } from "../testing/server.js";
import { openMemory, type Memory, type MemoryBucket, type MemoryChange, type MemoryOptions } from "./index.js";
import type { MemoryBucketImpl } from "./memory-bucket.js";
import { KV_WRITE_HEADER_BYTES } from "./kv-publish.js";
import { MISS } from "./memory-cache.js";

const nats = useNatsServer();
let ncA: NatsConnection;
let ncB: NatsConnection;
const opened: Memory[] = [];
let nsCounter = 0;

beforeAll(async () => {
  ncA = await connectTo(nats.url, "memory-a");
  ncB = await connectTo(nats.url, "memory-b");
});

afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
  await ncA?.close();
  await ncB?.close();
});

/** A fresh namespace per test, so tests never share a bucket by accident. */
function namespace(): Subjects {
  return new Subjects(`mem${process.pid}t${nsCounter++}`);
}

function memory(nc: NatsConnection, subjects: Subjects, options?: MemoryOptions): Memory {
  const m = openMemory(nc, subjects, options);
  opened.push(m);
  return m;
}

/** The cache's answer for `key` without touching the server. */
function cached(bucket: MemoryBucket, key: string): unknown {
  const c = (bucket as unknown as MemoryBucketImpl).cache;
  if (!c.trusted) return MISS;
  return c.lookup(key);
}

async function eventually<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe("memory: reads and writes", () => {
  it("puts and gets values with increasing revisions; a missing key is undefined", async () => {
    const facts = memory(ncA, namespace()).bucket("facts");
    expect(facts.name).toMatch(/_mem_facts$/);
    const r1 = await facts.put("user.42.name", "Ada");
    const r2 = await facts.put("user.42.langs", ["en", "fr"]);
    expect(r2).toBeGreaterThan(r1);
    expect(await facts.get("user.42.name")).toEqual({ value: "Ada", revision: r1 });
    expect(await facts.get("user.42.langs")).toEqual({ value: ["en", "fr"], revision: r2 });
    expect(await facts.get("user.43.name")).toBeUndefined();
  });

  it("the default bucket is troupe_<ns>_mem and bucket(name) is the same object each time", async () => {
    const ns = namespace();
    const mem = memory(ncA, ns);
    expect(mem.name).toBe(`troupe_${ns.ns}_mem`);
    expect(mem.bucket("facts")).toBe(mem.bucket("facts"));
    expect(mem.bucket("facts")).not.toBe(mem.bucket("other"));
    await mem.put("k", { n: 1 });
    expect((await mem.get("k"))?.value).toEqual({ n: 1 });
    const kv = await new Kvm(ncA).open(`troupe_${ns.ns}_mem`);
    expect((await kv.status()).history).toBe(5);
  });

  it("create fails with KeyExistsError when the key exists, and works again after a delete", async () => {
    const b = memory(ncA, namespace()).bucket("c");
    const rev = await b.create("k", 1);
    const err = await rejection(b.create("k", 2));
    expect(err).toBeInstanceOf(KeyExistsError);
    expect((err as KeyExistsError).key).toBe("k");
    expect(await b.get("k")).toEqual({ value: 1, revision: rev });
    await b.delete("k");
    const again = await b.create("k", 3);
    expect(await b.get("k")).toEqual({ value: 3, revision: again });
  });

  it("update with a stale revision fails with RevisionConflictError and writes nothing", async () => {
    const b = memory(ncA, namespace()).bucket("u");
    const r1 = await b.put("k", "a");
    const r2 = await b.update("k", "b", r1);
    expect(r2).toBeGreaterThan(r1);
    const err = await rejection(b.update("k", "c", r1));
    expect(err).toBeInstanceOf(RevisionConflictError);
    expect((err as RevisionConflictError).expected).toBe(r1);
    expect(await b.get("k")).toEqual({ value: "b", revision: r2 });
    await expect(b.update("k", "x", 0)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("delete makes the key read as missing, on this node at once", async () => {
    const b = memory(ncA, namespace()).bucket("d");
    await b.put("k", 1);
    expect((await b.get("k"))?.value).toBe(1);
    const rev = await b.delete("k");
    expect(rev).toBeGreaterThan(0);
    expect(await b.get("k")).toBeUndefined();
  });

  it("modify runs a compare-and-set: creates, then updates from the current value", async () => {
    const b = memory(ncA, namespace()).bucket("m");
    const first = await b.modify<number>("n", (n) => (n ?? 0) + 1);
    expect(first.value).toBe(1);
    const second = await b.modify<number>("n", (n) => (n ?? 0) + 10);
    expect(second).toEqual({ value: 11, revision: second.revision });
    expect((await b.get("n"))?.value).toBe(11);
  });

  it("keys lists live keys, filtered by a pattern", async () => {
    const b = memory(ncA, namespace()).bucket("k");
    await b.put("user.1.name", "a");
    await b.put("user.2.name", "b");
    await b.put("user.2.email", "b@x");
    await b.put("team.1", "t");
    await b.put("gone", 1);
    await b.delete("gone");
    expect((await collect(b.keys())).sort()).toEqual(["team.1", "user.1.name", "user.2.email", "user.2.name"]);
    expect((await collect(b.keys("user.>"))).sort()).toEqual(["user.1.name", "user.2.email", "user.2.name"]);
    expect((await collect(b.keys("user.*.name"))).sort()).toEqual(["user.1.name", "user.2.name"]);
    expect(await collect(b.keys("nobody.>"))).toEqual([]);
  });

  it("history returns the kept revisions of a key, oldest first, deletes included", async () => {
    const b = memory(ncA, namespace(), { history: 3 }).bucket("h");
    const revs: number[] = [];
    for (const v of ["a", "b", "c", "d"]) revs.push(await b.put("k", v));
    const del = await b.delete("k");
    const h = await collect(b.history("k"));
    // history 3: the last three of a, b, c, d, <delete>
    expect(h.map((e) => [e.op, e.value, e.revision])).toEqual([
      ["put", "c", revs[2]],
      ["put", "d", revs[3]],
      ["delete", undefined, del],
    ]);
    expect(h[0]!.key).toBe("k");
    expect(h[0]!.created).toBeInstanceOf(Date);
  });

  it("history with latest gives each key's last revision only, in the order they were written", async () => {
    const b = memory(ncA, namespace()).bucket("hl");
    await b.put("x.1", "old");
    const only = await b.put("x.2", "only");
    const last = await b.put("x.1", "new");
    await b.put("x.3", "gone");
    const del = await b.delete("x.3");
    const h = await collect(b.history("x.>", { latest: true }));
    expect(h.map((e) => [e.key, e.op, e.value, e.revision])).toEqual([
      ["x.2", "put", "only", only],
      ["x.1", "put", "new", last],
      ["x.3", "delete", undefined, del],
    ]);
  });

  it("a value over maxValueBytes fails with ValueTooLargeError and nothing is written", async () => {
    const b = memory(ncA, namespace(), { maxValueBytes: 1000 }).bucket("big");
    await b.put("other", 1); // the bucket exists: a write would have landed
    const err = await rejection(b.put("k", "x".repeat(2000)));
    expect(err).toBeInstanceOf(ValueTooLargeError);
    expect((err as ValueTooLargeError).limit).toBe(1000);
    await expect(b.create("k", "x".repeat(2000))).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await b.get("k")).toBeUndefined();
    expect(await collect(b.history("k"))).toEqual([]);
  });

  it("undefined is not a storable value", async () => {
    const b = memory(ncA, namespace()).bucket("undef");
    await expect(b.put("k", undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(b.modify("k", () => undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await b.get("k")).toBeUndefined();
  });

  it("invalid keys fail with InvalidKeyError before any I/O: the bucket is never created", async () => {
    const ns = namespace();
    const b = memory(ncA, ns).bucket("untouched");
    const bad = "bad key";
    await expect(b.get(bad)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.put(bad, 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.put("a.", 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.put("a.*", 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.create("..", 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.update("", 1, 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.delete(">")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(b.modify("a b", () => 1)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => b.keys("a>")).toThrow(InvalidKeyError);
    expect(() => b.history("a..b")).toThrow(InvalidKeyError);
    expect(() => b.watch("a.>.b")).toThrow(InvalidKeyError);
    expect(() => memory(ncA, ns).bucket("no.dots")).toThrow(InvalidKeyError);
    const jsm = await jetstreamManager(ncA);
    await expect(jsm.streams.info(`KV_troupe_${ns.ns}_mem_untouched`)).rejects.toThrow(/stream not found/);
  });

  it("a stored value that does not decode gives ValueDecodeError naming the key; other keys stay readable", async () => {
    const ns = namespace();
    const b = memory(ncA, ns).bucket("raw");
    await b.put("good", { ok: true });
    const w = b.watch("bad");
    await w.ready;
    const raw = await new Kvm(ncB).open(`troupe_${ns.ns}_mem_raw`);
    const badRev = await raw.put("bad", new Uint8Array([0xc1, 0xc1]));
    const change = (await w.next()).value as MemoryChange;
    expect(change).toMatchObject({ key: "bad", revision: badRev, op: "put", value: undefined });
    expect(change.error).toBeInstanceOf(ValueDecodeError);
    w.stop();
    const err = await rejection(b.get("bad"));
    expect(err).toBeInstanceOf(ValueDecodeError);
    expect((err as ValueDecodeError).key).toBe("bad");
    expect((await b.get("good"))?.value).toEqual({ ok: true });
    expect((await collect(b.keys())).sort()).toEqual(["bad", "good"]);
    const h = await collect(b.history(">"));
    const badEntry = h.find((e) => e.key === "bad");
    expect(badEntry?.revision).toBe(badRev);
    expect(badEntry?.value).toBeUndefined();
    expect(badEntry?.error).toBeInstanceOf(ValueDecodeError);
    expect(h.find((e) => e.key === "good")?.value).toEqual({ ok: true });
    // modify cannot compute from a value it cannot read
    await expect(b.modify("bad", () => 1)).rejects.toBeInstanceOf(ValueDecodeError);
    // overwriting it makes it readable again
    await b.put("bad", "fixed");
    expect((await b.get("bad"))?.value).toBe("fixed");
  });
});

describe("memory: limits", () => {
  it("a 5,000-character key fails with InvalidKeyError before any I/O, and the connection stays up", async () => {
    const nc = await connectTo(nats.url, "memory-long-key");
    const events: string[] = [];
    const status = nc.status();
    void (async () => {
      for await (const e of status) events.push(e.type);
    })();
    try {
      const b = memory(nc, namespace()).bucket("long");
      await b.put("warm", 1);
      const long = "k".repeat(5000);
      const before = nc.stats().outMsgs;
      for (const op of [
        () => b.put(long, 1),
        () => b.get(long),
        () => b.create(long, 1),
        () => b.update(long, 1, 1),
        () => b.delete(long),
        () => b.modify(long, () => 1),
        () => b.get(long, { fresh: true }),
      ]) {
        const err = await rejection(op());
        expect(err).toBeInstanceOf(InvalidKeyError);
        expect((err as Error).message).toContain("at most 1024 characters");
      }
      expect(() => b.keys(`${long}.>`)).toThrow(InvalidKeyError);
      expect(() => b.history(long)).toThrow(InvalidKeyError);
      expect(() => b.watch(long)).toThrow(InvalidKeyError);
      expect(nc.stats().outMsgs).toBe(before);
      // The longest key allowed is stored and read back on the same connection.
      const longest = "k".repeat(1024);
      const rev = await b.put(longest, "ok");
      expect(await b.get(longest, { fresh: true })).toEqual({ value: "ok", revision: rev });
      expect((await collect(b.history(longest))).map((e) => e.revision)).toEqual([rev]);
      await nc.flush();
      expect(events.filter((t) => t === "disconnect" || t === "reconnect")).toEqual([]);
      expect(nc.isClosed()).toBe(false);
    } finally {
      await nc.close();
    }
  });
});

describe("memory: value size", () => {
  /** A string whose MessagePack encoding is exactly `bytes` long (str32 header: 5 bytes). */
  const encodedAs = (bytes: number) => "x".repeat(bytes - 5);

  it("a value of exactly the limit is stored; one byte more, or the server's max_payload, fails with ValueTooLargeError", async () => {
    const max = ncA.info!.max_payload;
    const b = memory(ncA, namespace()).bucket("edge");
    const limit = max - KV_WRITE_HEADER_BYTES;
    const rev = await b.put("fits", encodedAs(limit));
    expect((await b.get<string>("fits", { fresh: true }))?.revision).toBe(rev);
    const rev2 = await b.update("fits", encodedAs(limit), rev);
    expect(rev2).toBeGreaterThan(rev);
    for (const size of [limit + 1, max, max + 1]) {
      const err = await rejection(b.put("big", encodedAs(size)));
      expect(err).toBeInstanceOf(ValueTooLargeError);
      expect(err).toMatchObject({ code: "VALUE_TOO_LARGE", key: "big", bytes: size, limit });
    }
    await expect(b.update("fits", encodedAs(max), rev2)).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(b.modify("fits", () => encodedAs(max))).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await b.get("big", { fresh: true })).toBeUndefined();
  });

  it("a bucket created elsewhere with a smaller max value size refuses with ValueTooLargeError naming that limit", async () => {
    const ns = namespace();
    await new Kvm(ncB).create(`troupe_${ns.ns}_mem_small`, { maxValueSize: 1000 });
    const b = memory(ncA, ns).bucket("small");
    const rev = await b.put("ok", "y".repeat(500));
    for (const write of [() => b.put("k", "y".repeat(2000)), () => b.create("k", "y".repeat(2000)), () => b.update("ok", "y".repeat(2000), rev)]) {
      const err = await rejection(write());
      expect(err).toBeInstanceOf(ValueTooLargeError);
      expect(err).toMatchObject({ key: expect.any(String), bytes: 2003, limit: 1000 - KV_WRITE_HEADER_BYTES });
      expect(((err as Error).cause as { code?: unknown }).code).toBe(10054);
    }
    expect(await b.get("k", { fresh: true })).toBeUndefined();
    expect((await b.get("ok", { fresh: true }))?.revision).toBe(rev);
  });
});

describe("memory: configuration and closing", () => {
  it("rejects a maxValueBytes over the server's max_payload, naming the field", () => {
    const max = ncA.info!.max_payload;
    const err = (() => {
      try {
        openMemory(ncA, namespace(), { maxValueBytes: max + 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field).toBe("maxValueBytes");
  });

  it("close() ends callers' watches and the bucket's watch; reads and writes still work, uncached", async () => {
    const mem = openMemory(ncA, namespace());
    const b = mem.bucket("c");
    await b.put("k", 1);
    const w = b.watch();
    await w.ready;
    const pending = w.next();
    await mem.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    const impl = b as unknown as MemoryBucketImpl;
    expect(impl.watcher?.state).toBe("closed");
    expect(impl.cache.trusted).toBe(false);
    expect((await b.get("k"))?.value).toBe(1);
    const rev = await b.put("k", 2);
    expect(await b.get("k")).toEqual({ value: 2, revision: rev });
    const late = b.watch();
    expect(await late.next()).toEqual({ value: undefined, done: true });
  });
});

describe("memory: watch", () => {
  it("delivers changes made after the call, filtered by pattern, deletes included; break ends it", async () => {
    const b = memory(ncA, namespace()).bucket("w");
    await b.put("user.0", "before");
    const w = b.watch("user.>");
    await w.ready;
    const seen: MemoryChange[] = [];
    const done = (async () => {
      for await (const c of w) {
        seen.push(c);
        if (seen.length === 3) break;
      }
    })();
    const r1 = await b.put("user.1", "a");
    await b.put("team.1", "ignored");
    const r2 = await b.put("user.2", { x: 1 });
    const r3 = await b.delete("user.1");
    await done;
    expect(seen.map((c) => [c.key, c.op, c.value, c.revision])).toEqual([
      ["user.1", "put", "a", r1],
      ["user.2", "put", { x: 1 }, r2],
      ["user.1", "delete", undefined, r3],
    ]);
    // after break the iterator is finished
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it("sees another node's writes, and stop() ends a pending iteration", async () => {
    const ns = namespace();
    const a = memory(ncA, ns).bucket("shared");
    const b = memory(ncB, ns).bucket("shared");
    const w = a.watch();
    await w.ready;
    const rev = await b.put("x", 42);
    const first = await w.next();
    expect(first.value).toMatchObject({ key: "x", value: 42, revision: rev, op: "put" });
    const pending = w.next();
    w.stop();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it("another node's 1,000 rapid writes to a key: revisions in order, values true to them, every skipped revision counted, the last one delivered", async () => {
    const ns = namespace();
    const a = memory(ncA, ns, { history: 1 }).bucket("burst");
    const b = memory(ncB, ns, { history: 1 }).bucket("burst");
    await b.put("k", -1);
    const w = a.watch<number>("k");
    await w.ready;
    const writes = 1000;
    // Concurrent writes: the key changes faster than the watch reads, and history 1 keeps only the last.
    const revisions = await Promise.all(Array.from({ length: writes }, (_, i) => b.put("k", i)));
    const valueAt = new Map(revisions.map((rev, i) => [rev, i]));
    const last = Math.max(...revisions);
    const seen: MemoryChange<number>[] = [];
    for await (const c of w) {
      seen.push(c);
      if (c.revision === last) break;
    }
    expect(seen.at(-1)?.revision).toBe(last);
    expect(seen.at(-1)?.value).toBe(valueAt.get(last));
    for (let i = 0; i < seen.length; i++) {
      const c = seen[i]!;
      expect(c.value).toBe(valueAt.get(c.revision));
      if (i > 0) expect(c.revision).toBeGreaterThan(seen[i - 1]!.revision);
      expect(Number.isInteger(c.missed) && c.missed >= 0).toBe(true);
    }
    // Only this key changed: every revision was either delivered or counted as missed.
    expect(seen.reduce((n, c) => n + 1 + c.missed, 0)).toBe(writes);
  });
});

describe("memory: two nodes and the cache", () => {
  it("a node reads its own write at once, from its cache", async () => {
    const b = memory(ncA, namespace()).bucket("own");
    await b.get("warm"); // first use: the watch is armed
    const rev = await b.put("k", "mine");
    expect(cached(b, "k")).toEqual({ value: "mine", revision: rev });
    expect(await b.get("k")).toEqual({ value: "mine", revision: rev });
    const rev2 = await b.put("k", "again");
    expect(await b.get("k")).toEqual({ value: "again", revision: rev2 });
    await b.delete("k");
    expect(cached(b, "k")).toBeUndefined();
  });

  it("a write on one node reaches the other's cached read within a bound, without a server read", async () => {
    const ns = namespace();
    const a = memory(ncA, ns).bucket("shared");
    const b = memory(ncB, ns).bucket("shared");
    await b.put("k", "v1");
    expect((await a.get("k"))?.value).toBe("v1"); // a now caches k
    expect(cached(a, "k")).toMatchObject({ value: "v1" });

    const rev = await b.put("k", "v2");
    const start = Date.now();
    const seen = await eventually(
      () => cached(a, "k"),
      (v) => (v as { revision?: number } | undefined)?.revision === rev,
      2000,
    );
    expect(seen).toEqual({ value: "v2", revision: rev });
    expect(Date.now() - start).toBeLessThan(2000);
    expect(await a.get("k")).toEqual({ value: "v2", revision: rev });

    // a delete travels the same way
    await b.delete("k");
    expect(await eventually(() => cached(a, "k"), (v) => v === undefined, 2000)).toBeUndefined();
  });

  it("concurrent modify() increments from two connections end at the exact total", async () => {
    const ns = namespace();
    const a = memory(ncA, ns).bucket("race");
    const b = memory(ncB, ns).bucket("race");
    const perNode = 25;
    const inc = (m: MemoryBucket) => m.modify<number>("counter", (n) => (n ?? 0) + 1);
    const results = await Promise.all([
      ...Array.from({ length: perNode }, () => inc(a)),
      ...Array.from({ length: perNode }, () => inc(b)),
    ]);
    // the server holds the exact total
    const raw = await new Kvm(ncA).open(`troupe_${ns.ns}_mem_race`);
    const stored = await raw.get("counter");
    expect(stored?.operation).toBe("PUT");
    expect(decode(stored!.value)).toBe(2 * perNode);
    expect((await a.get<number>("counter", { fresh: true }))?.value).toBe(2 * perNode);
    // every increment produced a distinct value: no update was lost or applied twice
    expect(new Set(results.map((r) => r.value)).size).toBe(2 * perNode);
    // both caches converge on it
    for (const m of [a, b]) {
      expect((await eventually(() => m.get<number>("counter"), (v) => v?.value === 2 * perNode, 2000))?.value).toBe(
        2 * perNode,
      );
    }
  });

  it("serves a cached get without a round trip to the server", async () => {
    const ns = namespace();
    const b = memory(ncA, ns).bucket("cached");
    await b.put("k", { name: "Ada", tags: ["a", "b"], n: 1 });
    await b.get("k");
    const before = ncA.stats().outMsgs;
    for (let i = 0; i < 1000; i++) expect((await b.get<{ n: number }>("k"))?.value.n).toBe(1);
    expect(ncA.stats().outMsgs).toBe(before);
    await b.get("k", { fresh: true });
    expect(ncA.stats().outMsgs).toBeGreaterThan(before);
  });
});
