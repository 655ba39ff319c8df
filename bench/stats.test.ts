import { describe, expect, it } from "vitest";
import { formatNumber, Histogram, median, opsPerSecond, percentileOfSorted, percentiles } from "./stats.js";

describe("percentiles", () => {
  it("uses the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    const p = percentiles(xs);
    expect(p).toMatchObject({ count: 100, min: 1, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
    expect(xs[0]).toBe(100); // input left as it was
  });

  it("is NaN for no samples and the sample itself for one", () => {
    expect(percentiles([]).p50).toBeNaN();
    expect(percentiles([7])).toMatchObject({ p50: 7, p99: 7, max: 7 });
    expect(median([3, 1, 2])).toBe(2);
    expect(percentileOfSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(percentileOfSorted([1, 2, 3, 4], 100)).toBe(4);
  });
});

describe("Histogram", () => {
  it("agrees with the exact percentiles within its precision", () => {
    const h = new Histogram(0.01);
    const xs: number[] = [];
    let seed = 1;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 16807) % 2147483647;
      const v = 50 + (seed % 1000) ** 1.5; // a long tail
      xs.push(v);
      h.record(v);
    }
    const exact = percentiles(xs);
    const approx = h.summary();
    for (const k of ["p50", "p90", "p99"] as const) {
      expect(Math.abs(approx[k] - exact[k]) / exact[k]).toBeLessThan(0.011);
    }
    expect(approx.max).toBe(exact.max);
    expect(approx.min).toBe(exact.min);
    expect(approx.count).toBe(20_000);
  });

  it("merges and counts zeros", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(0, 3);
    b.record(100);
    a.merge(b);
    expect(a.count).toBe(4);
    expect(a.percentile(50)).toBe(0);
    expect(a.percentile(100)).toBe(100);
  });

  it("rejects a precision out of range, naming it", () => {
    expect(() => new Histogram(0)).toThrow(/invalid_precision/);
  });
});

describe("rates and formatting", () => {
  it("turns counts and ms into per-second rates", () => {
    expect(opsPerSecond(500, 250)).toBe(2000);
    expect(opsPerSecond(0, 0)).toBe(0);
  });

  it("formats for people", () => {
    expect(formatNumber(123456.7)).toBe("123,457");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(50)).toBe("50");
    expect(formatNumber(1.234)).toBe("1.23");
    expect(formatNumber(0.001234)).toBe("0.0012");
    expect(formatNumber(undefined)).toBe("–");
    expect(formatNumber(NaN)).toBe("–");
  });
});
