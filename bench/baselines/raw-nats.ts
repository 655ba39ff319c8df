// The raw nats.js baselines: the same work the Troupe scenarios do, done the
// way a careful nats.js user would do it by hand, so that Troupe's figures can
// be read as a ratio against what the client library and server give anyway.
//
// Fairness rules, kept by every function here:
// - Connection options are nats.js defaults plus only what a careful user sets
//   in production: `maxReconnectAttempts: -1` (the default, 10, gives up) and a
//   connection `name`. No tuning flags (`noAsyncTraces`, bigger buffers, ...).
//   See RAW_CONNECTION_OPTIONS.
// - Two connections, like two processes: the sender on `a`, the receiver
//   (subscriber, responder, KV watcher) on `b`.
// - Payloads are MessagePack, encoded per message by the sender and decoded per
//   message by the receiver, as Troupe does with its envelopes.
// - Subscriptions use callbacks (the fastest way nats.js offers) and requests
//   use nats.js's shared response inbox (its default).
// - Each measurement is preceded by a short warm-up on the same subjects so the
//   JIT and the server's subject caches are warm on both sides of a comparison.

import { decode, encode } from "@msgpack/msgpack";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { Kvm, KvWatchInclude, type KV } from "@nats-io/kv";
import { percentiles, opsPerSecond, msToMicros, type Percentiles } from "../stats.js";
import type { Timeline } from "../timeline.js";

/** The options every baseline connection uses (besides `servers` and a per-connection `name`). */
export const RAW_CONNECTION_OPTIONS = {
  maxReconnectAttempts: -1,
} as const satisfies Partial<ConnectionOptions>;

/**
 * The one tuning flag a latency-minded nats.js user turns on, and that Troupe's
 * own connections use: no async stack trace captured per request. Measured as a
 * second, informative baseline next to the defaults.
 */
export const RAW_TUNED_OPTIONS = {
  noAsyncTraces: true,
} as const satisfies Partial<ConnectionOptions>;

/** Where the baselines run: a server URL (two connections are opened and closed), or a pair already open. */
export type RawTarget = string | RawPair;

/** Two connections to the same server: the sending side `a`, the receiving side `b`. */
export interface RawPair {
  a: NatsConnection;
  b: NatsConnection;
}

/** Common knobs of a baseline measurement. */
export interface RawRunOptions {
  signal?: AbortSignal;
  /** Called with the fraction done (0..1) of the measured part. */
  onProgress?: (fraction: number) => void;
  /** A unique suffix for subjects and bucket names (default: random). */
  tag?: string;
}

/**
 * Open the two baseline connections to `url`, with {@link RAW_CONNECTION_OPTIONS}
 * and any `extra` options (e.g. {@link RAW_TUNED_OPTIONS}).
 */
export async function connectRawPair(
  url: string,
  extra: Partial<ConnectionOptions> = {},
): Promise<RawPair & { close(): Promise<void> }> {
  const a = await connect({ servers: url, name: "troupe-bench-raw-a", ...RAW_CONNECTION_OPTIONS, ...extra });
  let b: NatsConnection;
  try {
    b = await connect({ servers: url, name: "troupe-bench-raw-b", ...RAW_CONNECTION_OPTIONS, ...extra });
  } catch (err) {
    await a.close();
    throw err;
  }
  return {
    a,
    b,
    async close() {
      await Promise.allSettled([a.close(), b.close()]);
    },
  };
}

async function withPair<T>(target: RawTarget, fn: (pair: RawPair) => Promise<T>): Promise<T> {
  if (typeof target !== "string") return fn(target);
  const pair = await connectRawPair(target);
  try {
    return await fn(pair);
  } finally {
    await pair.close();
  }
}

