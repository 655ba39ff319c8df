import { describe, expect, it } from "vitest";
import { bucketUpperUs, FULLY_TIMED, HANDLING_BUCKETS, HANDLING_WINDOW_MS, handlingBucket, HandlingTimes, SAMPLE_STRIDE } from "./handling-times.js";

describe("handling-time buckets", () => {
  it("are contiguous and ordered: every microsecond value falls below its bucket's top and at or above the previous top", () => {
    let last = -1;
    for (const us of [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 1000, 12_345, 1_000_000, 2 ** 31 - 1]) {
      const b = handlingBucket(us);
      expect(b).toBeGreaterThanOrEqual(last);
      expect(b).toBeLessThan(HANDLING_BUCKETS);
      expect(us).toBeLessThan(bucketUpperUs(b));
      if (b > 0) expect(us).toBeGreaterThanOrEqual(bucketUpperUs(b - 1));
      last = b;
    }
  });

  it("are at most 25% wide above 4 µs", () => {
    for (let i = 5; i < HANDLING_BUCKETS; i++) {
      const lower = bucketUpperUs(i - 1);
      expect((bucketUpperUs(i) - lower) / lower).toBeLessThanOrEqual(0.25);
    }
  });
});

describe("HandlingTimes", () => {
  it("is null before any message", () => {
    expect(new HandlingTimes(0).p99(0)).toBeNull();
  });

  it("gives the p99 within its bucket's resolution", () => {
    const t = new HandlingTimes(0);
    // 990 fast messages (0.2 ms) and 10 slow ones (50 ms): the p99 is the 990th, fast.
    for (let i = 0; i < 990; i++) t.record(0.2, 1);
    for (let i = 0; i < 10; i++) t.record(50, 1);
    const p99 = t.p99(1)!;
    expect(p99).toBeGreaterThanOrEqual(0.2);
    expect(p99).toBeLessThanOrEqual(0.2 * 1.25);
    // One more slow message puts the 99th percentile among the slow ones.
    for (let i = 0; i < 20; i++) t.record(50, 1);
    const slow = t.p99(1)!;
    expect(slow).toBeGreaterThanOrEqual(50);
    expect(slow).toBeLessThanOrEqual(50 * 1.25);
  });

  it("p99 of a uniform spread from 1 to 100 ms is near 99 ms", () => {
    const t = new HandlingTimes(0);
    for (let ms = 1; ms <= 100; ms++) t.record(ms, 0);
    const p99 = t.p99(0)!;
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(p99).toBeLessThanOrEqual(99 * 1.25);
  });

  it("forgets messages older than two windows, keeps those of the previous window", () => {
    const t = new HandlingTimes(0);
    for (let i = 0; i < 100; i++) t.record(80, 10);
    // The next window: the slow ones still count.
    for (let i = 0; i < 100; i++) t.record(0.1, HANDLING_WINDOW_MS + 10);
    expect(t.count(HANDLING_WINDOW_MS + 10)).toBe(200);
    expect(t.p99(HANDLING_WINDOW_MS + 10)!).toBeGreaterThanOrEqual(80);
    // One window on: the slow ones rotated out, only the fast ones are left.
    expect(t.p99(2 * HANDLING_WINDOW_MS + 20)!).toBeLessThanOrEqual(0.125);
    expect(t.count(2 * HANDLING_WINDOW_MS + 20)).toBe(100);
    // Quiet for two windows: nothing is left.
    expect(t.p99(4 * HANDLING_WINDOW_MS + 30)).toBeNull();
  });

  it("after a long quiet spell, counts only what came since", () => {
    const t = new HandlingTimes(0);
    t.record(500, 0);
    t.record(0.05, 10 * HANDLING_WINDOW_MS);
    expect(t.count(10 * HANDLING_WINDOW_MS)).toBe(1);
    expect(t.p99(10 * HANDLING_WINDOW_MS)!).toBeLessThan(0.1);
  });

  it("clamps very long and negative times into the end buckets", () => {
    const t = new HandlingTimes(0);
    t.record(-1, 0);
    expect(t.p99(0)).toBe(0.001);
    t.record(10 * 3600_000, 0);
    expect(t.quantile(1, 0)!).toBeGreaterThan(2_000_000);
  });

  it("times every message of a quiet window, one in SAMPLE_STRIDE of a busy one, and still counts them all", () => {
    const t = new HandlingTimes(0);
    let timed = 0;
    // A seeded pseudo-random stream: about 3% of the messages take 40 ms, the rest 0.3 ms.
    let seed = 7;
    const slow = (): boolean => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) < 0.03;
    const messages = FULLY_TIMED + 200 * SAMPLE_STRIDE * 10;
    for (let i = 0; i < messages; i++) {
      const isSlow = slow();
      if (!t.timeNext()) continue;
      timed++;
      t.record(isSlow ? 40 : 0.3, 1);
    }
    expect(timed).toBe(FULLY_TIMED + (messages - FULLY_TIMED) / SAMPLE_STRIDE);
    expect(t.count(1)).toBe(messages);
    const p99 = t.p99(1)!;
    expect(p99).toBeGreaterThanOrEqual(40);
    expect(p99).toBeLessThanOrEqual(50);
    expect(t.quantile(0.9, 1)!).toBeLessThan(0.4);
  });

  it("after a rotation, every message is timed again", () => {
    const t = new HandlingTimes(0);
    for (let i = 0; i < FULLY_TIMED; i++) if (t.timeNext()) t.record(1, 0);
    expect(Array.from({ length: SAMPLE_STRIDE }, () => t.timeNext()).filter(Boolean)).toHaveLength(1);
    t.record(1, HANDLING_WINDOW_MS);
    expect(Array.from({ length: SAMPLE_STRIDE }, () => t.timeNext()).every(Boolean)).toBe(true);
  });
});

