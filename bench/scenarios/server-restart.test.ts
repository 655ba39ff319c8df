// The arithmetic the server-restart scenario reads off its throughput line:
// the rate before a kill, and how long after it the line is back.

import { describe, expect, it } from "vitest";
import type { SeriesPoint } from "../timeline.js";
import { meanRate, rateBeforeKill, recoveryMs } from "./server-restart.js";

/** 100 ms buckets with the given rates. */
const line = (...values: number[]): SeriesPoint[] => values.map((value, i) => ({ tMs: i * 100, value }));

describe("recoveryMs", () => {
  // 200/s before the kill at 300 ms, nothing until 800 ms, a slow start, then steady again from 1000 ms.
  const points = line(200, 200, 200, 150, 0, 0, 0, 0, 50, 100, 200, 190, 200, 210, 200, 200);

  it.each([
    ["back at the start of the first 500 ms window at ≥ 80%", 800, 2_000, 0.8, 600],
    ["never earlier than the first answer", 1_050, 2_000, 0.8, 750],
    ["NaN when no window starts before the limit", 800, 900, 0.8, NaN],
    ["NaN when the rate never gets back", 800, 2_000, 1.5, NaN],
  ])("%s", (_label, firstAnswerMs, untilMs, fraction, expected) => {
    expect(recoveryMs(points, 100, 300, firstAnswerMs, untilMs, 200, 500, fraction)).toBe(expected);
  });

  it("is NaN without a rate to get back to or without a first answer", () => {
    expect(recoveryMs(points, 100, 300, 800, 2_000, 0)).toBeNaN();
    expect(recoveryMs(points, 100, 300, NaN, 2_000, 200)).toBeNaN();
  });
});

describe("meanRate", () => {
  it("averages the buckets that start inside the range", () => {
    expect(meanRate(line(100, 200, 300, 400), 100, 300)).toBe(250);
  });

  it("is NaN for an empty range", () => {
    expect(meanRate(line(100, 200), 500, 900)).toBeNaN();
  });
});

describe("rateBeforeKill", () => {
  // 100 ms buckets: 100/s, then 200/s from 1.0 s, killed at 1.55 s.
  const points = line(100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 200, 200, 200, 200, 200, 200, 0, 0);

  it("averages the whole buckets in the lookback before the bucket holding the kill", () => {
    expect(rateBeforeKill(points, 100, 1_550, 0, 500)).toBe(200);
    expect(rateBeforeKill(points, 100, 1_550, 0, 1_000)).toBe(150);
  });

  it("starts no earlier than sinceMs (rounded up to a bucket)", () => {
    expect(rateBeforeKill(points, 100, 1_550, 950, 1_500)).toBe(200);
  });

  it("follows a rate that changed since the start of the run, where the mean from the start would not", () => {
    expect(meanRate(points, 0, 1_500)).toBeCloseTo(133.3, 1);
    expect(rateBeforeKill(points, 100, 1_550, 0, 300)).toBe(200);
  });

  it("is NaN when nothing lies between sinceMs and the kill", () => {
    expect(rateBeforeKill(points, 100, 1_550, 1_500)).toBeNaN();
  });
});
