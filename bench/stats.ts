// Summary statistics for benchmark samples: percentiles from a sample array or
// from a log-bucketed histogram (HDR-like: a fixed relative error, constant
// memory), and the small rate helpers every scenario uses.

/** The percentiles every latency figure in a report carries. */
export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const EMPTY: Percentiles = { count: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };

/**
 * The value at percentile `p` (0..100) of an ascending sorted array, by the
 * nearest-rank method: the smallest sample with at least p% of samples at or below it.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

/**
 * p50/p90/p99/max (and count, min, mean) of a sample array. The input is not modified.
 *
 * @example
 * percentiles([5, 1, 3]).p50 // 3
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { ...EMPTY };
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    min: arr[0]!,
    mean: sum / arr.length,
    p50: percentileOfSorted(arr, 50),
    p90: percentileOfSorted(arr, 90),
    p99: percentileOfSorted(arr, 99),
    max: arr[arr.length - 1]!,
  };
}

/** The median of a sample array (NaN when empty). */
export function median(samples: readonly number[]): number {
  return percentiles(samples).p50;
}

/**
 * A histogram of positive values in logarithmic buckets, each `precision`
 * (default 1%) wide relative to its value, so percentiles are exact to that
 * relative error whatever the range, and memory grows with the range only.
 * `min` and `max` are exact.
 */
export class Histogram {
  readonly precision: number;
  #logBase: number;
  #buckets = new Map<number, number>();
  #zeros = 0;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  constructor(precision = 0.01) {
    if (!(precision > 0 && precision < 1)) {
      throw new RangeError(`invalid_precision: ${precision} (must be between 0 and 1)`);
    }
    this.precision = precision;
    this.#logBase = Math.log1p(precision);
  }

  /** Add one value (values at or below zero are counted as zero). */
  record(value: number, times = 1): void {
    if (!Number.isFinite(value)) return;
    this.#count += times;
    this.#sum += value * times;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    if (value <= 0) {
      this.#zeros += times;
      return;
    }
    const idx = Math.floor(Math.log(value) / this.#logBase);
    this.#buckets.set(idx, (this.#buckets.get(idx) ?? 0) + times);
  }

  /** Add every value of another histogram of the same precision. */
  merge(other: Histogram): void {
    if (other.precision !== this.precision) throw new RangeError("histograms differ in precision");
    for (const [idx, n] of other.#buckets) this.#buckets.set(idx, (this.#buckets.get(idx) ?? 0) + n);
    this.#zeros += other.#zeros;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  get count(): number {
    return this.#count;
  }

  /** The value at percentile `p` (0..100), within `precision` of the true sample. */
  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    if (p >= 100) return this.#max;
    if (p <= 0) return this.#min;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = this.#zeros;
    if (seen >= rank) return Math.max(0, this.#min);
    const keys = [...this.#buckets.keys()].sort((a, b) => a - b);
    for (const idx of keys) {
      seen += this.#buckets.get(idx)!;
      if (seen >= rank) {
        // The middle of the bucket, clamped to what was really seen.
        const lo = Math.exp(idx * this.#logBase);
        const hi = Math.exp((idx + 1) * this.#logBase);
        return Math.min(this.#max, Math.max(this.#min, (lo + hi) / 2));
      }
    }
    return this.#max;
  }

  /** The same summary {@link percentiles} gives for a sample array. */
  summary(): Percentiles {
    if (this.#count === 0) return { ...EMPTY };
    return {
      count: this.#count,
      min: this.#min,
      mean: this.#sum / this.#count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.#max,
    };
  }
}

/** Operations per second for `count` operations over `elapsedMs` milliseconds. */
export function opsPerSecond(count: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return count > 0 ? Infinity : 0;
  return (count * 1000) / elapsedMs;
}

/** Milliseconds between two `performance.now()` readings, turned into microseconds. */
export function msToMicros(ms: number): number {
  return ms * 1000;
}

/**
 * Times `fn` with `performance.now()` and returns its result and the elapsed milliseconds.
 *
 * @example
 * const { elapsedMs } = await timed(() => publishAll());
 */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, elapsedMs: performance.now() - t0 };
}

/** A number for people: 3 significant digits, thousands grouped (12,300 / 1.25 / 0.0042). */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return value.toPrecision(2);
}
