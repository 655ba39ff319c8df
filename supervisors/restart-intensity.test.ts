// The sliding restart window, including OTP's inclusive boundary.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../runtime/clock.js";
import { addRestart } from "./restart-intensity.js";

/** Restart at each of `times` (ms from 0), advancing a fake clock; returns `exceeded` per restart. */
async function run(times: number[], periodMs: number, intensity: number): Promise<boolean[]> {
  const clock = new FakeClock(0);
  let restarts: number[] = [];
  const out: boolean[] = [];
  for (const t of times) {
    await clock.advance(t - clock.now());
    const w = addRestart(restarts, clock.now(), periodMs, intensity);
    restarts = w.restarts;
    out.push(w.exceeded);
  }
  return out;
}

describe("addRestart", () => {
  const rows: [string, number[], number, number, boolean[]][] = [
    ["intensity 3 in 5000 ms: 3 restarts are fine, a 4th inside the window exceeds", [0, 1000, 2000, 3000], 5000, 3, [false, false, false, true]],
    ["restarts spaced beyond the period never exceed", [0, 5001, 10002, 15003, 20004], 5000, 1, [false, false, false, false, false]],
    ["boundary: a restart exactly periodMs ago still counts (OTP keeps t >= now - period)", [0, 5000], 5000, 1, [false, true]],
    ["boundary: one ms past the period it no longer counts", [0, 5001], 5000, 1, [false, false]],
    ["intensity 0: the first restart already exceeds", [0], 5000, 0, [true]],
    ["old restarts slide out: 4th restart fine once the 1st left the window", [0, 1000, 2000, 5001], 5000, 3, [false, false, false, false]],
  ];
  it.each(rows)("%s", async (_name, times, periodMs, intensity, expected) => {
    expect(await run(times, periodMs, intensity)).toEqual(expected);
  });

  it("keeps only restarts inside the window, oldest first, ending with now", () => {
    expect(addRestart([0, 1000, 6000], 6500, 5000, 5)).toEqual({ restarts: [6000, 6500], exceeded: false });
    expect(addRestart([1500, 6000], 6500, 5000, 1)).toEqual({ restarts: [1500, 6000, 6500], exceeded: true });
  });

  it("defaults to OTP's 1 restart in 5000 ms", () => {
    const first = addRestart([], 0);
    expect(first).toEqual({ restarts: [0], exceeded: false });
    expect(addRestart(first.restarts, 4999).exceeded).toBe(true);
    expect(addRestart(first.restarts, 5001).exceeded).toBe(false);
  });

  it("does not modify the array it is given", () => {
    const restarts = [0, 100];
    addRestart(restarts, 10_000, 5000, 1);
    expect(restarts).toEqual([0, 100]);
  });
});
