// The cache's coherence rules, without a server: trust, newer-revision-wins,
// in-flight operations racing watch changes, epochs, bounds, lazy decoding.
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { ValueDecodeError } from "../errors.js";
import { MemoryCache, MISS } from "./memory-cache.js";

const big = { maxEntries: 100, maxBytes: 1 << 20 };
const bytes = (v: unknown) => encode(v);

function trusted(limits = big): MemoryCache {
  const c = new MemoryCache(limits);
  c.trust();
  return c;
}

describe("MemoryCache", () => {
  it("answers nothing until an operation installs a value", () => {
    const c = trusted();
    expect(c.lookup("a")).toBe(MISS);
    const t = c.begin("a");
    c.install(t, 3, bytes("x"));
    c.end(t);
    expect(c.lookup("a")).toEqual({ value: "x", revision: 3 });
  });

  it("does not install while distrusted, nor results of operations begun before a distrust", () => {
    const c = new MemoryCache(big);
    const t1 = c.begin("a");
    c.install(t1, 1, bytes(1));
    c.end(t1);
    c.trust();
    expect(c.lookup("a")).toBe(MISS);

    const t2 = c.begin("a");
    c.distrust();
    c.trust();
    c.install(t2, 2, bytes(2));
    c.end(t2);
    expect(c.lookup("a")).toBe(MISS);
  });

  it("a watch change replaces a cached entry only when newer", () => {
    const c = trusted();
    const t = c.begin("a");
    c.install(t, 5, bytes("five"));
    c.end(t);
    c.applyChange("a", 4, bytes("four"));
    expect(c.lookup("a")).toEqual({ value: "five", revision: 5 });
    c.applyChange("a", 6, bytes("six"));
    expect(c.lookup("a")).toEqual({ value: "six", revision: 6 });
    c.applyChange("a", 7, undefined);
    expect(c.lookup("a")).toBeUndefined();
    expect(c.position).toBe(7);
  });

  it("ignores changes to keys it does not hold and nobody is using", () => {
    const c = trusted();
    c.applyChange("a", 1, bytes(1));
    expect(c.lookup("a")).toBe(MISS);
    expect(c.size).toBe(0);
  });

  it("a slow read cannot install an older value over a change that arrived meanwhile", () => {
    const c = trusted();
    const read = c.begin("a"); // read in flight; the server answers revision 1
    c.applyChange("a", 2, bytes("new")); // another node's write arrives first
    c.install(read, 1, bytes("old"));
    c.end(read);
    expect(c.lookup("a")).toEqual({ value: "new", revision: 2 });
  });

  it("a read that found nothing cannot hide a write made after it began", () => {
    const c = trusted();
    c.position = 10;
    const read = c.begin("a"); // server says: no such key
    c.applyChange("a", 11, bytes("born"));
    c.installAbsent(read);
    c.end(read);
    expect(c.lookup("a")).toEqual({ value: "born", revision: 11 });

    const c2 = trusted();
    c2.position = 10;
    const read2 = c2.begin("b");
    c2.installAbsent(read2);
    c2.end(read2);
    expect(c2.lookup("b")).toBeUndefined(); // known absent
    c2.applyChange("b", 11, bytes("later"));
    expect(c2.lookup("b")).toEqual({ value: "later", revision: 11 });
  });

  it("an own write is readable at once, unless something newer is already there", () => {
    const c = trusted();
    const w = c.begin("a");
    c.applyChange("a", 9, bytes("other")); // a newer write from elsewhere, seen first
    c.install(w, 8, bytes("mine"));
    c.end(w);
    expect(c.lookup("a")).toEqual({ value: "other", revision: 9 });
  });

  it("an own write that straddles a re-arm drops the entry it replaced", () => {
    // The watch applied revision 1 and the node read it; then the connection dropped.
    for (const trustedBeforeWriteEnds of [false, true]) {
      const c = trusted();
      c.position = 1;
      const r = c.begin("k");
      c.install(r, 1, bytes(1));
      c.end(r);
      c.distrust();
      // After the reconnect the node writes revision 2 while the watch re-arms from 2
      // (the stream's last revision was still 1): nothing to catch up, so it trusts the
      // cache at once, either before or after the write returns...
      const w = c.begin("k");
      if (trustedBeforeWriteEnds) c.trust();
      c.install(w, 2, bytes(3));
      c.end(w);
      c.trust();
      // ...and revision 2 has not reached the watch yet: the node must not read revision 1.
      expect(c.lookup("k")).toBe(MISS);
      c.applyChange("k", 2, bytes(3));
      expect(c.lookup("k")).toBe(MISS); // not cached, nothing in flight: the next read fetches it
    }
  });

  it("a result that cannot be installed keeps a newer entry", () => {
    const c = trusted();
    const t = c.begin("k");
    c.install(t, 5, bytes("five"));
    c.end(t);
    const late = c.begin("k");
    c.distrust();
    c.trust();
    c.install(late, 4, bytes("four"));
    c.end(late);
    expect(c.lookup("k")).toEqual({ value: "five", revision: 5 });
  });

  it("decodes once and returns the same object on every hit", () => {
    const c = trusted();
    const t = c.begin("a");
    c.install(t, 1, bytes({ n: 1 }));
    c.end(t);
    const first = c.lookup("a");
    expect(c.lookup("a")).toBe(first);
  });

  it("an entry that does not decode throws ValueDecodeError naming the key and is forgotten", () => {
    const c = trusted();
    const t = c.begin("bad");
    c.install(t, 1, new Uint8Array([0xc1]));
    c.end(t);
    expect(() => c.lookup("bad")).toThrow(ValueDecodeError);
    try {
      c.lookup("bad");
    } catch {
      // already forgotten: no second throw
    }
    expect(c.lookup("bad")).toBe(MISS);
  });

  it("is bounded by entries and by bytes", () => {
    const byCount = trusted({ maxEntries: 2, maxBytes: 1 << 20 });
    for (const k of ["a", "b", "c"]) {
      const t = byCount.begin(k);
      byCount.install(t, 1, bytes(k));
      byCount.end(t);
    }
    expect(byCount.size).toBe(2);
    expect(byCount.lookup("a")).toBe(MISS);

    const byBytes = trusted({ maxEntries: 100, maxBytes: 1000 });
    for (let i = 0; i < 10; i++) {
      const t = byBytes.begin(`k${i}`);
      byBytes.install(t, 1, bytes("x".repeat(300)));
      byBytes.end(t);
    }
    expect(byBytes.size).toBeLessThanOrEqual(2);
  });

  it("maxEntries 0 turns caching off", () => {
    const c = trusted({ maxEntries: 0, maxBytes: 1000 });
    const t = c.begin("a");
    c.install(t, 1, bytes(1));
    c.end(t);
    expect(c.lookup("a")).toBe(MISS);
  });
});
