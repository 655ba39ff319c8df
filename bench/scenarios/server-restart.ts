// The `server-restart` scenario: asks to persisted counter agents under load
// while the nats-server is killed (SIGKILL) and started again on the same port
// and store. It measures what clients saw (how long nothing was answered, how
// long until throughput was back), that no ask hung, that no acknowledged
// state write was lost, and that shared-memory caches and watches are coherent
// afterwards; beside raw nats.js request/reply through the same kind of outage.

import { AskTimeoutError, counter, ErrorCode, startNode, TroupeError, type AgentRef, type MemoryBucket } from "../../actors/index.js";
import { rawRequestsThroughOutage } from "../baselines/raw-outage.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, msToMicros, percentiles } from "../stats.js";
import { Timeline, type SeriesPoint, type TimelineEvent } from "../timeline.js";

interface Sizes {
  /** Persisted counter agents on the host node. */
  counters: number;
  /** Asks kept in flight by the client node (and requests by the raw baseline). */
  lanes: number;
  /** Length of the loaded Troupe run, ms: long enough after the last kill for a 5 s JetStream timeout to pass. */
  runMs: number;
  /** Length of each raw baseline run, ms (with the same kill times). */
  rawRunMs: number;
  /** When the server is killed, ms after the load starts. */
  killAtMs: number[];
  /** Writes timed on the other node before the first kill and after the run. */
  coherenceWrites: number;
}

const QUICK: Sizes = { counters: 8, lanes: 16, runMs: 9_000, rawRunMs: 6_500, killAtMs: [2_000], coherenceWrites: 20 };
const FULL: Sizes = { counters: 16, lanes: 32, runMs: 32_000, rawRunMs: 32_000, killAtMs: [5_000, 14_000, 23_000], coherenceWrites: 100 };

/** The names of the figures this scenario reports (for tests and readers of the JSON). */
export const ServerRestartFigure = {
  Outage: "no answers after a kill (worst)",
  Recovery: "throughput back to 80% after a kill (worst)",
  OutageVsQuickRaw: "no answers after a kill (worst) vs raw, reconnect wait 250 ms",
  RecoveryVsQuickRaw: "throughput back to 80% (worst) vs raw, reconnect wait 250 ms",
  AllCountersBack: "every counter answering again after a kill (worst)",
  RateBefore: "increments answered per second before the first kill",
  Sent: "asks sent",
  Answered: "asks answered",
  TimedOut: "asks timed out (AskTimeoutError)",
  TypedErrors: "asks failed with other typed errors",
  UntypedErrors: "asks failed with untyped errors",
  Hung: "asks hung (no outcome within timeout + 2 s)",
  Lost: "acknowledged increments lost",
  Phantom: "increments stored beyond those sent",
  UnknownApplied: "unanswered increments that were applied",
  Failures: "counter failures during the run (restarted by the root supervisor)",
  Serving: "counters serving after the restart",
  Fenced: "counters stopped as fenced",
  StaleReads: "writes on node A not seen by node B's cached get within 2 s, after the restart",
  WatchMissed: "writes node B's watch missed or reordered across the restart",
  SeenAfterP50: "write on node A seen by node B's cached get after the restart, p50",
} as const;

/** How long the server stays down. */
const DOWN_MS = 1_000;
const ASK_TIMEOUT_MS = 1_000;
/** An ask that has neither resolved nor rejected this long after its timeout has hung. */
const HUNG_GRACE_MS = 2_000;
/** A write on node A must be seen by a cached get on node B within this long. */
const COHERENT_WITHIN_MS = 2_000;
/** Throughput is back when a window this long reaches this fraction of the rate just before that kill ({@link PRE_KILL_MS}). */
const RECOVERY_WINDOW_MS = 500;
const RECOVERY_FRACTION = 0.8;
/** Load at the start, ms, left out of the rate before the kill (warm-up). */
const SETTLE_MS = 500;
/**
 * Each kill's recovery is judged against the rate over this long just before
 * that kill (not over the start of the run): on a shared machine the rate
 * drifts over a run, and a later kill measured against the first one's rate
 * reads a drop that happened before it as a slow recovery.
 */
