// The `throughput` scenario: Troupe's messaging next to raw nats.js doing the
// same work: tell throughput against pub/sub, sequential ask latency against
// request/reply, and asks with 64 in flight against requests with 64 in flight.
// Baseline and Troupe runs alternate, round after round, on the same server,
// so drift on a noisy machine hits both sides alike.

import { defineAgent, startNode } from "../../actors/index.js";
import {
  connectRawPair,
  rawPubSubThroughput,
  rawRequestLatency,
  rawRequestThroughput,
  RAW_TUNED_OPTIONS,
  windowed,
} from "../baselines/raw-nats.js";
import { pacedTells } from "../baselines/paced-tells.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, median, msToMicros, opsPerSecond, percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

/**
 * The ratios Troupe should reach, normalised so that above 1 is better than raw
 * (the project's marks): asks with 64 in flight at least as fast as raw
 * request/reply (1.0); ask latency within 1.2x of raw request/reply at p50 and
 * p99 (raw/Troupe ≥ 1/1.2); tells at least 0.9x raw pub/sub.
 */
export const THROUGHPUT_GOALS = {
  tellThroughput: 0.9,
  askLatencyP50: 1 / 1.2,
  askLatencyP99: 1 / 1.2,
  askThroughput: 1.0,
} as const;

interface Sizes {
  rounds: number;
  tells: number;
  asks: number;
  windowedAsks: number;
}

const QUICK: Sizes = { rounds: 1, tells: 50_000, asks: 2_000, windowedAsks: 20_000 };
const FULL: Sizes = { rounds: 3, tells: 200_000, asks: 10_000, windowedAsks: 60_000 };

/**
 * Tells between two pauses for a server round trip: the raw pub/sub publisher
 * flushes every 1000 publishes (its default), and the Troupe side pauses the
 * same way (see pacedTells), so both do the same work with the same back-pressure.
 */
const FLUSH_EVERY = 1_000;
const ASK_TIMEOUT_MS = 30_000;

type CounterMsg = { op: "inc"; n: number } | { op: "echo"; n: number } | { op: "count" };
type CounterReply = { ok: true; n: number } | undefined;

/** The agent measured: counts `inc`, answers `echo` with its `n` (the raw responder's work) and `count` with the count. */
const counter = defineAgent<{ n: number }, CounterMsg, CounterReply>({
  type: "bench-counter",
  persist: false,
  state: () => ({ n: 0 }),
  receive(msg, ctx) {
    switch (msg.op) {
      case "inc":
        ctx.state.n++;
        return undefined;
      case "echo":
        return { ok: true, n: msg.n };
      case "count":
        return { ok: true, n: ctx.state.n };
    }
  },
});

