// Seeded randomness for scenarios, so a run (which messages, when the chaos
// strikes) can be repeated with `--seed N`.

import { seededRandom } from "../supervisors/backoff.js";

/** A random source: `next()` in [0, 1). */
export interface Rng {
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
}

/**
 * A seeded generator (the supervisors' mulberry32), with integers. Not for cryptography.
 *
 * @example
 * const r = rng(42);
 * r.int(100, 500); // the same number on every run with seed 42
 */
export function rng(seed: number): Rng {
  const next = seededRandom(seed);
  return {
    next,
    int(min, max) {
      return min + Math.floor(next() * (max - min + 1));
    },
  };
}

/**
 * A shuffled copy of `items` (Fisher-Yates with `random`): the order in which
 * a scenario runs its variants in a round, the same for the same seed.
 */
export function shuffled<T>(items: readonly T[], random: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A seed for a run when none was given: printed and recorded, so the run can be repeated. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 1_000_000) + 1;
}
