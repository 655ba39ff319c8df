// The `memory` scenario: Troupe's shared memory next to raw nats.js KV doing the
// same work in the same run. Cached gets against raw `kv.get`, puts against raw
// `kv.put`, how soon a write on one node is seen on another (by a cached get or
// a watch) against a raw watch on a second connection, and what persisting an
// agent's state costs its tell throughput. Raw and Troupe alternate, round
// after round, on the same server, so drift on a noisy machine hits both alike.

import { defineAgent, startNode, type MemoryBucket } from "../../actors/index.js";
import { pacedTells } from "../baselines/paced-tells.js";
import { rawKvPolledVisibility } from "../baselines/raw-kv-polled.js";
import { rawKvPutsWatched } from "../baselines/raw-kv-watched.js";
import { connectRawPair, rawKv } from "../baselines/raw-nats.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, median, msToMicros, opsPerSecond, percentiles } from "../stats.js";

/**
 * The ratios Troupe's memory should reach (above 1 = better than raw):
 * a cached get at least 200x a raw `kv.get` (it never leaves the process),
 * a put at least 0.9x a raw `kv.put`, and another node seeing a write within
 * 1.2x of the time a raw watch on another connection takes (p50 and p99).
 * A watch is compared with a raw watch; a cached get, polled once per
 * event-loop turn, with a raw watch feeding a Map polled the same way.
 */
export const MEMORY_GOALS = {
  cachedGet: 200,
  put: 0.9,
  visibilityP50: 1 / 1.2,
  visibilityP99: 1 / 1.2,
} as const;

/** The names of the figures this scenario reports (for tests and readers of the JSON). */
export const MemoryFigure = {
  CachedGet: "cached get vs raw kv.get",
  Put: "put vs raw kv.put",
  PutWatched: "put vs raw kv.put, both connections watching",
  SeenByGetP50: "write seen on other node p50 (cached get) vs raw watch, polled alike",
  SeenByGetP99: "write seen on other node p99 (cached get) vs raw watch, polled alike",
  SeenByWatchP50: "write seen on other node p50 (watch) vs raw watch",
  SeenByWatchP99: "write seen on other node p99 (watch) vs raw watch",
  PersistedTells: "tell throughput, persist on vs off",
  Unstored: "counted but not in stored state",
  LostTells: "tells not counted (at most once)",
} as const;

interface Sizes {
  rounds: number;
  cachedGets: number;
  /** Raw gets, and puts on both sides. */
  kvOps: number;
  /** Timed writes per visibility measurement. */
  visibility: number;
  tells: number;
}

const QUICK: Sizes = { rounds: 3, cachedGets: 100_000, kvOps: 1_000, visibility: 300, tells: 20_000 };
const FULL: Sizes = { rounds: 5, cachedGets: 500_000, kvOps: 4_000, visibility: 1_500, tells: 100_000 };

const WARMUP = 200;
const ASK_TIMEOUT_MS = 30_000;
/** A write not seen on the other node within this long fails the scenario. */
const SEEN_WITHIN_MS = 5_000;

type TallyMsg = { op: "add"; n: number } | { op: "count" };

function tallyType(type: string, persist: boolean) {
  return defineAgent<{ n: number }, TallyMsg, number>({
    type,
    persist,
    state: () => ({ n: 0 }),
    receive(msg, ctx) {
      if (msg.op === "add") ctx.state.n++;
      return ctx.state.n;
    },
  });
}

/** The same state-changing agent twice: once with its state persisted after each change, once without. */
const tally = tallyType("bench-tally", false);
const tallyPersisted = tallyType("bench-tally-persisted", true);

interface Stamp {
  i: number;
  stamp: number;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Sequential awaited operations per second, after `warmup` unmeasured ones. */
async function rate(count: number, warmup: number, op: (i: number) => Promise<void>, signal: AbortSignal): Promise<number> {
  for (let i = 0; i < warmup; i++) await op(i);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await op(warmup + i);
    if ((i & 1023) === 0 && signal.aborted) throw signal.reason;
  }
  return opsPerSecond(count, performance.now() - t0);
}