function tagOf(opts: RawRunOptions): string {
  return opts.tag ?? Math.random().toString(36).slice(2, 10);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

// ---------------------------------------------------------------------------
// (a) publish/subscribe throughput

export interface PubSubOptions extends RawRunOptions {
  /** Messages in the measured run. */
  messages: number;
  /** Messages in the warm-up run before it (default: a tenth, at most 20,000). */
  warmup?: number;
  /**
   * Flush (a PING/PONG round trip) after every this many publishes, so the
   * publisher cannot run unboundedly ahead of the server: the back-pressure a
   * careful user adds. Default 1000.
   */
  flushEvery?: number;
  /** Give up when no message arrived for this long (default 10 s). */
  stallMs?: number;
  /** Counts each arrival, for throughput over time. */
  timeline?: Timeline;
}

export interface ThroughputResult {
  count: number;
  elapsedMs: number;
  perSec: number;
}

/**
 * Publishes `messages` MessagePack messages `{ op: "inc", n }` on `a` and counts
 * them at a callback subscriber on `b` that decodes each; the time runs from the
 * first publish to the last arrival.
 *
 * @example
 * const { perSec } = await rawPubSubThroughput(url, { messages: 200_000 });
 */
export async function rawPubSubThroughput(target: RawTarget, opts: PubSubOptions): Promise<ThroughputResult> {
  return withPair(target, async ({ a, b }) => {
    const tag = tagOf(opts);
    const warmup = opts.warmup ?? Math.min(20_000, Math.ceil(opts.messages / 10));
    if (warmup > 0) await pubSubOnce(a, b, `bench.raw.${tag}.warm`, warmup, { ...opts, timeline: undefined, onProgress: undefined });
    return pubSubOnce(a, b, `bench.raw.${tag}.pubsub`, opts.messages, opts);
  });
}

async function pubSubOnce(
  a: NatsConnection,
  b: NatsConnection,
  subject: string,
  messages: number,
  opts: PubSubOptions,
): Promise<ThroughputResult> {
  const flushEvery = Math.max(1, opts.flushEvery ?? 1000);
  const stallMs = opts.stallMs ?? 10_000;
  let received = 0;
  let lastArrival = 0;
  let sink = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const sub = b.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const body = decode(msg.data) as { n: number };
      sink += body.n;
      received++;
      opts.timeline?.record();
      if (received === messages) {
        lastArrival = performance.now();
        resolveDone();
      }
    },
  });
  try {
    await b.flush(); // the subscription is known to the server before the first publish
    opts.timeline?.reset();
    const t0 = performance.now();
    for (let i = 0; i < messages; i++) {
      a.publish(subject, encode({ op: "inc", n: i }));
      if ((i + 1) % flushEvery === 0) {
        await a.flush();
        checkAborted(opts.signal);
        opts.onProgress?.(received / messages);
      }
    }
    await a.flush();
    await waitForCount(() => received, messages, done, stallMs, opts);
    const elapsedMs = lastArrival - t0;
    if (sink < 0) throw new Error("unreachable"); // keeps the decode from being optimised away
    return { count: messages, elapsedMs, perSec: opsPerSecond(messages, elapsedMs) };
  } finally {
    sub.unsubscribe();
  }
}

/** Resolves with `done`, or fails when the count stops moving for `stallMs` or the run is aborted. */
async function waitForCount(
  count: () => number,
  target: number,
  done: Promise<void>,
  stallMs: number,
  opts: RawRunOptions,
): Promise<void> {
  let last = count();
  let lastMove = performance.now();
  let settled = false;
  void done.then(() => (settled = true));
  while (!settled) {
    await Promise.race([done, new Promise((r) => setTimeout(r, 50))]);
    if (settled) break;
    checkAborted(opts.signal);
    const now = count();
    opts.onProgress?.(now / target);
    if (now !== last) {
      last = now;
      lastMove = performance.now();
    } else if (performance.now() - lastMove > stallMs) {
      throw new Error(`only ${now} of ${target} messages arrived; none for ${stallMs} ms (core NATS drops under overload)`);
    }
  }
}

// ---------------------------------------------------------------------------
// (b) request/reply latency and (c) request/reply throughput

export interface RequestOptions extends RawRunOptions {
  /** Requests in the measured run. */
  requests: number;
  /** Requests before it, not measured (default: a tenth, at most 2,000). */
  warmup?: number;
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
}

export interface LatencyResult {
  /** Round-trip times in microseconds, in the order measured. */
  samplesUs: number[];
  summary: Percentiles;
}