const PRE_KILL_MS = 3_000;
/** The reconnect wait Troupe's connections use, given to the second raw baseline. */
const RAW_RECONNECT_WAIT_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * After a kill at `killAtMs`, the time until the rate over a `windowMs` window
 * first reaches `fraction` of `baseRate` again: ms from the kill to the start
 * of that window (or to the first answer after the kill, `firstAnswerMs`, if
 * that is later), for windows starting before `untilMs`; NaN when none does.
 *
 * @example
 * // 100 ms buckets, 200/s before; killed at 3.0 s, first answer at 4.25 s, steady again from 4.4 s
 * recoveryMs(points, 100, 3000, 4250, 10_000, 200) // 1400
 */
export function recoveryMs(
  points: readonly SeriesPoint[],
  bucketMs: number,
  killAtMs: number,
  firstAnswerMs: number,
  untilMs: number,
  baseRate: number,
  windowMs = RECOVERY_WINDOW_MS,
  fraction = RECOVERY_FRACTION,
): number {
  if (!(baseRate > 0) || Number.isNaN(firstAnswerMs)) return NaN;
  const width = Math.max(1, Math.round(windowMs / bucketMs));
  // The bucket holding the kill still has answers from before it: start after it.
  const from = Math.max(Math.floor(killAtMs / bucketMs) + 1, Math.floor(firstAnswerMs / bucketMs));
  for (let i = from; i + width <= points.length && points[i]!.tMs < untilMs; i++) {
    let sum = 0;
    for (let j = i; j < i + width; j++) sum += points[j]!.value;
    if (sum / width >= fraction * baseRate) return Math.max(points[i]!.tMs, firstAnswerMs) - killAtMs;
  }
  return NaN;
}

/** The mean rate over [fromMs, toMs). */
export function meanRate(points: readonly SeriesPoint[], fromMs: number, toMs: number): number {
  const inside = points.filter((p) => p.tMs >= fromMs && p.tMs < toMs);
  return inside.length === 0 ? NaN : inside.reduce((s, p) => s + p.value, 0) / inside.length;
}

/**
 * The rate before a kill at `killAtMs`: the mean over the whole buckets in the
 * `lookbackMs` before the bucket holding the kill, starting no earlier than
 * `sinceMs` (the end of the warm-up, or the previous outage's first answer).
 *
 * @example
 * // 100 ms buckets; killed at 5.05 s: the mean of the buckets from 2.0 s to 4.9 s
 * rateBeforeKill(points, 100, 5050, 500) // with lookbackMs 3000
 */
export function rateBeforeKill(points: readonly SeriesPoint[], bucketMs: number, killAtMs: number, sinceMs: number, lookbackMs = PRE_KILL_MS): number {
  const killBucketMs = Math.floor(killAtMs / bucketMs) * bucketMs;
  return meanRate(points, Math.max(Math.ceil(sinceMs / bucketMs) * bucketMs, killBucketMs - lookbackMs), killBucketMs);
}

interface OutageFigures {
  /** Per kill: kill → first answer after the restart, ms. */
  gapMs: number[];
  /** Per kill: kill → throughput back to a fraction of `preRates[i]`, ms (NaN: not within the run). */
  recoveryMs: number[];
  /** Per kill: the rate just before it ({@link rateBeforeKill}). */
  preRates: number[];
}

