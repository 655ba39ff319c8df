// Backoff delays: growth, cap, jitter bounds, reset after a quiet period,
// and the seeded generator that makes them reproducible.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../runtime/clock.js";
import { backoffDelay, defaultResetAfterMs, INITIAL_BACKOFF_STATE, nextBackoff, seededRandom, type BackoffSpec, type BackoffState } from "./backoff.js";

const middle = () => 0.5; // no jitter
const lowest = () => 0; // -jitter
const highest = () => 0.999999; // just under +jitter

describe("backoffDelay", () => {
  const spec: BackoffSpec = { minMs: 100, maxMs: 2000, factor: 2, jitter: 0.25 };
  const rows: [string, BackoffSpec, number, () => number, number][] = [
    ["attempt 0 is minMs", spec, 0, middle, 100],
    ["attempt 3 is minMs * factor^3", spec, 3, middle, 800],
    ["growth is capped at maxMs", spec, 5, middle, 2000],
    ["far attempts stay at maxMs", spec, 2000, middle, 2000],
    ["jitter low end: -25%", spec, 3, lowest, 600],
    ["jitter high end: +25%", spec, 3, highest, 1000],
    ["jitter never takes a capped delay above maxMs", spec, 10, highest, 2000],
    ["jitter low end at the cap", spec, 10, lowest, 1500],
    ["minMs 0 means no delay, even for huge attempts", { ...spec, minMs: 0 }, 5000, highest, 0],
    ["factor 1 is a constant delay", { ...spec, factor: 1 }, 7, middle, 100],
    ["jitter 0 ignores the draw", { ...spec, jitter: 0 }, 2, highest, 400],
  ];
  it.each(rows)("%s", (_name, s, attempt, random, expected) => {
    expect(backoffDelay(s, attempt, random)).toBe(expected);
  });

  it("gives a fixed sequence for a fixed seed", () => {
    const random = seededRandom(7);
    const delays = Array.from({ length: 7 }, (_, i) => backoffDelay(spec, i, random));
    expect(delays).toEqual([76, 156, 495, 880, 1617, 1906, 1966]);
  });

  it("stays within ±jitter of the base over many draws, and uses the whole range", () => {
    const random = seededRandom(1234);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const d = backoffDelay(spec, 3, random);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    expect(lo).toBeGreaterThanOrEqual(600);
    expect(hi).toBeLessThanOrEqual(1000);
    expect(lo).toBeLessThan(610);
    expect(hi).toBeGreaterThan(990);
  });
});

describe("nextBackoff", () => {
  const spec: BackoffSpec = { minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 3000 };

  it("grows while restarts come quickly, and starts over after the quiet period", async () => {
    const clock = new FakeClock(0);
    let state: BackoffState = INITIAL_BACKOFF_STATE;
    const seen: [number, number][] = [];
    const restart = () => {
      const r = nextBackoff(state, spec, clock.now(), middle);
      state = r.state;
      seen.push([r.attempt, r.delayMs]);
      return r.delayMs;
    };
    for (let i = 0; i < 6; i++) await clock.advance(restart() + 10); // fails 10 ms after each restart
    expect(seen).toEqual([[0, 100], [1, 200], [2, 400], [3, 800], [4, 1000], [5, 1000]]);
    await clock.advance(3000); // the child ran 3010 ms since its last restart
    restart();
    expect(seen.at(-1)).toEqual([0, 100]);
    expect(state).toEqual({ attempt: 1, lastRestartAt: clock.now() + 100 });
  });

  it("measures the quiet period from when the restart happened, inclusive", () => {
    const first = nextBackoff(INITIAL_BACKOFF_STATE, spec, 0, middle); // restarts at 100
    expect(first.state).toEqual({ attempt: 1, lastRestartAt: 100 });
    expect(nextBackoff(first.state, spec, 3099, middle).attempt).toBe(1);
    expect(nextBackoff(first.state, spec, 3100, middle).attempt).toBe(0);
  });

  it("defaults the quiet period to max(2 * maxMs, 10 s)", () => {
    expect(defaultResetAfterMs({ maxMs: 1000 })).toBe(10_000);
    expect(defaultResetAfterMs({ maxMs: 30_000 })).toBe(60_000);
    const { resetAfterMs: _, ...noReset } = spec;
    const state: BackoffState = { attempt: 4, lastRestartAt: 0 };
    expect(nextBackoff(state, noReset, 9_999, middle).attempt).toBe(4);
    expect(nextBackoff(state, noReset, 10_000, middle).attempt).toBe(0);
  });

  it("with no backoff configured, every delay is 0 and no random number is drawn", () => {
    let draws = 0;
    const counting = () => (draws++, 0.5);
    const state: BackoffState = { attempt: 3, lastRestartAt: 10 };
    expect(nextBackoff(state, null, 20, counting)).toEqual({ delayMs: 0, attempt: 0, state: { attempt: 0 } });
    expect(nextBackoff(state, undefined, 20, counting).delayMs).toBe(0);
    expect(draws).toBe(0);
  });
});

describe("seededRandom", () => {
  it("is mulberry32: the same seed gives the same numbers", () => {
    const a = seededRandom(42);
    expect([a(), a(), a()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = b();
    expect(first).toBe(0.6011037519201636);
    expect(c()).not.toBe(first);
  });

  it("draws in [0, 1)", () => {
    const r = seededRandom(99);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
