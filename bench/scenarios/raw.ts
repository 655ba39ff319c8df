// The `raw` scenario: the raw nats.js baselines on their own, as a sanity
// check of the machine and the server before reading any Troupe ratio, and as
// the reference every other scenario is compared with.

import { connectRawPair, rawKv, rawPubSubThroughput, rawRequestLatency, rawRequestThroughput } from "../baselines/raw-nats.js";
import { rawRequestsThroughOutage } from "../baselines/raw-outage.js";
import { rng } from "../random.js";
import { errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

interface Sizes {
  pubsub: number;
  requests: number;
  windowed: number;
  kvGets: number;
  kvPuts: number;
  kvWatches: number;
  outageMs: number;
  kills: number;
}

const QUICK: Sizes = { pubsub: 100_000, requests: 3_000, windowed: 30_000, kvGets: 2_000, kvPuts: 2_000, kvWatches: 500, outageMs: 5_000, kills: 1 };
const FULL: Sizes = { pubsub: 500_000, requests: 20_000, windowed: 150_000, kvGets: 10_000, kvPuts: 10_000, kvWatches: 3_000, outageMs: 16_000, kills: 3 };

/** Phases and their share of the progress bar. */
const PHASES = [
  ["pub/sub", 0.15],
  ["request/reply latency", 0.15],
  ["request/reply, 64 in flight", 0.15],
  ["KV get/put/watch", 0.15],
  ["server kill and restart", 0.4],
] as const;

function phaseProgress(ctx: ScenarioContext, index: number): (f: number) => void {
  const before = PHASES.slice(0, index).reduce((a, [, w]) => a + w, 0);
  const [label, weight] = PHASES[index]!;
  ctx.progress(before, label);
  return (f) => ctx.progress(before + weight * Math.min(1, Math.max(0, f)), label);
}

export const rawScenario: Scenario = {
  name: "raw",
  title: "Raw nats.js baselines",
  description:
    "Plain nats.js against a local nats-server, no Troupe: pub/sub throughput, request/reply latency and throughput, JetStream KV get/put/watch, and request/reply through a server kill. These are the figures every Troupe ratio is measured against.",
  async run(ctx): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "What the client library and server deliver on this machine, with no Troupe in the way.";
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "raw", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    ctx.log(`nats-server at ${server.url}`);
    const pair = await connectRawPair(server.url);
    ctx.defer(() => pair.close());
    const signal = ctx.signal;

    const pubsubTl = new Timeline({ bucketMs: 100 });
    const pubsub = await rawPubSubThroughput(pair, { messages: sizes.pubsub, signal, onProgress: phaseProgress(ctx, 0), timeline: pubsubTl });
    pubsubTl.stop();
    ctx.log(`pub/sub: ${formatNumber(pubsub.perSec)} msg/s (${sizes.pubsub} messages in ${pubsub.elapsedMs.toFixed(0)} ms)`);

    const latency = await rawRequestLatency(pair, { requests: sizes.requests, signal, onProgress: phaseProgress(ctx, 1) });
    ctx.log(`request/reply: p50 ${formatNumber(latency.summary.p50)} µs, p99 ${formatNumber(latency.summary.p99)} µs`);

    const windowTl = new Timeline({ bucketMs: 100 });
    const windowed = await rawRequestThroughput(pair, {
      requests: sizes.windowed,
      window: 64,
      signal,
      onProgress: phaseProgress(ctx, 2),
      timeline: windowTl,
    });
    windowTl.stop();
    ctx.log(`request/reply, 64 in flight: ${formatNumber(windowed.perSec)} req/s`);

    const kv = await rawKv(pair, {
      gets: sizes.kvGets,
      puts: sizes.kvPuts,
      watches: sizes.kvWatches,
      signal,
      onProgress: phaseProgress(ctx, 3),
    });
    ctx.log(
      `KV: get ${formatNumber(kv.getsPerSec)}/s, put ${formatNumber(kv.putsPerSec)}/s, watch p50 ${formatNumber(kv.watchLatencyUs.p50)} µs p99 ${formatNumber(kv.watchLatencyUs.p99)} µs`,
    );

    // Kills at seeded times spread over the run; each waits for the previous
    // outage (about 2 s of nats.js reconnect wait) to end.
    const r = rng(ctx.seed);
    const span = sizes.outageMs / (sizes.kills + 1);
    const killAtMs = Array.from({ length: sizes.kills }, (_, i) => Math.round(span * (i + 0.6) + r.int(0, Math.round(span * 0.4))));
    const outageTl = new Timeline({ bucketMs: 100 });
    const outage = await rawRequestsThroughOutage(server, {
      durationMs: sizes.outageMs,
      killAtMs,
      downMs: 250,
      window: 16,
      timeoutMs: 500,
      timeline: outageTl,
      signal,
      onProgress: phaseProgress(ctx, 4),
    });
    ctx.progress(1, "done");
    ctx.log(`outage: gaps ${outage.gapMs.map((g) => g.toFixed(0)).join(", ")} ms; ${outage.failedRequests} requests failed`);

    const metrics: Metric[] = [
      { name: "pub/sub throughput", unit: "msg/s", better: "higher", baseline: pubsub.perSec },
      { name: "request/reply latency p50", unit: "µs", better: "lower", baseline: latency.summary.p50 },
      { name: "request/reply latency p99", unit: "µs", better: "lower", baseline: latency.summary.p99 },
      { name: "request/reply throughput, 64 in flight", unit: "req/s", better: "higher", baseline: windowed.perSec },
      { name: "KV get (sequential)", unit: "ops/s", better: "higher", baseline: kv.getsPerSec },
      { name: "KV put (sequential)", unit: "ops/s", better: "higher", baseline: kv.putsPerSec },
      { name: "KV watch visibility p50", unit: "µs", better: "lower", baseline: kv.watchLatencyUs.p50 },
      { name: "KV watch visibility p99", unit: "µs", better: "lower", baseline: kv.watchLatencyUs.p99 },
      { name: "no replies after a server kill (median)", unit: "ms", better: "lower", baseline: outage.gap.p50 },
    ];
    return {
      name: "raw",
      ok: true,
      summary,
      metrics,
      series: [
        { title: "pub/sub: messages arriving at the subscriber", unit: "msg/s", points: pubsubTl.points(), events: pubsubTl.events() },
        { title: "request/reply, 64 in flight: replies", unit: "req/s", points: windowTl.points(), events: windowTl.events() },
        {
          title: `request/reply (16 in flight) through ${sizes.kills} server kill${sizes.kills === 1 ? "" : "s"}`,
          unit: "req/s",
          points: outageTl.points(),
          events: outageTl.events(),
        },
      ],
      latency: [
        {
          title: "Latency",
          rows: [
            { label: "request/reply (sequential)", unit: "µs", ...latency.summary },
            { label: "KV write → watch on another connection", unit: "µs", ...kv.watchLatencyUs },
          ],
        },
        {
          title: "Restart latency",
          rows: [
            { label: "kill → first reply", unit: "ms", ...percentiles(outage.gapMs) },
            { label: "restart → server accepting", unit: "ms", ...percentiles(outage.serverStartMs) },
            { label: "server accepting → first reply", unit: "ms", ...percentiles(outage.reconnectMs) },
          ],
        },
      ],
      notes: [
        "Two connections in one process (sender a, receiver b), nats.js defaults plus maxReconnectAttempts: -1; MessagePack encoded and decoded per message.",
        "Pub/sub flushes every 1000 publishes (back-pressure); the time runs from the first publish to the last arrival.",
        `KV bucket with nats.js defaults (file storage, history 1); gets and puts are awaited one at a time.`,
        `Server kills at ${killAtMs.map((t) => (t / 1000).toFixed(2)).join(", ")} s (seed ${ctx.seed}), down ${250} ms each; nats.js reconnects after its default 2 s wait. ${outage.failedRequests} requests failed or timed out (500 ms).`,
        "The server, the sender and the receiver share this machine's cores, so absolute figures are modest; compare ratios.",
      ],
    };
  },
};
