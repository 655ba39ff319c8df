// Options for property-based tests (fast-check): a fixed seed and a bounded
// number of runs by default, so `npm test` is deterministic and quick; set
// FUZZ_RUNS (and FUZZ_SEED) for a longer or different exploration:
//
//   FUZZ_RUNS=20000 npx vitest run runtime/subjects.fuzz.test.ts
//
//   fc.assert(fc.property(fc.string(), (s) => ...), fuzzOptions());

import type { Parameters } from "fast-check";

/** Runs per property unless FUZZ_RUNS says otherwise. */
export const DEFAULT_FUZZ_RUNS = 200;

/** Seed unless FUZZ_SEED says otherwise: a failure reproduces on every machine. */
export const DEFAULT_FUZZ_SEED = 42;

/**
 * fast-check parameters for one property: seed from FUZZ_SEED (default 42), runs from
 * FUZZ_RUNS (default 200, or `overrides.numRuns` for a slow property), other fields
 * from `overrides`. FUZZ_RUNS, when set, wins: a long run is long for every property.
 */
export function fuzzOptions<T>(overrides: Parameters<T> = {}): Parameters<T> {
  return {
    ...overrides,
    seed: envInt("FUZZ_SEED", DEFAULT_FUZZ_SEED),
    numRuns: envInt("FUZZ_RUNS", overrides.numRuns ?? DEFAULT_FUZZ_RUNS),
  };
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}
