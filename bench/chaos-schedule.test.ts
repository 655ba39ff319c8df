import { describe, expect, it } from "vitest";
import { chaosPlan, worstWindow, type ChaosStrike } from "./chaos-schedule.js";

describe("chaosPlan", () => {
  it("gives the same plan for the same seed and another for another seed", () => {
    const o = { ratePerSec: 20, durationMs: 5000, agents: 50 };
    expect(chaosPlan({ ...o, seed: 7 })).toEqual(chaosPlan({ ...o, seed: 7 }));
    expect(chaosPlan({ ...o, seed: 7 })).not.toEqual(chaosPlan({ ...o, seed: 8 }));
  });

  it("strikes at the fixed rate, on agents in range, with both kinds", () => {
    const plan = chaosPlan({ seed: 1, ratePerSec: 20, durationMs: 2000, agents: 5 });
    expect(plan).toHaveLength(40);
    expect(plan.map((s) => s.atMs).slice(0, 3)).toEqual([0, 50, 100]);
    for (const s of plan) expect(s.agent).toBeGreaterThanOrEqual(0), expect(s.agent).toBeLessThan(5);
    expect(new Set(plan.map((s) => s.kind))).toEqual(new Set(["kill", "poison"]));
  });
});

describe("worstWindow", () => {
  const at = (agent: number, atMs: number): ChaosStrike => ({ agent, atMs, kind: "kill" });

  it.each([
    ["no strikes", [], 0],
    ["one agent, all inside the period", [at(0, 0), at(0, 1000), at(0, 5000)], 3],
    ["one agent, the first falls out", [at(0, 0), at(0, 1000), at(0, 5001)], 2],
    ["strikes on different agents do not add up", [at(0, 0), at(1, 10), at(2, 20)], 1],
  ])("%s", (_label, plan, worst) => {
    expect(worstWindow(plan as ChaosStrike[], 5000)).toBe(worst);
  });
});
