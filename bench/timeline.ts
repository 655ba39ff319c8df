// Throughput over time: counts completions per fixed time bucket (100 ms by
// default) and keeps the chaos events (server killed, node restarted, ...) that
// happened along the way, so a report can draw the line and mark each event.

/** Something that happened during a run, at `atMs` after the timeline started. */
export interface TimelineEvent {
  atMs: number;
  label: string;
}

/** One point of a series: `value` at `tMs` after the start. */
export interface SeriesPoint {
  tMs: number;
  value: number;
}

/** A source of monotonic milliseconds; `performance.now` unless a test supplies its own. */
export type NowFn = () => number;

/**
 * Records completions into time buckets.
 *
 * @example
 * const tl = new Timeline();          // 100 ms buckets, starts now
 * onReply(() => tl.record());
 * tl.event("server killed");
 * tl.points();                         // [{ tMs: 0, value: 41200 }, ...] in ops/s
 */
export class Timeline {
  readonly bucketMs: number;
  #now: NowFn;
  #start: number;
  #counts: number[] = [];
  #events: TimelineEvent[] = [];
  #end: number | undefined;

  constructor(opts: { bucketMs?: number; now?: NowFn } = {}) {
    const bucketMs = opts.bucketMs ?? 100;
    if (!(bucketMs > 0)) throw new RangeError(`invalid_bucket_ms: ${bucketMs}`);
    this.bucketMs = bucketMs;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Start over from now: counts and events are dropped (e.g. after a warm-up). */
  reset(): void {
    this.#start = this.#now();
    this.#counts = [];
    this.#events = [];
    this.#end = undefined;
  }

  /** Milliseconds since the timeline started. */
  elapsedMs(): number {
    return this.#now() - this.#start;
  }

  /** Count `n` completions now. */
  record(n = 1): void {
    const idx = Math.floor(this.elapsedMs() / this.bucketMs);
    if (idx < 0) return;
    while (this.#counts.length <= idx) this.#counts.push(0);
    this.#counts[idx]! += n;
  }

  /** Mark a chaos event (or a phase change) now; returns its time in ms. */
  event(label: string): number {
    const atMs = this.elapsedMs();
    this.#events.push({ atMs, label });
    return atMs;
  }

  /** Close the timeline: later buckets up to now are reported as zero, none after. */
  stop(): void {
    if (this.#end === undefined) this.#end = this.elapsedMs();
  }

  /** Total completions recorded. */
  total(): number {
    let sum = 0;
    for (const c of this.#counts) sum += c;
    return sum;
  }

  /**
   * Completions per second in each bucket, one point per bucket at the bucket's
   * start, through the end of the run (empty buckets are zero: an outage shows).
   */
  points(): SeriesPoint[] {
    const end = this.#end ?? this.elapsedMs();
    const buckets = Math.max(this.#counts.length, Math.ceil(end / this.bucketMs));
    const out: SeriesPoint[] = [];
    for (let i = 0; i < buckets; i++) {
      const c = this.#counts[i] ?? 0;
      // The last bucket may be partial: scale by the time it really covered,
      // and leave out a sliver too short to say anything.
      const covered = Math.min(this.bucketMs, end - i * this.bucketMs);
      if (i === buckets - 1 && i > 0 && covered < this.bucketMs / 4) break;
      out.push({ tMs: i * this.bucketMs, value: (c * 1000) / Math.max(covered, this.bucketMs / 4) });
    }
    return out;
  }

  /** The events marked so far, in the order they happened. */
  events(): TimelineEvent[] {
    return this.#events.map((e) => ({ ...e }));
  }
}
