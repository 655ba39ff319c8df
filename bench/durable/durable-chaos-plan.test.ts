// The durable chaos plan: every kill asked for, in an order the seed decides,
// in time order and spaced by at least the gap.

import { describe, expect, it } from "vitest";
import { DurableKill, durableChaosPlan } from "./durable-chaos-plan.js";

describe("durableChaosPlan", () => {
  const o = { nodeKills: 2, serverKills: 2, firstMs: 1_000, gapMs: 5_000, jitterMs: 500 };

  it("plans each kill once, spaced by at least the gap less the jitter", () => {
    const plan = durableChaosPlan({ seed: 7, ...o });
    expect(plan.filter((s) => s.kind === DurableKill.Node)).toHaveLength(2);
    expect(plan.filter((s) => s.kind === DurableKill.Server)).toHaveLength(2);
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.atMs - plan[i - 1]!.atMs).toBeGreaterThanOrEqual(o.gapMs - o.jitterMs);
  });

  it("gives the same plan for the same seed, and another order for some other seed", () => {
    expect(durableChaosPlan({ seed: 7, ...o })).toEqual(durableChaosPlan({ seed: 7, ...o }));
    const orders = new Set(Array.from({ length: 20 }, (_, s) => durableChaosPlan({ seed: s, ...o }).map((x) => x.kind).join()));
    expect(orders.size).toBeGreaterThan(1);
  });
});
