// How long an agent's recent messages took to handle: a fixed log-scale
// histogram (four buckets per power of two of microseconds, so a quantile is
// right within 25%), in two windows that rotate, so that the p99 shown by
// `agentctl top` and `ps --json` reflects the last 30 to 60 seconds. An agent
// makes one on its first message, and its buckets on its second: an idle agent
// costs nothing, and one that handled a single message (an on-demand agent
// activated by it) a few fields, not the 960-byte bucket array. Reading a clock
// costs more than the rest (two reads a message), so a busy agent times one
// message in SAMPLE_STRIDE past the first FULLY_TIMED of a window, and counts
// each timed one SAMPLE_STRIDE times.

/** Sub-buckets per power of two: the relative width of a bucket is 1/SUB. */
const SUB_BITS = 2;
const SUB = 1 << SUB_BITS;
/** Microseconds as a 31-bit integer: up to about 35 minutes, longer is clamped. */
const MAX_US = 2 ** 31 - 1;
/** Buckets: values below SUB one each, then SUB per power of two up to 2^31. */
export const HANDLING_BUCKETS = SUB * (32 - SUB_BITS);
/** Length of one window; the summary covers the current window and the one before it. */
export const HANDLING_WINDOW_MS = 30_000;
/** Messages of a window that are all timed; past them, one in SAMPLE_STRIDE is. */
export const FULLY_TIMED = 1000;
/** A power of two. */
export const SAMPLE_STRIDE = 8;

/** The bucket of a duration in microseconds (an integer from 0 to MAX_US). */
export function handlingBucket(us: number): number {
  if (us < SUB) return us;
  const exp = 31 - Math.clz32(us);
  return SUB * (exp - SUB_BITS + 1) + ((us >>> (exp - SUB_BITS)) & (SUB - 1));
}

/** The smallest duration (µs) beyond bucket `i`: every value in the bucket is below it. */
export function bucketUpperUs(i: number): number {
  if (i < SUB) return i + 1;
  const exp = Math.floor(i / SUB) + SUB_BITS - 1;
  const sub = i % SUB;
  return (SUB + sub + 1) * 2 ** (exp - SUB_BITS);
}

/**
 * Recent handling times of one agent.
 *
 * @example
 * const t = new HandlingTimes(performance.now());
 * t.record(0.42, performance.now());
 * t.p99(performance.now()); // ≈ 0.42 (the top of its bucket)
 */
export class HandlingTimes {
  /** Both windows in one array (one allocation): the current one starts at `at`, the previous one at the other half. Made on the second timed message. */
  private counts: Uint32Array | null = null;
  /** Before there are buckets: the bucket of the one message timed so far (-1: none). */
  private firstBucket = -1;
  private at = 0;
  private currentCount = 0;
  private previousCount = 0;
  private windowStart: number;
  /** Messages passed over since the last one timed, and the weight of the next one recorded. */
  private skipped = 0;
  private weight = 1;

  /** `now`: a monotonic time in ms (the same source as the times passed to record and p99). */
  constructor(now: number) {
    this.windowStart = now;
  }

  /**
   * Whether to time the next message (asked before it is handled): yes while
   * the window has fewer than FULLY_TIMED, then one in SAMPLE_STRIDE, which
   * {@link HandlingTimes.record} counts SAMPLE_STRIDE times.
   */
  timeNext(): boolean {
    if (this.currentCount < FULLY_TIMED) {
      this.weight = 1;
      return true;
    }
    if ((++this.skipped & (SAMPLE_STRIDE - 1)) !== 0) return false;
    this.weight = SAMPLE_STRIDE;
    return true;
  }

  /** Count one timed message that took `ms` milliseconds, handled by `now` (with the weight {@link HandlingTimes.timeNext} gave it). */
  record(ms: number, now: number): void {
    if (now - this.windowStart >= HANDLING_WINDOW_MS) this.rotate(now);
    const us = ms > 0 ? Math.min(MAX_US, Math.floor(ms * 1000)) : 0;
    const weight = this.weight;
    this.weight = 1;
    let counts = this.counts;
    if (counts === null) {
      if (this.firstBucket < 0) {
        this.firstBucket = handlingBucket(us);
        this.currentCount = 1;
        return;
      }
      // The second message: make the buckets, the first counted in the window that holds it.
      counts = this.counts = new Uint32Array(2 * HANDLING_BUCKETS);
      counts[(this.currentCount > 0 ? this.at : HANDLING_BUCKETS - this.at) + this.firstBucket] = 1;
    }
    counts[this.at + handlingBucket(us)]! += weight;
    this.currentCount += weight;
  }

  /** Messages counted (timed, with their weights) in the last one to two windows. */
  count(now: number): number {
    if (now - this.windowStart >= HANDLING_WINDOW_MS) this.rotate(now);
    return this.currentCount + this.previousCount;
  }

  /** The `q` quantile (0 < q ≤ 1) in ms over the last one to two windows, as the top of its bucket; null when nothing was handled then. */
  quantile(q: number, now: number): number | null {
    const total = this.count(now);
    if (total === 0) return null;
    const counts = this.counts;
    if (counts === null) return bucketUpperUs(this.firstBucket) / 1000;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < HANDLING_BUCKETS; i++) {
      seen += counts[i]! + counts[HANDLING_BUCKETS + i]!;
      if (seen >= rank) return bucketUpperUs(i) / 1000;
    }
    return bucketUpperUs(HANDLING_BUCKETS - 1) / 1000;
  }

  /** The 99th percentile in ms (see {@link HandlingTimes.quantile}). */
  p99(now: number): number | null {
    return this.quantile(0.99, now);
  }

  /** Start a new window at `now`; the current one becomes the previous, or, after two quiet windows, both are empty. */
  private rotate(now: number): void {
    const counts = this.counts;
    if (counts === null) {
      // One message so far, counted in whichever window held the time it was recorded.
      this.previousCount = now - this.windowStart < 2 * HANDLING_WINDOW_MS ? this.currentCount : 0;
      if (this.previousCount === 0) this.firstBucket = -1;
      this.currentCount = 0;
      this.windowStart = now;
      return;
    }
    const other = HANDLING_BUCKETS - this.at;
    counts.fill(0, other, other + HANDLING_BUCKETS);
    if (now - this.windowStart >= 2 * HANDLING_WINDOW_MS) {
      counts.fill(0, this.at, this.at + HANDLING_BUCKETS);
      this.previousCount = 0;
    } else {
      this.at = other;
      this.previousCount = this.currentCount;
    }
    this.currentCount = 0;
    this.windowStart = now;
  }
}