/** A write on `a`, timed from just before the put until a watch on `b` delivers it (µs), `count` times. */
async function watchVisibility(a: MemoryBucket, b: MemoryBucket, key: string, count: number, signal: AbortSignal): Promise<number[]> {
  const watch = b.watch<Stamp>(key);
  await watch.ready;
  const waiting = new Map<number, (latencyMs: number) => void>();
  const pump = (async () => {
    for await (const change of watch) {
      const arrivedAt = performance.now();
      if (change.op !== "put" || change.value === undefined) continue;
      waiting.get(change.value.i)?.(arrivedAt - change.value.stamp);
      waiting.delete(change.value.i);
    }
  })();
  try {
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + count; i++) {
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<number>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`a write was not delivered to the other node's watch within ${SEEN_WITHIN_MS} ms`)), SEEN_WITHIN_MS);
        waiting.set(i, resolve);
      });
      await a.put(key, { i, stamp: performance.now() });
      const latencyMs = await arrived.finally(() => clearTimeout(timer));
      if (i >= WARMUP) samples.push(msToMicros(latencyMs));
      if (signal.aborted) throw signal.reason;
    }
    return samples;
  } finally {
    watch.stop();
    await pump.catch(() => undefined);
  }
}

/**
 * A write on `a`, timed from just before the put until a get on `b` (answered
 * from its cache, which `b`'s bucket watch keeps current) returns it (µs),
 * `count` times. `b` polls once per event-loop turn from before the put.
 */
async function cachedGetVisibility(a: MemoryBucket, b: MemoryBucket, key: string, count: number, signal: AbortSignal): Promise<number[]> {
  await a.put(key, { i: -1, stamp: 0 });
  await seenAt(b, key, -1); // b caches the key
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const stamp = performance.now();
    const seen = seenAt(b, key, i);
    await a.put(key, { i, stamp });
    const at = await seen;
    if (i >= WARMUP) samples.push(msToMicros(at - stamp));
    if (signal.aborted) throw signal.reason;
  }
  return samples;
}

async function seenAt(b: MemoryBucket, key: string, i: number): Promise<number> {
  const deadline = performance.now() + SEEN_WITHIN_MS;
  for (;;) {
    const e = await b.get<Stamp>(key);
    if (e?.value.i === i) return performance.now();
    if (performance.now() > deadline) throw new Error(`a write was not seen by a get on the other node within ${SEEN_WITHIN_MS} ms`);
    await nextTurn();
  }
}

