// A second raw KV put baseline: puts while both connections watch the bucket,
// the fan-out a cache kept coherent by a watch implies (every write is also
// delivered to each watcher). Read beside the plain `kv.put` baseline, it
// separates what the watches cost from what the rest of a put costs.

import { encode } from "@msgpack/msgpack";
import { Kvm, KvWatchInclude } from "@nats-io/kv";
import { opsPerSecond } from "../stats.js";
import { connectRawPair, type RawTarget, type RawRunOptions } from "./raw-nats.js";

export interface WatchedPutOptions extends RawRunOptions {
  /** Sequential puts of one key. */
  puts: number;
  /** Puts before the measurement, not measured (default 500). */
  warmup?: number;
}

/**
 * Raw JetStream KV puts, awaited one after another on connection `a`, while a
 * watch (updates only) on `a` and one on `b` each receive every write (and do
 * nothing else with it: the least a watcher can do). The bucket has nats.js
 * defaults (file storage, history 1).
 *
 * @example
 * const putsPerSec = await rawKvPutsWatched(pair, { puts: 2_000 });
 */
export async function rawKvPutsWatched(target: RawTarget, opts: WatchedPutOptions): Promise<number> {
  const pair = typeof target === "string" ? await connectRawPair(target) : undefined;
  const { a, b } = pair ?? (target as Exclude<RawTarget, string>);
  const bucket = `bench_raw_watched_${opts.tag ?? Math.random().toString(36).slice(2, 10)}`;
  const kvA = await new Kvm(a).create(bucket);
  try {
    const kvB = await new Kvm(b).open(bucket);
    let sink = 0;
    const watchers = await Promise.all([kvA, kvB].map((kv) => kv.watch({ key: ">", include: KvWatchInclude.UpdatesOnly })));
    const pumps = watchers.map(async (w) => {
      for await (const e of w) sink += e.value.length;
    });
    try {
      const warmup = opts.warmup ?? 500;
      for (let i = 0; i < warmup; i++) await kvA.put("k", encode({ n: i }));
      const every = Math.max(1, Math.floor(opts.puts / 50));
      const t0 = performance.now();
      for (let i = 0; i < opts.puts; i++) {
        await kvA.put("k", encode({ n: i }));
        if (i % every === 0) {
          if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error("aborted");
          opts.onProgress?.(i / opts.puts);
        }
      }
      const perSec = opsPerSecond(opts.puts, performance.now() - t0);
      if (sink < 0) throw new Error("unreachable"); // keeps the reads from being optimised away
      return perSec;
    } finally {
      for (const w of watchers) w.stop();
      await Promise.allSettled(pumps);
    }
  } finally {
    await kvA.destroy().catch(() => undefined);
    await pair?.close();
  }
}