export const throughputScenario: Scenario = {
  name: "throughput",
  title: "Messaging throughput and latency",
  description:
    "A counter agent on one node, driven from a second node. Tell throughput (N tells, then an ask that returns the count) against raw pub/sub; sequential ask latency against raw request/reply; asks with 64 in flight against raw requests with 64 in flight.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "How much of raw nats.js messaging speed Troupe keeps when every message is an enveloped tell or ask to an agent.";
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "throughput", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    const pair = await connectRawPair(server.url);
    ctx.defer(() => pair.close());
    const tuned = await connectRawPair(server.url, RAW_TUNED_OPTIONS);
    ctx.defer(() => tuned.close());
    // Like the raw pair (sender on one connection, receiver on another): the
    // agent runs on one node, and a second node with no agents sends to it.
    const host = await startNode({ servers: server.url, namespace: "bench", name: "bench-host", agents: [counter] });
    ctx.defer(() => host.close());
    const client = await startNode({ servers: server.url, namespace: "bench", name: "bench-client", agents: [] });
    ctx.defer(() => client.close());
    await host.spawn("bench-counter", { key: "c1" });
    const ref = client.ref("bench-counter", "c1");
    const count = async (): Promise<number> => {
      const reply = (await ref.ask({ op: "count" }, { timeoutMs: ASK_TIMEOUT_MS })) as CounterReply;
      return reply?.n ?? NaN;
    };

    const steps = sizes.rounds * 8;
    let step = 0;
    const phase = (label: string): ((f: number) => void) => {
      const base = step++ / steps;
      ctx.progress(base, label);
      return (f) => ctx.progress(base + Math.min(1, Math.max(0, f)) / steps, label);
    };

    const raw = { pubsub: [] as number[], latencyUs: [] as number[], windowed: [] as number[] };
    const rawTuned = { latencyUs: [] as number[], windowed: [] as number[] };
    const troupe = { tells: [] as number[], latencyUs: [] as number[], windowed: [] as number[], lost: 0 };
    let rawTl: Timeline | undefined;
    let troupeTl: Timeline | undefined;

    // Warm-up of the Troupe side, as the baselines do theirs.
    for (let i = 0; i < Math.min(2_000, sizes.asks); i++) await ref.ask({ op: "echo", n: i }, { timeoutMs: ASK_TIMEOUT_MS });
    await pacedTells(ref, client.connection, Math.min(10_000, sizes.tells / 5), (i) => ({ op: "inc", n: i }), { flushEvery: FLUSH_EVERY });
    await count();

    for (let round = 0; round < sizes.rounds; round++) {
      const tag = `r${round + 1}`;
      const last = round === sizes.rounds - 1;

      // tell throughput vs pub/sub
      const ps = await rawPubSubThroughput(pair, { messages: sizes.tells, signal: ctx.signal, onProgress: phase(`${tag} raw pub/sub`) });
      raw.pubsub.push(ps.perSec);

      const onTell = phase(`${tag} Troupe tell`);
      const before = await count();
      // Timed like the raw side: from the first send to the last message
      // handled, which the count ask (queued behind every tell, per-sender
      // order) confirms; its one round trip is the only extra.
      const t0 = performance.now();
      await pacedTells(ref, client.connection, sizes.tells, (i) => ({ op: "inc", n: i }), {
        flushEvery: FLUSH_EVERY,
        signal: ctx.signal,
        onProgress: onTell,
      });
      const after = await count();
      const elapsedMs = performance.now() - t0;
      const delivered = after - before;
      troupe.lost += sizes.tells - delivered;
      troupe.tells.push(opsPerSecond(delivered, elapsedMs));
      ctx.log(`${tag}: raw pub/sub ${formatNumber(ps.perSec)} msg/s, Troupe tell ${formatNumber(troupe.tells.at(-1))} msg/s (${delivered}/${sizes.tells} counted)`);

      // sequential ask latency vs request/reply
      const rr = await rawRequestLatency(pair, { requests: sizes.asks, signal: ctx.signal, onProgress: phase(`${tag} raw request/reply`) });
      raw.latencyUs.push(...rr.samplesUs);
      const rrT = await rawRequestLatency(tuned, { requests: sizes.asks, signal: ctx.signal, onProgress: phase(`${tag} raw request/reply, noAsyncTraces`) });
      rawTuned.latencyUs.push(...rrT.samplesUs);
      const onAsk = phase(`${tag} Troupe ask`);
      for (let i = 0; i < sizes.asks; i++) {
        const a0 = performance.now();
        const reply = (await ref.ask({ op: "echo", n: i }, { timeoutMs: ASK_TIMEOUT_MS })) as CounterReply;
        troupe.latencyUs.push(msToMicros(performance.now() - a0));
        if (reply?.n !== i) throw new Error(`ask ${i} was answered with ${JSON.stringify(reply)}`);
        if (i % 200 === 0) {
          onAsk(i / sizes.asks);
          if (ctx.signal.aborted) throw ctx.signal.reason;
        }
      }

      // 64 in flight
      const rawW = new Timeline();
      const rw = await rawRequestThroughput(pair, {
        requests: sizes.windowedAsks,
        window: 64,
        signal: ctx.signal,
        onProgress: phase(`${tag} raw requests, 64 in flight`),
        timeline: rawW,
      });
      rawW.stop();
      raw.windowed.push(rw.perSec);
      const rwT = await rawRequestThroughput(tuned, {
        requests: sizes.windowedAsks,
        window: 64,
        signal: ctx.signal,
        onProgress: phase(`${tag} raw requests, 64 in flight, noAsyncTraces`),
      });
      rawTuned.windowed.push(rwT.perSec);
      const onWindow = phase(`${tag} Troupe asks, 64 in flight`);
      const tw = new Timeline();
      const w0 = performance.now();
      await windowed(sizes.windowedAsks, 64, async (n) => {
        const reply = (await ref.ask({ op: "echo", n }, { timeoutMs: ASK_TIMEOUT_MS })) as CounterReply;
        if (reply?.n !== n) throw new Error(`ask ${n} was answered with ${JSON.stringify(reply)}`);
        tw.record();
        if (n % 500 === 0) onWindow(n / sizes.windowedAsks);
      });
      tw.stop();
      troupe.windowed.push(opsPerSecond(sizes.windowedAsks, performance.now() - w0));
      ctx.log(
        `${tag}: 64 in flight: raw ${formatNumber(rw.perSec)} req/s (noAsyncTraces ${formatNumber(rwT.perSec)}), Troupe ${formatNumber(troupe.windowed.at(-1))} asks/s`,
      );

      if (last) {
        rawTl = rawW;
        troupeTl = tw;
      }
    }
    ctx.progress(1, "done");

    const rawLat = percentiles(raw.latencyUs);
    const tunedLat = percentiles(rawTuned.latencyUs);
    const troupeLat = percentiles(troupe.latencyUs);
    const metrics: Metric[] = [
      compare({ name: "tell throughput vs pub/sub", unit: "msg/s", better: "higher", troupe: median(troupe.tells), baseline: median(raw.pubsub), minRatio: THROUGHPUT_GOALS.tellThroughput }),
      compare({ name: "ask latency p50 vs request/reply", unit: "µs", better: "lower", troupe: troupeLat.p50, baseline: rawLat.p50, minRatio: THROUGHPUT_GOALS.askLatencyP50 }),
      compare({ name: "ask latency p99 vs request/reply", unit: "µs", better: "lower", troupe: troupeLat.p99, baseline: rawLat.p99, minRatio: THROUGHPUT_GOALS.askLatencyP99 }),
      compare({ name: "asks, 64 in flight vs requests", unit: "req/s", better: "higher", troupe: median(troupe.windowed), baseline: median(raw.windowed), minRatio: THROUGHPUT_GOALS.askThroughput }),
      compare({ name: "ask latency p50 vs request/reply, noAsyncTraces", unit: "µs", better: "lower", troupe: troupeLat.p50, baseline: tunedLat.p50 }),
      compare({ name: "ask latency p99 vs request/reply, noAsyncTraces", unit: "µs", better: "lower", troupe: troupeLat.p99, baseline: tunedLat.p99 }),
      compare({ name: "asks, 64 in flight vs requests, noAsyncTraces", unit: "req/s", better: "higher", troupe: median(troupe.windowed), baseline: median(rawTuned.windowed) }),
      { name: "tells not counted (at most once)", unit: "msgs", better: "lower", troupe: troupe.lost, goal: "0", pass: troupe.lost === 0 },
    ];
    const series = [];
    if (troupeTl) series.push({ title: "Troupe: asks answered, 64 in flight (last round)", unit: "asks/s", points: troupeTl.points(), events: troupeTl.events() });
    if (rawTl) series.push({ title: "raw nats.js: requests answered, 64 in flight (last round)", unit: "req/s", points: rawTl.points(), events: rawTl.events() });
    return {
      name: "throughput",
      ok: true,
      summary,
      metrics,
      series,
      latency: [
        {
          title: "Sequential round trip",
          rows: [
            { label: "raw nats.js request/reply", unit: "µs", ...rawLat },
            { label: "raw nats.js request/reply, noAsyncTraces", unit: "µs", ...tunedLat },
            { label: "Troupe ask", unit: "µs", ...troupeLat },
          ],
        },
      ],
      notes: [
        `${sizes.rounds} round${sizes.rounds === 1 ? "" : "s"}, raw and Troupe alternating; throughputs are the median of the rounds, latencies pool every sample.`,
        `Troupe: a node hosting the counter agent (persist: false, so no KV write per message) and a second node, with no agents, sending to it through a ref; raw: a sending and a receiving connection. Both in this one process, against the same server.`,
        `Tell vs pub/sub is like for like: raw publishes in a loop and flushes (a PING/PONG round trip) every ${FLUSH_EVERY}; Troupe awaits each tell and, every ${FLUSH_EVERY}, lets its batched tells go out (one event-loop turn) and flushes its connection the same way. Raw time runs from the first publish to the last arrival; Troupe's to the answer of a count ask queued behind the last tell (one extra round trip).`,
        "Goals are set against the raw baseline with nats.js defaults (as a user starts). The noAsyncTraces rows are a second, tuned baseline without goals: Troupe's connections set noAsyncTraces, and its asks use one wildcard inbox subscription with its own correlation instead of nc.request(), which is why asks can beat raw request/reply here.",
        `Tell throughput counts only tells the agent applied; ${troupe.lost} were not counted.`,
      ],
    };
  },
};