/** A responder on `b` that decodes each request and replies with `{ ok, n }`, MessagePack. */
export function startEchoResponder(b: NatsConnection, subject: string): { stop(): void } {
  const sub = b.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const req = decode(msg.data) as { n: number };
      msg.respond(encode({ ok: true, n: req.n }));
    },
  });
  return { stop: () => sub.unsubscribe() };
}

/** One request `{ op: "get", n }` from `a`, its reply decoded and checked. */
export async function oneRequest(a: NatsConnection, subject: string, n: number, timeoutMs: number): Promise<void> {
  const reply = await a.request(subject, encode({ op: "get", n }), { timeout: timeoutMs });
  const body = decode(reply.data) as { n: number };
  if (body.n !== n) throw new Error(`reply ${body.n} answered request ${n}`);
}

/**
 * Sequential request/reply: one request in flight at a time, `a` asking a
 * responder on `b`. Returns every round-trip time in µs and their percentiles.
 */
export async function rawRequestLatency(target: RawTarget, opts: RequestOptions): Promise<LatencyResult> {
  return withPair(target, async ({ a, b }) => {
    const subject = `bench.raw.${tagOf(opts)}.rr`;
    const timeoutMs = opts.timeoutMs ?? 5000;
    const responder = startEchoResponder(b, subject);
    try {
      await b.flush();
      const warmup = opts.warmup ?? Math.min(2000, Math.ceil(opts.requests / 10));
      for (let i = 0; i < warmup; i++) await oneRequest(a, subject, i, timeoutMs);
      const samplesUs: number[] = new Array(opts.requests);
      const every = Math.max(1, Math.floor(opts.requests / 100));
      for (let i = 0; i < opts.requests; i++) {
        const t0 = performance.now();
        await oneRequest(a, subject, i, timeoutMs);
        samplesUs[i] = msToMicros(performance.now() - t0);
        if (i % every === 0) {
          checkAborted(opts.signal);
          opts.onProgress?.(i / opts.requests);
        }
      }
      return { samplesUs, summary: percentiles(samplesUs) };
    } finally {
      responder.stop();
    }
  });
}

export interface WindowedRequestOptions extends RequestOptions {
  /** Requests kept in flight (default 64). */
  window?: number;
  /** Counts each reply, for throughput over time. */
  timeline?: Timeline;
}

/**
 * Request/reply throughput with a fixed window of `window` (64) requests in
 * flight: each reply sends the next request, until `requests` have been answered.
 */
export async function rawRequestThroughput(target: RawTarget, opts: WindowedRequestOptions): Promise<ThroughputResult> {
  return withPair(target, async ({ a, b }) => {
    const subject = `bench.raw.${tagOf(opts)}.rrw`;
    const timeoutMs = opts.timeoutMs ?? 5000;
    const responder = startEchoResponder(b, subject);
    try {
      await b.flush();
      const warmup = opts.warmup ?? Math.min(5000, Math.ceil(opts.requests / 10));
      if (warmup > 0) await windowed(warmup, opts.window ?? 64, (n) => oneRequest(a, subject, n, timeoutMs));
      opts.timeline?.reset();
      const t0 = performance.now();
      const every = Math.max(1, Math.floor(opts.requests / 100));
      await windowed(opts.requests, opts.window ?? 64, async (n) => {
        await oneRequest(a, subject, n, timeoutMs);
        opts.timeline?.record();
        if (n % every === 0) {
          checkAborted(opts.signal);
          opts.onProgress?.(n / opts.requests);
        }
      });
      const elapsedMs = performance.now() - t0;
      return { count: opts.requests, elapsedMs, perSec: opsPerSecond(opts.requests, elapsedMs) };
    } finally {
      responder.stop();
    }
  });
}

/**
 * Runs `task(0..total-1)` keeping `window` of them in flight; the first failure rejects.
 * Shared by the baseline and the Troupe side so both use the same driver.
 */