describe("HandlingTimes before its second message", () => {
  it("answers from the one message it timed, in the window that holds it, and forgets it after two windows", () => {
    const t = new HandlingTimes(0);
    expect(t.p99(0)).toBeNull();
    t.record(3, 10);
    expect(t.count(10)).toBe(1);
    expect(t.p99(10)).toBeCloseTo(bucketUpperUs(handlingBucket(3000)) / 1000);
    // One window later it is the previous window's only message; a second message then joins it.
    expect(t.count(HANDLING_WINDOW_MS + 20)).toBe(1);
    t.record(0.5, HANDLING_WINDOW_MS + 30);
    expect(t.count(HANDLING_WINDOW_MS + 30)).toBe(2);
    expect(t.quantile(0.5, HANDLING_WINDOW_MS + 30)).toBeCloseTo(bucketUpperUs(handlingBucket(500)) / 1000);
    expect(t.p99(HANDLING_WINDOW_MS + 30)).toBeCloseTo(bucketUpperUs(handlingBucket(3000)) / 1000);
    // The next rotation drops the older window: the 3 ms message goes, the 0.5 ms one stays.
    expect(t.count(2 * HANDLING_WINDOW_MS + 40)).toBe(1);
    expect(t.p99(2 * HANDLING_WINDOW_MS + 40)).toBeCloseTo(bucketUpperUs(handlingBucket(500)) / 1000);
  });

  it("forgets a lone message two windows old", () => {
    const t = new HandlingTimes(0);
    t.record(1, 5);
    expect(t.count(2 * HANDLING_WINDOW_MS + 10)).toBe(0);
    expect(t.p99(2 * HANDLING_WINDOW_MS + 10)).toBeNull();
    t.record(2, 2 * HANDLING_WINDOW_MS + 20);
    expect(t.count(2 * HANDLING_WINDOW_MS + 20)).toBe(1);
    expect(t.p99(2 * HANDLING_WINDOW_MS + 20)).toBeCloseTo(bucketUpperUs(handlingBucket(2000)) / 1000);
  });
});
