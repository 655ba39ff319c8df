// The order a node lists its agents in: sorted once per listing, kept for
// that listing's later pages for a while, and resumable after any id.

import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { LISTING_REUSE_MS, ListingOrder } from "./listing-order.js";
import type { AgentId } from "./subjects.js";

const ids = (...xs: string[]) => xs as AgentId[];

describe("ListingOrder", () => {
  it("lists ids in code-unit order without duplicates, and resumes after any id, listed or not", () => {
    const order = new ListingOrder(new FakeClock(0));
    const now = ids("b/2", "a/1", "B/9", "a/1", "b/10");
    expect([...order.after(undefined, () => now)]).toEqual(["B/9", "a/1", "b/10", "b/2"]);
    expect([...order.after("a/1" as AgentId, () => now)]).toEqual(["b/10", "b/2"]);
    expect([...order.after("a/5" as AgentId, () => now)]).toEqual(["b/10", "b/2"]);
    expect([...order.after("z/z" as AgentId, () => now)]).toEqual([]);
  });

  it("sorts once per listing: later pages reuse the first page's order until it is too old", async () => {
    const clock = new FakeClock(0);
    const order = new ListingOrder(clock);
    let reads = 0;
    let now = ids("a/1", "a/2", "a/3");
    const current = () => (reads++, now);
    expect([...order.after(undefined, current)]).toEqual(["a/1", "a/2", "a/3"]);
    now = ids("a/1", "a/2", "a/3", "a/0", "a/4");
    expect([...order.after("a/1" as AgentId, current)]).toEqual(["a/2", "a/3"]);
    expect(reads).toBe(1);
    await clock.advance(LISTING_REUSE_MS);
    expect([...order.after("a/1" as AgentId, current)]).toEqual(["a/2", "a/3", "a/4"]);
    expect(reads).toBe(2);
    expect([...order.after(undefined, current)]).toEqual(["a/0", "a/1", "a/2", "a/3", "a/4"]);
    expect(reads).toBe(3);
  });
});