export async function windowed(total: number, window: number, task: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      await task(n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
}

// ---------------------------------------------------------------------------
// (d) key-value: get, put, watch visibility

export interface KvOptions extends RawRunOptions {
  /** Sequential gets of one key. */
  gets: number;
  /** Sequential puts of one key. */
  puts: number;
  /** Writes on `a` whose arrival at a watch on `b` is timed, one at a time. */
  watches: number;
  /** Operations before each measurement, not measured (default 500). */
  warmup?: number;
}

export interface KvResult {
  getsPerSec: number;
  putsPerSec: number;
  /** From just before the put on `a` to the watch entry's arrival on `b`, µs. */
  watchLatencyUs: Percentiles;
  /** The samples behind `watchLatencyUs`, µs, in the order measured (to pool across rounds). */
  watchSamplesUs: number[];
}

/**
 * Raw JetStream KV: a bucket with nats.js defaults (file storage, history 1),
 * `get` of one key awaited one after another, `put` likewise, and the time a
 * write on connection `a` takes to reach a `watch` (updates only) on connection `b`.
 * The writer stamps `performance.now()` into the value; both ends share the process clock.
 */
export async function rawKv(target: RawTarget, opts: KvOptions): Promise<KvResult> {
  return withPair(target, async ({ a, b }) => {
    const bucket = `bench_raw_${tagOf(opts)}`;
    const kvA = await new Kvm(a).create(bucket);
    try {
      const kvB = await new Kvm(b).open(bucket);
      const warmup = opts.warmup ?? 500;
      const total = opts.gets + opts.puts + opts.watches;
      const progress = (done: number): void => opts.onProgress?.(done / total);

      await kvA.put("k", encode({ n: 0 }));
      const getsPerSec = await sequentialRate(warmup, opts.gets, async () => {
        const e = await kvA.get("k");
        if (!e) throw new Error("the key vanished");
        decode(e.value);
      }, opts, (i) => progress(i));

      let v = 0;
      const putsPerSec = await sequentialRate(warmup, opts.puts, async () => {
        await kvA.put("k", encode({ n: ++v }));
      }, opts, (i) => progress(opts.gets + i));

      const watchSamplesUs = await watchLatency(kvA, kvB, warmup, opts, (i) => progress(opts.gets + opts.puts + i));
      return { getsPerSec, putsPerSec, watchLatencyUs: percentiles(watchSamplesUs), watchSamplesUs };
    } finally {
      await kvA.destroy().catch(() => undefined);
    }
  });
}

async function sequentialRate(
  warmup: number,
  count: number,
  op: () => Promise<void>,
  opts: RawRunOptions,
  onStep: (i: number) => void,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await op();
  const every = Math.max(1, Math.floor(count / 50));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await op();
    if (i % every === 0) {
      checkAborted(opts.signal);
      onStep(i);
    }
  }
  return opsPerSecond(count, performance.now() - t0);
}

async function watchLatency(
  kvA: KV,
  kvB: KV,
  warmup: number,
  opts: KvOptions,
  onStep: (i: number) => void,
): Promise<number[]> {
  const watcher = await kvB.watch({ key: "w", include: KvWatchInclude.UpdatesOnly });
  // Resolved with the latency computed from the writer's stamp in the value.
  const waiting = new Map<number, (latencyMs: number) => void>();
  const pump = (async () => {
    for await (const e of watcher) {
      const arrivedAt = performance.now();
      if (e.operation !== "PUT") continue;
      const body = decode(e.value) as { i: number; stamp: number };
      waiting.get(body.i)?.(arrivedAt - body.stamp);
      waiting.delete(body.i);
    }
  })();
  try {
    const samples: number[] = [];
    const rounds = warmup + opts.watches;
    for (let i = 0; i < rounds; i++) {
      const arrived = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watch entry ${i} did not arrive in 5 s`)), 5000);
        waiting.set(i, (latencyMs) => {
          clearTimeout(timer);
          resolve(latencyMs);
        });
      });
      await kvA.put("w", encode({ i, stamp: performance.now() }));
      const latencyMs = await arrived;
      if (i >= warmup) samples.push(msToMicros(latencyMs));
      if (i % 20 === 0) {
        checkAborted(opts.signal);
        onStep(Math.max(0, i - warmup));
      }
    }
    return samples;
  } finally {
    watcher.stop();
    await pump.catch(() => undefined);
  }
}
