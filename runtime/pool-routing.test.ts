import { describe, expect, it } from "vitest";
import { hash32, leastCost, rendezvous } from "./pool-routing.js";

describe("pool routing", () => {
  it("least cost picks the cheapest member", () => {
    expect(leastCost([5, 2, 9], Math.random)).toBe(1);
  });

  it("least cost breaks ties at random, not by index", () => {
    const seen = new Set<number>();
    let s = 1;
    const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 200; i++) seen.add(leastCost([0, 3, 0, 0], random));
    expect([...seen].sort()).toEqual([0, 2, 3]);
  });

  it("rendezvous maps a key to the same member, spreads keys, and growth moves few", () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
    const at8 = keys.map((k) => rendezvous(k, 8));
    expect(keys.map((k) => rendezvous(k, 8))).toEqual(at8);
    const counts = new Array(8).fill(0);
    for (const m of at8) counts[m]++;
    for (const c of counts) expect(c).toBeGreaterThan(4000 / 8 / 1.4);
    const at9 = keys.map((k) => rendezvous(k, 9));
    const moved = at9.filter((m, i) => m !== at8[i]);
    // Only keys the new member wins move (about 1 in 9), and all of them to it.
    expect(moved.length).toBeLessThan(4000 / 9 * 1.4);
    expect(moved.every((m) => m === 8)).toBe(true);
  });

  it("hash32 is stable and spreads", () => {
    expect(hash32("a")).toBe(hash32("a"));
    expect(hash32("a")).not.toBe(hash32("b"));
  });
});