/** Outage and recovery per kill, read off a timeline whose kills are marked "server killed…". */
function outageFigures(tl: Timeline, firstAnswers: number[]): OutageFigures {
  const points = tl.points();
  const kills = tl.events().filter((e) => e.label.startsWith("server killed")).map((e) => e.atMs);
  // The bucket holding the previous outage's first answer is partly empty: start after it.
  const preRates = kills.map((k, i) =>
    rateBeforeKill(points, tl.bucketMs, k, i === 0 ? SETTLE_MS : Math.floor((firstAnswers[i - 1] ?? NaN) / tl.bucketMs + 1) * tl.bucketMs),
  );
  const lastMs = points.length * tl.bucketMs;
  return {
    gapMs: kills.map((k, i) => (firstAnswers[i] ?? NaN) - k),
    recoveryMs: kills.map((k, i) => recoveryMs(points, tl.bucketMs, k, firstAnswers[i] ?? NaN, kills[i + 1] ?? lastMs, preRates[i]!)),
    preRates,
  };
}

/** What happened to the asks to one counter. */
interface CounterTally {
  sent: number;
  acked: number;
  /** The highest count an answered inc returned. */
  maxReply: number;
  /** Asks whose increment may or may not have been applied (timed out, hung, failed after delivery). */
  unknown: number;
}

interface Load {
  sent: number;
  answered: number;
  timedOut: number;
  /** Typed errors other than AskTimeoutError, by code. */
  typed: Map<string, number>;
  untyped: number;
  hung: number;
  /** Hung asks that settled later. */
  lateSettled: number;
  perCounter: CounterTally[];
  /** Counters that answered an ask with AgentFencedError. */
  fenced: Set<number>;
  untypedExamples: string[];
}

/** A write on `a`, timed until a get on `b` returns it (ms), or NaN when not within `withinMs`. */
async function visibleAfter(a: MemoryBucket, b: MemoryBucket, key: string, i: number, withinMs: number): Promise<number> {
  const t0 = performance.now();
  const deadline = t0 + withinMs;
  const put = a.put(key, { i });
  let seen = NaN;
  for (;;) {
    const e = await b.get<{ i: number }>(key).catch(() => undefined);
    if (e?.value.i === i) {
      seen = performance.now() - t0;
      break;
    }
    if (performance.now() > deadline) break;
    await nextTurn();
  }
  await put;
  return seen;
}