export const memoryScenario: Scenario = {
  name: "memory",
  title: "Shared memory and persisted state",
  description:
    "Two nodes on two connections sharing a memory bucket, beside raw nats.js KV on two connections: cached get against kv.get, put against kv.put, a write on one node seen on the other (by a cached get, and by a watch) against a raw watch, and the tell throughput of a state-changing agent with its state persisted against the same agent without.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "What Troupe's coherent cache buys on reads, what its writes and cross-node visibility cost against raw JetStream KV, and what persisting agent state costs a busy agent.";
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "memory", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    const pair = await connectRawPair(server.url);
    ctx.defer(() => pair.close());
    // Node A hosts the agents and writes; node B reads, watches and sends the tells.
    const nodeA = await startNode({ servers: server.url, namespace: "benchmem", name: "bench-mem-a", agents: [tally, tallyPersisted] });
    ctx.defer(() => nodeA.close());
    const nodeB = await startNode({ servers: server.url, namespace: "benchmem", name: "bench-mem-b", agents: [] });
    ctx.defer(() => nodeB.close());
    const bucketA = nodeA.memory.bucket("bench");
    const bucketB = nodeB.memory.bucket("bench");
    await nodeA.spawn("bench-tally", { key: "t1" });
    await nodeA.spawn("bench-tally-persisted", { key: "t1" });
    const plain = nodeB.ref<TallyMsg, number>("bench-tally", "t1");
    const persisted = nodeB.ref<TallyMsg, number>("bench-tally-persisted", "t1");

    const raw = { gets: [] as number[], puts: [] as number[], watchedPuts: [] as number[], watchUs: [] as number[], polledUs: [] as number[] };
    const troupe = { gets: [] as number[], puts: [] as number[], watchUs: [] as number[], getUs: [] as number[], plainTells: [] as number[], persistedTells: [] as number[] };
    let lostTells = 0;
    let sink = 0;

    const steps = sizes.rounds * 9;
    let step = 0;
    const phase = (label: string): void => ctx.progress(step++ / steps, label);

    const tellRate = async (ref: typeof plain): Promise<number> => {
      const before = await ref.ask({ op: "count" }, { timeoutMs: ASK_TIMEOUT_MS });
      const t0 = performance.now();
      await pacedTells(ref, nodeB.connection, sizes.tells, (n): TallyMsg => ({ op: "add", n }), { signal: ctx.signal });
      const after = await ref.ask({ op: "count" }, { timeoutMs: ASK_TIMEOUT_MS });
      const elapsedMs = performance.now() - t0;
      lostTells += sizes.tells - (after - before);
      return opsPerSecond(after - before, elapsedMs);
    };

    // Warm-up of the Troupe side (the raw baseline warms up inside rawKv).
    await tellRate(plain);
    await tellRate(persisted);

    for (let round = 0; round < sizes.rounds; round++) {
      const tag = `r${round + 1}`;
      phase(`${tag} raw KV get, put, watch`);
      const kv = await rawKv(pair, { gets: sizes.kvOps, puts: sizes.kvOps, watches: sizes.visibility, warmup: WARMUP, signal: ctx.signal });
      raw.gets.push(kv.getsPerSec);
      raw.puts.push(kv.putsPerSec);
      raw.watchUs.push(...kv.watchSamplesUs);
      phase(`${tag} raw KV put, both connections watching`);
      raw.watchedPuts.push(await rawKvPutsWatched(pair, { puts: sizes.kvOps, warmup: WARMUP, signal: ctx.signal }));
      phase(`${tag} raw KV write seen by polling a map a watch keeps`);
      raw.polledUs.push(...(await rawKvPolledVisibility(pair, { writes: sizes.visibility, warmup: WARMUP, seenWithinMs: SEEN_WITHIN_MS, signal: ctx.signal })));

      phase(`${tag} Troupe cached get`);
      await bucketA.put("k", { n: 0 });
      troupe.gets.push(
        await rate(sizes.cachedGets, 1_000, async () => {
          const e = await bucketA.get<{ n: number }>("k");
          sink += e!.value.n;
        }, ctx.signal),
      );

      phase(`${tag} Troupe put`);
      troupe.puts.push(await rate(sizes.kvOps, WARMUP, async (i) => void (await bucketA.put("p", { n: i })), ctx.signal));

      phase(`${tag} Troupe write seen by a watch on the other node`);
      troupe.watchUs.push(...(await watchVisibility(bucketA, bucketB, `w${tag}`, sizes.visibility, ctx.signal)));

      phase(`${tag} Troupe write seen by a cached get on the other node`);
      troupe.getUs.push(...(await cachedGetVisibility(bucketA, bucketB, `g${tag}`, sizes.visibility, ctx.signal)));

      phase(`${tag} tells, persist off`);
      troupe.plainTells.push(await tellRate(plain));
      phase(`${tag} tells, persist on`);
      troupe.persistedTells.push(await tellRate(persisted));

      ctx.log(
        `${tag}: get raw ${formatNumber(kv.getsPerSec)}/s, cached ${formatNumber(troupe.gets.at(-1))}/s; put raw ${formatNumber(kv.putsPerSec)}/s (watched ${formatNumber(raw.watchedPuts.at(-1))}/s), Troupe ${formatNumber(troupe.puts.at(-1))}/s; ` +
          `tells persist off ${formatNumber(troupe.plainTells.at(-1))}/s, on ${formatNumber(troupe.persistedTells.at(-1))}/s`,
      );
    }
    ctx.progress(1, "done");
    if (sink < 0) throw new Error("unreachable"); // keeps the reads from being optimised away

    // Everything the persisted agent counted is in its stored state: its count
    // ask is answered only after the state it reveals is committed.
    const counted = await persisted.ask({ op: "count" }, { timeoutMs: ASK_TIMEOUT_MS });
    const stored = (await nodeB.persistedState(persisted.id))?.value as { n?: number } | undefined;
    const unstored = counted - (stored?.n ?? 0);

    const rawWatch = percentiles(raw.watchUs);
    const rawPolled = percentiles(raw.polledUs);
    const watchLat = percentiles(troupe.watchUs);
    const getLat = percentiles(troupe.getUs);
    const plainTells = median(troupe.plainTells);
    const persistedTells = median(troupe.persistedTells);
    const metrics: Metric[] = [
      compare({ name: MemoryFigure.CachedGet, unit: "ops/s", better: "higher", troupe: median(troupe.gets), baseline: median(raw.gets), minRatio: MEMORY_GOALS.cachedGet }),
      compare({ name: MemoryFigure.Put, unit: "ops/s", better: "higher", troupe: median(troupe.puts), baseline: median(raw.puts), minRatio: MEMORY_GOALS.put }),
      compare({ name: MemoryFigure.PutWatched, unit: "ops/s", better: "higher", troupe: median(troupe.puts), baseline: median(raw.watchedPuts) }),
      compare({ name: MemoryFigure.SeenByGetP50, unit: "µs", better: "lower", troupe: getLat.p50, baseline: rawPolled.p50, minRatio: MEMORY_GOALS.visibilityP50 }),
      compare({ name: MemoryFigure.SeenByGetP99, unit: "µs", better: "lower", troupe: getLat.p99, baseline: rawPolled.p99, minRatio: MEMORY_GOALS.visibilityP99 }),
      compare({ name: MemoryFigure.SeenByWatchP50, unit: "µs", better: "lower", troupe: watchLat.p50, baseline: rawWatch.p50, minRatio: MEMORY_GOALS.visibilityP50 }),
      compare({ name: MemoryFigure.SeenByWatchP99, unit: "µs", better: "lower", troupe: watchLat.p99, baseline: rawWatch.p99, minRatio: MEMORY_GOALS.visibilityP99 }),
      compare({ name: MemoryFigure.PersistedTells, unit: "msg/s", better: "higher", troupe: persistedTells, baseline: plainTells }),
      { name: MemoryFigure.Unstored, unit: "msgs", better: "lower", troupe: unstored, goal: "0", pass: unstored === 0 },
      { name: MemoryFigure.LostTells, unit: "msgs", better: "lower", troupe: lostTells, goal: "0", pass: lostTells === 0 },
    ];
    return {
      name: "memory",
      ok: true,
      summary,
      metrics,
      latency: [
        {
          title: "A write on one side seen on the other",
          rows: [
            { label: "raw nats.js: kv.put on a, watch on b", unit: "µs", ...rawWatch },
            { label: "Troupe: put on node A, watch on node B", unit: "µs", ...watchLat },
            { label: "raw nats.js: kv.put on a, map kept by a watch on b, polled", unit: "µs", ...rawPolled },
            { label: "Troupe: put on node A, cached get on node B, polled", unit: "µs", ...getLat },
          ],
        },
      ],
      notes: [
        `${sizes.rounds} rounds, raw and Troupe alternating; rates are the median of the rounds, latencies pool every sample (${sizes.visibility} timed writes per round and method, after ${WARMUP} untimed).`,
        "Raw: a KV bucket with nats.js defaults (file storage, history 1) on two connections, a and b; gets and puts awaited one at a time on a, the value MessagePack-decoded per get; visibility from just before kv.put on a to the entry's arrival at a watch (updates only) on b.",
        "Each Troupe put is also delivered to both nodes' bucket watches (that is how their caches stay coherent), all in this one process on this machine's cores (node B's delivery of a write is usually handled after node A's, which a raw watcher alone never waits for); the second put baseline (no goal) adds the same fan-out to raw: a watch on each raw connection receiving every write.",
        "Troupe: two nodes, each with its own connection, sharing the bucket troupe_benchmem_mem_bench (history 5, Troupe's default). Cached gets and puts on node A, of a key node A wrote; a cached get never leaves the process, which is what the 200x goal asks of the cache.",
        "Visibility on node B: by a watch (the bucket's one KV watch feeding watch() iterators), and by get polled once per event-loop turn from before the put until it returns the new value (answered from node B's cache, which that watch keeps current). Both time from just before the put on node A.",
        "The cached get is compared with its raw counterpart observed the same way: a raw watch (updates only) on b keeping a Map of decoded values, polled once per event-loop turn from before the put. Polling keeps the event loop busy and makes garbage every turn, so more garbage collections land inside a timed write; against the unpolled raw watch that cost of the observer would be charged to the cache.",
        `Tell throughput of the same counting agent with persist on (state committed to troupe_benchmem_state with group commit; a count ask is answered only after the state it reveals is committed) and off; tells paced as in the throughput scenario (a server round trip every 1000), ${sizes.tells} per run. No goal: the ratio is what persistence costs a busy agent (persist on/off = ${(persistedTells / plainTells).toFixed(2)}).`,
      ],
    };
  },
};
