// The chaos monkey's plan, made up front from the run's seed: which agent
// fails when, and how. The same seed gives the same plan, so a storm can be
// repeated with `--seed N`.

import { rng } from "./random.js";

/** How an agent is made to fail: killed from outside, or sent a message its `receive` throws on. */
export const ChaosKind = { Kill: "kill", Poison: "poison" } as const;
export type ChaosKind = (typeof ChaosKind)[keyof typeof ChaosKind];

/** One failure: at `atMs` after the storm begins, agent number `agent` fails by `kind`. */
export interface ChaosStrike {
  atMs: number;
  agent: number;
  kind: ChaosKind;
}

export interface ChaosPlanOptions {
  seed: number;
  /** Failures per second, at a fixed rate. */
  ratePerSec: number;
  durationMs: number;
  /** Agents to choose from (numbered 0..agents-1). */
  agents: number;
  /** Share of strikes that are poison messages rather than kills, 0..1 (default 0.5). */
  poisonShare?: number;
}

/**
 * Strikes at a fixed rate over `durationMs`, each on a seeded random agent
 * with a seeded random kind.
 *
 * @example
 * chaosPlan({ seed: 7, ratePerSec: 20, durationMs: 1000, agents: 50 }) // 20 strikes, 50 ms apart
 */
export function chaosPlan(o: ChaosPlanOptions): ChaosStrike[] {
  if (!(o.ratePerSec > 0)) throw new RangeError(`invalid_rate: ${o.ratePerSec}`);
  if (!(o.agents >= 1)) throw new RangeError(`invalid_agents: ${o.agents}`);
  const r = rng(o.seed);
  const poisonShare = o.poisonShare ?? 0.5;
  const intervalMs = 1000 / o.ratePerSec;
  const out: ChaosStrike[] = [];
  for (let i = 0; i * intervalMs < o.durationMs; i++) {
    const agent = r.int(0, o.agents - 1);
    const kind = r.next() < poisonShare ? ChaosKind.Poison : ChaosKind.Kill;
    out.push({ atMs: Math.round(i * intervalMs), agent, kind });
  }
  return out;
}

/** The most strikes any one agent gets within any window of `periodMs` (inclusive, as restart intensity counts). */
export function worstWindow(plan: readonly ChaosStrike[], periodMs: number): number {
  const byAgent = new Map<number, number[]>();
  for (const s of plan) {
    const times = byAgent.get(s.agent) ?? [];
    times.push(s.atMs);
    byAgent.set(s.agent, times);
  }
  let worst = 0;
  for (const times of byAgent.values()) {
    times.sort((a, b) => a - b);
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while (times[hi]! - times[lo]! > periodMs) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
  }
  return worst;
}