export const serverRestartScenario: Scenario = {
  name: "server-restart",
  title: "nats-server killed and restarted under load",
  description:
    "Asks to persisted counter agents on one node, from a client node, while the nats-server is killed with SIGKILL and restarted on the same port and store. Reports the outage clients saw, the time until throughput is back, asks answered, failed with typed errors or hung, acknowledged increments lost, and whether shared-memory caches and watches are coherent afterwards; beside raw nats.js request/reply through the same outage.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "What survives a crash of the nats-server under load: how long clients go unanswered, whether any ask hangs or any acknowledged state write is lost, and whether caches come back coherent.";
    let server;
    let rawServer;
    try {
      server = await ctx.startServer();
      rawServer = await ctx.startServer();
    } catch (err) {
      return { name: "server-restart", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    const ns = "benchrestart";
    const host = await startNode({ servers: server.url, namespace: ns, name: "restart-host", agents: [counter] });
    ctx.defer(() => host.close());
    const client = await startNode({ servers: server.url, namespace: ns, name: "restart-client", agents: [] });
    ctx.defer(() => client.close());
    // Fencing is reported as an event (and to the asks waiting on the failed write).
    const fencedIds = new Set<string>();
    const stopEvents = client.onEvent((e) => fencedIds.add(e.id), { kind: "fenced" });
    ctx.defer(stopEvents);
    const refs: AgentRef<{ op: "inc" } | { op: "get" }, number>[] = [];
    for (let c = 0; c < sizes.counters; c++) {
      await host.spawn("counter", { key: `c${c}` });
      refs.push(client.ref("counter", `c${c}`));
    }

    // Shared memory: node A (the host) writes, node B (the client) reads through
    // its cache and watches. Timed once before the first kill.
    const memA = host.memory.bucket("coherence");
    const memB = client.memory.bucket("coherence");
    const watched: number[] = [];
    const watch = memB.watch<{ i: number }>("coh");
    await watch.ready;
    const watching = (async () => {
      for await (const change of watch) if (change.op === "put" && change.value) watched.push(change.value.i);
    })();
    ctx.defer(async () => {
      watch.stop();
      await watching.catch(() => undefined);
    });
    let written = 0;
    const before: number[] = [];
    await memA.put("coh", { i: -1 });
    await memB.get("coh"); // node B caches the key
    for (let n = 0; n < 2 * sizes.coherenceWrites; n++) {
      const ms = await visibleAfter(memA, memB, "coh", written++, COHERENT_WITHIN_MS);
      if (n >= sizes.coherenceWrites) before.push(ms); // the first half warms up
    }

    // Warm-up, untimed.
    for (let n = 0; n < 200; n++) await refs[n % refs.length]!.ask({ op: "inc" }, { timeoutMs: 5_000 });
    const warmAcks = 200;

    const load: Load = {
      sent: 0,
      answered: 0,
      timedOut: 0,
      typed: new Map(),
      untyped: 0,
      hung: 0,
      lateSettled: 0,
      perCounter: refs.map(() => ({ sent: 0, acked: 0, maxReply: 0, unknown: 0 })),
      fenced: new Set(),
      untypedExamples: [],
    };
    for (let n = 0; n < warmAcks; n++) load.perCounter[n % refs.length]!.acked++;

    const tl = new Timeline();
    let stop = false;
    let restartedAt = Infinity;
    /** Per kill: when the restart began, and when each counter first answered after it. */
    const restarts: number[] = [];
    const backByCounter: Map<number, number>[] = [];
    let onFirstAnswer: ((atMs: number) => void) | undefined;

    const askOnce = async (c: number): Promise<boolean> => {
      const tally = load.perCounter[c]!;
      load.sent++;
      tally.sent++;
      const settled = refs[c]!.ask({ op: "inc" }, { timeoutMs: ASK_TIMEOUT_MS }).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), ASK_TIMEOUT_MS + HUNG_GRACE_MS)));
      const outcome = await Promise.race([settled, hung]);
      clearTimeout(timer);
      if (outcome === "hung") {
        load.hung++;
        tally.unknown++;
        void settled.then(() => load.lateSettled++);
        return false;
      }
      if (outcome.ok) {
        load.answered++;
        tally.acked++;
        if (typeof outcome.value === "number" && outcome.value > tally.maxReply) tally.maxReply = outcome.value;
        tl.record();
        const k = restarts.length - 1;
        if (k >= 0 && !backByCounter[k]!.has(c)) backByCounter[k]!.set(c, tl.elapsedMs());
        if (onFirstAnswer && tl.elapsedMs() >= restartedAt) {
          const resolve = onFirstAnswer;
          onFirstAnswer = undefined;
          resolve(tl.elapsedMs());
        }
        return true;
      }
      const err = outcome.error;
      if (err instanceof AskTimeoutError) {
        load.timedOut++;
        tally.unknown++;
      } else if (err instanceof TroupeError) {
        load.typed.set(err.code, (load.typed.get(err.code) ?? 0) + 1);
        if (err.code === ErrorCode.AgentFenced) load.fenced.add(c);
        // Not delivered at all: nobody subscribed (no responders), or not sent.
        if (err.code !== ErrorCode.AgentNotFound && err.code !== ErrorCode.NotConnected) tally.unknown++;
      } else {
        load.untyped++;
        tally.unknown++;
        if (load.untypedExamples.length < 3) load.untypedExamples.push(errorText(err));
      }
      return false;
    };

    const lane = async (laneNo: number): Promise<void> => {
      let n = laneNo;
      while (!stop) {
        const ok = await askOnce(n++ % refs.length);
        if (!ok) await sleep(10); // failures during an outage can come back at once; do not spin (as the raw baseline)
      }
    };

    ctx.progress(0, "Troupe: asks under load");
    tl.reset();
    const lanes = Array.from({ length: sizes.lanes }, (_, i) => lane(i));
    const progressTimer = setInterval(() => ctx.progress(0.5 * Math.min(1, tl.elapsedMs() / sizes.runMs), "Troupe: asks through a server kill"), 200);
    const firstAnswers: number[] = [];
    const serverUpMs: number[] = [];
    try {
      for (const [i, at] of sizes.killAtMs.entries()) {
        await sleep(Math.max(0, at - tl.elapsedMs()));
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const suffix = sizes.killAtMs.length > 1 ? ` #${i + 1}` : "";
        tl.event(`server killed${suffix}`);
        await server.kill();
        await sleep(DOWN_MS);
        const first = new Promise<number>((r) => (onFirstAnswer = r));
        restartedAt = tl.elapsedMs();
        restarts.push(restartedAt);
        backByCounter.push(new Map());
        await server.restart();
        serverUpMs.push(tl.event(`server up${suffix}`) - restartedAt);
        let giveUp: NodeJS.Timeout | undefined;
        const firstAt = await Promise.race([first, new Promise<number>((r) => (giveUp = setTimeout(() => r(NaN), 30_000)))]);
        clearTimeout(giveUp);
        onFirstAnswer = undefined;
        restartedAt = Infinity;
        firstAnswers.push(firstAt);
        if (Number.isNaN(firstAt)) ctx.log(`no ask was answered within 30 s of the server restarting${suffix}`);
        else tl.event(`first answer${suffix}`);
      }
      await sleep(Math.max(0, sizes.runMs - tl.elapsedMs()));
    } finally {
      clearInterval(progressTimer);
      stop = true;
      await Promise.all(lanes);
    }
    tl.stop();
    const troupe = outageFigures(tl, firstAnswers);
    const killTimes = tl.events().filter((e) => e.label.startsWith("server killed")).map((e) => e.atMs);
    // Per kill: until every counter answered again (NaN if one never did).
    const allBackMs = backByCounter.map((m, k) => (m.size === refs.length ? Math.max(...m.values()) - killTimes[k]! : NaN));
    ctx.log(
      `Troupe: ${load.answered}/${load.sent} answered, ${load.timedOut} timed out, ${load.hung} hung; outage ${troupe.gapMs.map((g) => g.toFixed(0)).join(", ")} ms; back to ${RECOVERY_FRACTION * 100}% after ${troupe.recoveryMs.map((r) => r.toFixed(0)).join(", ")} ms`,
    );

    // Durability: every answered increment is in the stored count, and the
    // stored count holds nothing beyond what was sent.
    ctx.progress(0.5, "Troupe: checking counts and memory");
    let serving = 0;
    let lost = 0;
    let unexplained = 0;
    let unknownApplied = 0;
    let unknownTotal = 0;
    for (const [c, ref] of refs.entries()) {
      const tally = load.perCounter[c]!;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await ref.ask({ op: "get" }, { timeoutMs: 2_000 });
          serving++;
          break;
        } catch {
          await sleep(200);
        }
      }
      const stored = ((await client.persistedState(ref.id))?.value as { count?: number } | undefined)?.count ?? 0;
      lost += Math.max(0, Math.max(tally.acked, tally.maxReply) - stored);
      unexplained += Math.max(0, stored - tally.acked - tally.unknown);
      unknownApplied += Math.max(0, Math.min(tally.unknown, stored - tally.acked));
      unknownTotal += tally.unknown;
    }

    const failures = (await host.list()).reduce((sum, a) => sum + a.failures, 0);
    for (const c of load.fenced) fencedIds.add(refs[c]!.id);
    const fenced = refs.filter((r) => fencedIds.has(r.id)).length;

    // Coherence afterwards: node A's writes are seen by node B's cached get,
    // and node B's watch delivered every write, in order, across the restarts.
    const after: number[] = [];
    for (let n = 0; n < sizes.coherenceWrites; n++) after.push(await visibleAfter(memA, memB, "coh", written++, COHERENT_WITHIN_MS));
    const notSeen = after.filter((ms) => Number.isNaN(ms)).length;
    const watchDeadline = performance.now() + COHERENT_WITHIN_MS;
    while (watched.length < written && performance.now() < watchDeadline) await sleep(10);
    const expected = Array.from({ length: written }, (_, i) => i);
    const missed = expected.filter((i) => !watched.includes(i)).length;
    const outOfOrder = watched.some((v, i) => i > 0 && v <= watched[i - 1]!);
    const getAfter = percentiles(after.filter((ms) => !Number.isNaN(ms)).map(msToMicros));
    const getBefore = percentiles(before.filter((ms) => !Number.isNaN(ms)).map(msToMicros));

    // The raw baselines: request/reply on two plain connections, same load
    // shape and outage, on their own server; once with nats.js's default
    // reconnect wait (2 s), once with Troupe's (250 ms).
    const runRaw = async (label: string, from: number, share: number, connection?: { reconnectTimeWait: number }) => {
      ctx.progress(from, label);
      const timeline = new Timeline();
      const result = await rawRequestsThroughOutage(rawServer, {
        durationMs: sizes.rawRunMs,
        killAtMs: sizes.killAtMs,
        downMs: DOWN_MS,
        window: sizes.lanes,
        timeoutMs: ASK_TIMEOUT_MS,
        timeline,
        connection,
        signal: ctx.signal,
        onProgress: (f) => ctx.progress(from + share * f, label),
      });
      const kills = timeline.events().filter((e) => e.label.startsWith("server killed"));
      const figures = outageFigures(timeline, kills.map((k, i) => k.atMs + (result.gapMs[i] ?? NaN)));
      ctx.log(
        `${label}: ${result.replies} replies, ${result.failedRequests} failed; outage ${figures.gapMs.map((g) => g.toFixed(0)).join(", ")} ms; back after ${figures.recoveryMs.map((r) => r.toFixed(0)).join(", ")} ms`,
      );
      return { result, timeline, figures };
    };
    const rawDefault = await runRaw("raw nats.js, default reconnect wait", 0.55, 0.225);
    const rawQuick = await runRaw("raw nats.js, reconnect wait 250 ms", 0.775, 0.225, { reconnectTimeWait: RAW_RECONNECT_WAIT_MS });
    const raw = rawDefault.result;
    const rawFig = rawDefault.figures;
    const rawTl = rawDefault.timeline;
    ctx.progress(1, "done");

    const worst = (xs: number[]): number => (xs.some((x) => Number.isNaN(x)) ? NaN : Math.max(...xs));
    const typedErrors = [...load.typed.values()].reduce((a, b) => a + b, 0);
    const troupeBackEvents: TimelineEvent[] = troupe.recoveryMs.flatMap((r, i) =>
      Number.isNaN(r) ? [] : [{ atMs: killTimes[i]! + r, label: `throughput back ≥ ${RECOVERY_FRACTION * 100}%` }],
    );
    const metrics: Metric[] = [
      compare({ name: ServerRestartFigure.Outage, unit: "ms", better: "lower", troupe: worst(troupe.gapMs), baseline: worst(rawFig.gapMs) }),
      compare({ name: ServerRestartFigure.Recovery, unit: "ms", better: "lower", troupe: worst(troupe.recoveryMs), baseline: worst(rawFig.recoveryMs) }),
      compare({ name: ServerRestartFigure.OutageVsQuickRaw, unit: "ms", better: "lower", troupe: worst(troupe.gapMs), baseline: worst(rawQuick.figures.gapMs) }),
      compare({ name: ServerRestartFigure.RecoveryVsQuickRaw, unit: "ms", better: "lower", troupe: worst(troupe.recoveryMs), baseline: worst(rawQuick.figures.recoveryMs) }),
      { name: ServerRestartFigure.AllCountersBack, unit: "ms", better: "lower", troupe: worst(allBackMs) },
      { name: ServerRestartFigure.RateBefore, unit: "asks/s", better: "higher", troupe: troupe.preRates[0]! },
      { name: ServerRestartFigure.Sent, unit: "asks", troupe: load.sent },
      { name: ServerRestartFigure.Answered, unit: "asks", better: "higher", troupe: load.answered },
      { name: ServerRestartFigure.TimedOut, unit: "asks", troupe: load.timedOut },
      { name: ServerRestartFigure.TypedErrors, unit: "asks", troupe: typedErrors },
      { name: ServerRestartFigure.UntypedErrors, unit: "asks", better: "lower", troupe: load.untyped, goal: "0", pass: load.untyped === 0 },
      { name: ServerRestartFigure.Hung, unit: "asks", better: "lower", troupe: load.hung, goal: "0", pass: load.hung === 0 },
      { name: ServerRestartFigure.Lost, unit: "incs", better: "lower", troupe: lost, goal: "0", pass: lost === 0 },
      { name: ServerRestartFigure.Phantom, unit: "incs", better: "lower", troupe: unexplained, goal: "0", pass: unexplained === 0 },
      { name: ServerRestartFigure.UnknownApplied, unit: "incs", troupe: unknownApplied },
      { name: ServerRestartFigure.Failures, unit: "failures", troupe: failures },
      { name: ServerRestartFigure.Fenced, unit: "agents", better: "lower", troupe: fenced, goal: "0", pass: fenced === 0 },
      { name: ServerRestartFigure.Serving, unit: "agents", better: "higher", troupe: serving, goal: `${refs.length}`, pass: serving === refs.length },
      { name: ServerRestartFigure.StaleReads, unit: "writes", better: "lower", troupe: notSeen, goal: "0", pass: notSeen === 0 },
      { name: ServerRestartFigure.WatchMissed, unit: "writes", better: "lower", troupe: missed, goal: "0", pass: missed === 0 && !outOfOrder },
      { name: ServerRestartFigure.SeenAfterP50, unit: "µs", better: "lower", troupe: getAfter.p50 },
    ];
    const typedList = [...load.typed.entries()].map(([code, n]) => `${code} ${n}`).join(", ") || "none";
    return {
      name: "server-restart",
      ok: true,
      summary,
      metrics,
      series: [
        { title: "Troupe: increments answered (persisted counters) through a server kill", unit: "asks/s", points: tl.points(), events: [...tl.events(), ...troupeBackEvents] },
        { title: "raw nats.js: request/reply through a server kill", unit: "req/s", points: rawTl.points(), events: rawTl.events() },
        { title: "raw nats.js, reconnect wait 250 ms: request/reply through a server kill", unit: "req/s", points: rawQuick.timeline.points(), events: rawQuick.timeline.events() },
      ],
      latency: [
        {
          title: "Outage",
          rows: [
            { label: "Troupe: kill → first answer", unit: "ms", ...percentiles(troupe.gapMs) },
            { label: "raw nats.js: kill → first reply", unit: "ms", ...percentiles(rawFig.gapMs) },
            { label: "raw nats.js, reconnect wait 250 ms: kill → first reply", unit: "ms", ...percentiles(rawQuick.figures.gapMs) },
            { label: "restart → server accepting (Troupe run)", unit: "ms", ...percentiles(serverUpMs) },
            { label: "restart → server accepting (raw run)", unit: "ms", ...percentiles(raw.serverStartMs) },
          ],
        },
        {
          title: "A write on node A seen by a cached get on node B",
          rows: [
            { label: "before the kill", unit: "µs", ...getBefore },
            { label: "after the restart", unit: "µs", ...getAfter },
          ],
        },
      ],
      notes: [
        `${sizes.counters} persisted counter agents (the built-in counter) on a host node; a client node keeps ${sizes.lanes} increments in flight (ask timeout ${ASK_TIMEOUT_MS} ms, a 10 ms pause after a failure); each lane cycles through the counters, so one counter that stops answering slows every lane, as it would a client that needs them all. The server is killed with SIGKILL at ${sizes.killAtMs.map((t) => (t / 1000).toFixed(1)).join(", ")} s of a ${(sizes.runMs / 1000).toFixed(0)} s run and restarted ${DOWN_MS} ms later on the same port and store.`,
        `Typed errors besides timeouts: ${typedList}.${load.untypedExamples.length ? ` Untyped: ${load.untypedExamples.join("; ")}.` : ""} ${load.lateSettled} hung asks settled later.`,
        `Durability: after the run, each counter's stored state is read (node.persistedState). Lost = answered increments (or the highest count an answer returned) missing from it; the stored count may exceed the answered ones only by increments whose outcome was unknown (timed out or failed after delivery): ${unknownApplied} of ${unknownTotal} such were applied.`,
        `Coherence: node B caches a key and watches it; after the run node A writes it ${sizes.coherenceWrites} times, each of which node B's get must return within ${COHERENT_WITHIN_MS / 1000} s; node B's watch must have delivered all ${written} writes, in order (${outOfOrder ? "it did not keep the order" : "it did"}).`,
        `Outage: from the kill to the first answer after the restart. Throughput back: from the kill to the start of the first ${RECOVERY_WINDOW_MS} ms window at ≥ ${RECOVERY_FRACTION * 100}% of the rate over the ${PRE_KILL_MS / 1000} s before that kill (per kill ${troupe.preRates.map((r) => formatNumber(r)).join(", ")} asks/s for Troupe, ${rawFig.preRates.map((r) => formatNumber(r)).join(", ")} req/s raw). Per kill, Troupe: ${troupe.gapMs.map((g) => g.toFixed(0)).join(", ")} ms and ${troupe.recoveryMs.map((r) => r.toFixed(0)).join(", ")} ms (every counter answering after ${allBackMs.map((r) => r.toFixed(0)).join(", ")} ms); raw: ${rawFig.gapMs.map((g) => g.toFixed(0)).join(", ")} ms and ${rawFig.recoveryMs.map((r) => r.toFixed(0)).join(", ")} ms.`,
        ...(fenced > 0
          ? [
              `${fenced} counter(s) were fenced (an event, and AgentFencedError to the asks waiting on the write) and stopped for good. No other activation of them exists here, so the compare-and-set lost to the agent's own write: a state commit in flight at the kill was stored, its ack was lost with the connection, and the retry of the same compare-and-set (same expected revision) failed with wrong last sequence, which the runtime takes for fencing. Every later ask to them fails with AgentStoppedError or AgentNotFoundError.`,
            ]
          : []),
        ...(worst(allBackMs) > 4_000
          ? [
              "Some counter answered again only about 5 s after the kill, though the connection was back sooner: a JetStream request in flight when the connection drops is not failed by nats.js until its timeout (5 s by default), and a state commit waiting on it holds that agent's replies.",
            ]
          : []),
        `nats.js drops what is published while the connection is down, so an ask sent during the outage waits out its ${ASK_TIMEOUT_MS} ms timeout; the first answer comes from an ask sent after the reconnect. The same holds for the raw requests.`,
        `The raw baseline (${raw.replies} replies, ${raw.failedRequests} failed or timed out, ${formatNumber(rawFig.preRates[0]!)} req/s before the first kill) is plain request/reply to an echo responder (no state, nothing persisted) on its own server, killed the same way; its connections use nats.js's default reconnect wait (2 s), Troupe's use 250 ms, so it is run a second time with a 250 ms wait (${rawQuick.result.replies} replies; per kill ${rawQuick.figures.gapMs.map((g) => g.toFixed(0)).join(", ")} ms without answers, back after ${rawQuick.figures.recoveryMs.map((r) => r.toFixed(0)).join(", ")} ms). Each Troupe increment is also a compare-and-set write to JetStream before it is answered.`,
      ],
    };
  },
};
