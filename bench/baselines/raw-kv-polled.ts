// The raw counterpart of reading another node's write through a cache: a raw
// KV watch on connection `b` keeps a Map of the latest value per key (a
// hand-made cache), and the reader polls that Map once per event-loop turn from
// just before the put on `a` until it holds the new value. It is observed
// exactly as Troupe's cached get is in the memory scenario, so both sides pay the
// same for the polling itself (a busy event loop, a promise and an immediate per
// turn, and the garbage collections that garbage brings) and the ratio is left
// with what the caches themselves cost.

import { decode, encode } from "@msgpack/msgpack";
import { Kvm, KvWatchInclude } from "@nats-io/kv";
import { msToMicros } from "../stats.js";
import { connectRawPair, type RawRunOptions, type RawTarget } from "./raw-nats.js";

export interface PolledOptions extends RawRunOptions {
  /** Timed writes, one at a time. */
  writes: number;
  /** Writes before them, not timed (default 200). */
  warmup?: number;
  /** A write not seen within this long fails the run (default 5000 ms). */
  seenWithinMs?: number;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A bucket with nats.js defaults (file storage, history 1); a watch (updates
 * only) on `b` stores each decoded value in a Map; each write `{ i, stamp }` on
 * `a` is timed from just before the put until a poll of the Map (once per
 * event-loop turn, begun before the put) returns it. Returns the samples in µs.
 *
 * @example
 * const samplesUs = await rawKvPolledVisibility(pair, { writes: 1_000 });
 */
export async function rawKvPolledVisibility(target: RawTarget, opts: PolledOptions): Promise<number[]> {
  const pair = typeof target === "string" ? await connectRawPair(target) : undefined;
  const { a, b } = pair ?? (target as Exclude<RawTarget, string>);
  const bucket = `bench_raw_polled_${opts.tag ?? Math.random().toString(36).slice(2, 10)}`;
  const seenWithinMs = opts.seenWithinMs ?? 5_000;
  const kvA = await new Kvm(a).create(bucket);
  try {
    const kvB = await new Kvm(b).open(bucket);
    const cache = new Map<string, { i: number; stamp: number }>();
    const watcher = await kvB.watch({ key: ">", include: KvWatchInclude.UpdatesOnly });
    const pump = (async () => {
      for await (const e of watcher) {
        if (e.operation === "PUT") cache.set(e.key, decode(e.value) as { i: number; stamp: number });
        else cache.delete(e.key);
      }
    })();
    const seenAt = async (key: string, i: number): Promise<number> => {
      const deadline = performance.now() + seenWithinMs;
      for (;;) {
        if (cache.get(key)?.i === i) return performance.now();
        if (performance.now() > deadline) throw new Error(`a write was not seen in the watched map within ${seenWithinMs} ms`);
        await nextTurn();
      }
    };
    try {
      const key = "g";
      const warmup = opts.warmup ?? 200;
      const samples: number[] = [];
      for (let i = 0; i < warmup + opts.writes; i++) {
        const stamp = performance.now();
        const seen = seenAt(key, i);
        await kvA.put(key, encode({ i, stamp }));
        const at = await seen;
        if (i >= warmup) samples.push(msToMicros(at - stamp));
        if (i % 20 === 0) {
          if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error("aborted");
          opts.onProgress?.(Math.max(0, i - warmup) / opts.writes);
        }
      }
      return samples;
    } finally {
      watcher.stop();
      await pump.catch(() => undefined);
    }
  } finally {
    await kvA.destroy().catch(() => undefined);
    await pair?.close();
  }
}
