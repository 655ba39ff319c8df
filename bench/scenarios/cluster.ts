// The `cluster` scenario: a 3-server NATS cluster (every stream and bucket
// with 3 replicas) and three node processes, each connected to a different
// server and hosting persisted counters, under ask load from this process.
// One at a time, with recovery in between, it kills the server leading the
// state bucket's stream, a server leading nothing (each restarted once the
// asks are answered again), and a node process (its agents are adopted by the
// others). It reports the time without answers per kill, asks hung,
// acknowledged increments lost and agents that ran twice at once, beside the
// raw JetStream election time measured on the same cluster.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, TroupeError, type AgentRef, type TroupeEvent } from "../../actors/index.js";
import { Subjects } from "../../runtime/subjects.js";
import type { NatsCluster } from "../../runtime/testing/nats-cluster.js";
import { AskLoad, checkCounts, formatErrors, sleep } from "../ask-load.js";
import type { ChildNode } from "../child-node.js";
import { activationSpans, overlaps, readActivationLog, type ActivationOverlap } from "../cluster/activation-log.js";
import { answerGaps, type AnswerMark } from "../cluster/answer-gaps.js";
import { bucketPlacement, pickVictim, serverNames } from "../cluster/cluster-leaders.js";
import { startClusterNode } from "../cluster/cluster-node.js";
import { startPlaceableCluster } from "../cluster/placeable-cluster.js";
import { measureRawElection, type RawElection } from "../cluster/raw-election.js";
import { rng } from "../random.js";
import { errorText, ratioOf, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, median, percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

/** What the scenario kills, one at a time. */
export const ClusterKill = {
  /** The nats-server leading the state bucket's stream (SIGKILL), restarted after recovery. */
  LeaderServer: "leader-server",
  /** A nats-server leading none of the state, registry and membership streams (or the fewest), restarted after recovery. */
  FollowerServer: "follower-server",
  /** A node process (SIGKILL); the others adopt its agents. */
  NodeProcess: "node-process",
} as const;
export type ClusterKill = (typeof ClusterKill)[keyof typeof ClusterKill];

/** The names of the figures this scenario reports (tests read them by these). */
export const ClusterFigure = {
  RawElection: "raw JetStream election time (stream leader killed → a put succeeds)",
  AnsweredAgain: "asks answered again after the leader server is killed",
  Gap: {
    [ClusterKill.LeaderServer]: "time without answers: leader server killed (longest gap)",
    [ClusterKill.FollowerServer]: "time without answers: non-leader server killed (longest gap)",
    [ClusterKill.NodeProcess]: "time without answers: node process killed (longest gap)",
  },
  AgentGap: {
    [ClusterKill.LeaderServer]: "time without answers per agent: leader server killed (worst agent)",
    [ClusterKill.FollowerServer]: "time without answers per agent: non-leader server killed (worst agent)",
    [ClusterKill.NodeProcess]: "time without answers per agent: node process killed (worst agent)",
  },
  Sent: "asks sent",
  Answered: "asks answered",
  TypedErrors: "asks failed with a typed error",
  UntypedErrors: "asks failed with an untyped error",
  Hung: "asks hung",
  Lost: "acknowledged increments lost",
  Phantom: "increments applied though reported failed",
  Repeated: "acknowledged counts seen twice",
  RunningTwice: "agents running twice",
  AgentsLost: "agents lost",
} as const;

interface Sizes {
  agents: number;
  /** Asks kept in flight. */
  window: number;
  warmupMs: number;
  /** Load before the first kill, and after each recovery (and restart) before the next. */
  steadyMs: number;
  /** Raw elections measured (the goal uses their median). */
  rawElections: number;
  /** Every agent must answer again within this long of a kill, ms (else the kill's recovery is reported as not reached). */
  recoveryLimitMs: number;
  plan: readonly ClusterKill[];
}

const QUICK: Sizes = {
  agents: 24,
  window: 32,
  warmupMs: 1_000,
  steadyMs: 2_000,
  rawElections: 1,
  recoveryLimitMs: 10_000,
  plan: [ClusterKill.LeaderServer, ClusterKill.FollowerServer, ClusterKill.NodeProcess],
};
const FULL: Sizes = {
  agents: 60,
  window: 64,
  warmupMs: 2_000,
  steadyMs: 8_000,
  rawElections: 3,
  recoveryLimitMs: 30_000,
  plan: [ClusterKill.LeaderServer, ClusterKill.FollowerServer, ClusterKill.LeaderServer, ClusterKill.FollowerServer, ClusterKill.NodeProcess],
};

const NAMESPACE = "cluster";
const SERVERS = 3;
const REPLICAS = 3;
const NODES = 3;
/** The default heartbeat: a node is gone 3 s after its last beat. */
const HEARTBEAT_MS = 1_000;
const ASK_TIMEOUT_MS = 1_000;
const HUNG_GRACE_MS = 2_000;
/** How long the raw election may take before the measurement gives up, ms. */
const RAW_LIMIT_MS = 30_000;
/** How long to wait for a restarted server's streams to be current again before moving on anyway. */
const CATCH_UP_LIMIT_MS = 10_000;
/** The goal: after a leader is killed, asks are answered again within the raw election time plus this. */
const ELECTION_MARGIN_MS = 1_000;
const RAW_BUCKET = "bench_cluster_raw_election";

type CounterMsg = { op: "inc" } | { op: "get" };

interface KillRecord {
  kind: ClusterKill;
  /** The server's name or the node's id. */
  victim: string;
  /** For a server: the streams it led (state, registry, membership). */
  led: string[];
  /** For a node: the agents placed on it. */
  agents: number;
  /** Agents answering before the kill (the others were lost earlier): the ones it is measured on. */
  answering: number;
  /** SIGKILL → every agent answered again, ms; NaN when not within the limit. */
  recoveredMs: number;
  /** The longest time without any answer from the kill until every agent answered again. */
  answeredAgainMs: number;
  /** The longest time without any answer, from the kill to the end of its phase (restart and steady load included). */
  gapMs: number;
  /** Per agent, the longest time without an answer from it over the same window. */
  agentGapMs: number[];
  /** The window, ms. */
  windowMs: number;
  /** For a server: its restart → every replica of the state, registry and membership streams current, ms; NaN when not within the limit. */
  catchUpMs: number;
  /** Failover and fenced events seen from the kill to the end of the phase. */
  failovers: number;
  fenced: number;
}

export const clusterScenario: Scenario = {
  name: "cluster",
  title: "NATS cluster: server and node kills under load",
  description:
    "A 3-server NATS cluster (3 replicas of every stream and bucket) and three node processes, each on its own server, hosting persisted counters under ask load. One at a time: the server leading the state bucket's stream is killed and restarted, then a server leading nothing, then a node process. Reports the time without answers per kill, asks hung, acknowledged increments lost, agents running twice, and the raw JetStream election time measured on the same cluster.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary =
      "On a 3-server NATS cluster, losing a server (the state stream's leader or not) or a node process loses no acknowledged increment, hangs no ask and never runs an agent twice; asks are answered again about as soon as JetStream has elected a new leader.";
    let cluster: NatsCluster;
    try {
      cluster = await startPlaceableCluster({ size: SERVERS, onRetry: (why) => ctx.log(why) });
    } catch (err) {
      return { name: "cluster", ok: false, summary, metrics: [], error: `could not start a ${SERVERS}-server NATS cluster: ${errorText(err)}` };
    }
    ctx.defer(() => cluster.dispose());
    const names = await serverNames(cluster);
    ctx.log(`cluster: ${names.map((n, i) => `${n} at ${cluster.servers[i]!.url}`).join(", ")}`);

    // The raw baseline first, with nothing of Troupe on the cluster.
    const raw: RawElection[] = [];
    for (let i = 0; i < sizes.rawElections; i++) {
      ctx.progress(0.02 + 0.08 * (i / sizes.rawElections), "raw JetStream election");
      const e = await measureRawElection({ cluster, names, bucket: RAW_BUCKET, replicas: REPLICAS, limitMs: RAW_LIMIT_MS, signal: ctx.signal });
      raw.push(e);
      ctx.log(`raw election #${i + 1}: ${e.killed} (leading ${RAW_BUCKET}) killed, a put succeeded after ${formatNumber(e.electionMs)} ms (${e.tries} tries); restarted`);
    }
    const rawElectionMs = median(raw.map((e) => e.electionMs).filter((x) => !Number.isNaN(x)));

    ctx.progress(0.1, "starting node processes");
    const logDir = mkdtempSync(join(tmpdir(), "troupe-cluster-bench-"));
    ctx.defer(() => rmSync(logDir, { recursive: true, force: true }));
    const logFiles = new Map<string, string>();
    const diedAt = new Map<string, number>();
    const children: ChildNode[] = await Promise.all(
      Array.from({ length: NODES }, (_, i) => {
        const name = `cl-${i + 1}`;
        const logFile = join(logDir, `${name}.jsonl`);
        logFiles.set(name, logFile);
        return startClusterNode({ server: cluster.urls[i % SERVERS]!, namespace: NAMESPACE, name, heartbeatMs: HEARTBEAT_MS, replicas: REPLICAS, logFile }).then((c) => {
          ctx.defer(() => c.stop());
          return c;
        });
      }),
    );
    ctx.log(`node processes: ${children.map((c, i) => `${c.id} (pid ${c.pid}) on ${names[i % SERVERS]}`).join(", ")}; heartbeat ${HEARTBEAT_MS} ms, replicas ${REPLICAS}`);
    const client = await startNode({ servers: cluster.urls, namespace: NAMESPACE, name: "cl-client", agents: [], failover: false, replicas: REPLICAS });
    ctx.defer(() => client.close());
    const events: { kind: string; id: string; at: number }[] = [];
    const onEvent = (e: TroupeEvent): void => void events.push({ kind: e.kind, id: e.id, at: performance.now() });
    const offEvents = [client.onEvent(onEvent, { kind: "failover" }), client.onEvent(onEvent, { kind: "fenced" })];
    ctx.defer(() => offEvents.forEach((off) => off()));
    const subjects = new Subjects(NAMESPACE);
    const buckets = [
      { label: "state", bucket: subjects.stateBucket() },
      { label: "registry", bucket: subjects.registryBucket() },
      { label: "membership", bucket: subjects.nodesBucket() },
    ];

    ctx.progress(0.15, "spawning counters");
    const keys = Array.from({ length: sizes.agents }, (_, i) => `c${i}`);
    const refs = new Map<string, AgentRef<CounterMsg, number>>();
    for (const [i, key] of keys.entries()) refs.set(key, await client.spawn<CounterMsg, number>("counter", { key, node: children[i % children.length]!.id }));

    const marks: AnswerMark[] = [];
    const untyped: string[] = [];
    const tl = new Timeline({ bucketMs: 250 });
    const load = new AskLoad({
      window: sizes.window,
      keys,
      ask: (key) =>
        refs
          .get(key)!
          .ask({ op: "inc" }, { timeoutMs: ASK_TIMEOUT_MS })
          .catch((err: unknown) => {
            if (!(err instanceof TroupeError)) untyped.push(errorText(err));
            throw err;
          }),
      timeoutMs: ASK_TIMEOUT_MS,
      graceMs: HUNG_GRACE_MS,
      random: rng(ctx.seed),
      timeline: tl,
      onAnswer: (key, _sentAt, answeredAt) => marks.push({ key, at: answeredAt }),
    });
    ctx.defer(() => load.stop());

    const t0 = performance.now();
    const expectedMs = sizes.warmupMs + sizes.steadyMs + sizes.plan.length * (sizes.steadyMs + 8_000);
    let phase = "warm-up";
    const ticker = setInterval(() => ctx.progress(0.2 + 0.75 * Math.min(1, (performance.now() - t0) / expectedMs), phase), 250);
    ctx.defer(() => clearInterval(ticker));

    /** The agents that answered in the `ms` before `until`: those a kill can interrupt (an agent lost earlier is reported as lost, once). */
    const answeringBefore = (until: number, ms: number): string[] => {
      const seen = new Set<string>();
      for (let i = marks.length - 1; i >= 0 && marks[i]!.at >= until - ms; i--) if (marks[i]!.at <= until) seen.add(marks[i]!.key);
      return keys.filter((k) => seen.has(k));
    };
    /** Resolves once each of `expected` has answered since `since` (or at the limit). */
    const everyAgentAnswered = async (since: number, expected: readonly string[]): Promise<void> => {
      const waiting = new Set(expected);
      let seen = 0;
      const start = performance.now();
      while (waiting.size > 0 && performance.now() - start < sizes.recoveryLimitMs) {
        for (; seen < marks.length; seen++) if (marks[seen]!.at > since) waiting.delete(marks[seen]!.key);
        if (waiting.size > 0) await sleep(20, ctx.signal);
      }
    };
    /** Waits until every replica of the state, registry and membership streams is current; the time it took (ms), NaN past the limit. */
    const streamsCurrent = async (what: string): Promise<number> => {
      const start = performance.now();
      let last = "";
      while (performance.now() - start < CATCH_UP_LIMIT_MS) {
        try {
          const placements = await Promise.all(buckets.map((b) => bucketPlacement(client.connection, b.bucket)));
          if (placements.every((p) => p.current)) return performance.now() - start;
          last = placements.map((p, i) => `${buckets[i]!.label}: ${p.text}`).join("; ");
        } catch (err) {
          last = errorText(err);
        }
        await sleep(100, ctx.signal);
      }
      ctx.log(`${what}: not within ${CATCH_UP_LIMIT_MS / 1000} s (${last})`);
      return NaN;
    };

    const r = rng(ctx.seed);
    const kills: KillRecord[] = [];
    load.start();
    await sleep(sizes.warmupMs, ctx.signal);
    tl.reset();
    phase = "load";
    await sleep(sizes.steadyMs, ctx.signal);

    for (const [k, kind] of sizes.plan.entries()) {
      const firstEvent = events.length;
      let victim: string;
      let led: string[] = [];
      let agents = 0;
      let killedAt: number;
      let catchUpMs = NaN;
      const answering = answeringBefore(performance.now(), sizes.steadyMs);
      if (kind === ClusterKill.NodeProcess) {
        const alive = children.filter((c) => !c.exited);
        const node = alive[r.int(0, alive.length - 1)]!;
        victim = node.id;
        agents = (await client.listAll()).agents.filter((a) => a.type === "counter" && a.node === node.id).length;
        phase = `${victim} killed`;
        tl.event(`node ${victim} killed (SIGKILL), ${agents} agents`);
        killedAt = performance.now();
        await node.kill("SIGKILL");
        diedAt.set(node.id, Date.now());
        await everyAgentAnswered(killedAt, answering);
        tl.event("every agent answers again");
      } else {
        await streamsCurrent("every stream's replicas current before a server kill");
        const leaders = await Promise.all(buckets.map(async (b) => (await bucketPlacement(client.connection, b.bucket)).leader));
        const picked = pickVictim(kind === ClusterKill.LeaderServer ? "leader" : "follower", names, leaders);
        if (picked === undefined) throw new Error(`no server to kill: the state stream has no leader (leaders: ${leaders.join(", ")})`);
        victim = picked;
        led = buckets.filter((_, i) => leaders[i] === victim).map((b) => b.label);
        const server = cluster.servers[names.indexOf(victim)]!;
        phase = `${victim} killed`;
        tl.event(`server ${victim} killed (SIGKILL)${led.length ? `, leading ${led.join(", ")}` : ""}`);
        killedAt = performance.now();
        await server.kill();
        await everyAgentAnswered(killedAt, answering);
        tl.event("every agent answers again");
        phase = `${victim} restarting`;
        await server.restart();
        tl.event(`server ${victim} restarted`);
        catchUpMs = await streamsCurrent(`every stream's replicas current after ${victim} restarted`);
      }
      const recoveredGaps = answerGaps(marks, answering, killedAt, performance.now());
      const recovered = recoveredGaps.firstAnswerMs.size === answering.length;
      const recoveredMs = recovered ? Math.max(...recoveredGaps.firstAnswerMs.values()) : NaN;
      phase = "load";
      await sleep(sizes.steadyMs, ctx.signal);
      const windowEnd = performance.now();
      const gaps = answerGaps(marks, answering, killedAt, windowEnd);
      const record: KillRecord = {
        kind,
        victim,
        led,
        agents,
        answering: answering.length,
        recoveredMs,
        answeredAgainMs: recovered ? answerGaps(marks, answering, killedAt, killedAt + recoveredMs).longestMs : NaN,
        gapMs: gaps.longestMs,
        agentGapMs: [...gaps.perAgentMs.values()],
        windowMs: windowEnd - killedAt,
        catchUpMs,
        failovers: events.slice(firstEvent).filter((e) => e.kind === "failover").length,
        fenced: events.slice(firstEvent).filter((e) => e.kind === "fenced").length,
      };
      kills.push(record);
      ctx.log(
        `#${k + 1} ${kind} ${victim}${led.length ? ` (leading ${led.join(", ")})` : ""}${kind === ClusterKill.NodeProcess ? ` with ${agents} agents` : `, caught up ${formatNumber(catchUpMs)} ms after its restart`}: every agent answered again after ${formatNumber(recoveredMs)} ms; longest time without answers ${formatNumber(record.gapMs)} ms (worst agent ${formatNumber(Math.max(...record.agentGapMs))} ms); ${record.failovers} failovers, ${record.fenced} fenced`,
      );
    }

    phase = "reading the counters";
    await load.stop();
    tl.stop();
    clearInterval(ticker);
    ctx.progress(0.96, phase);
    const finals = new Map<string, number | undefined>(await Promise.all(keys.map(async (key) => [key, await readCount(refs.get(key)!)] as const)));
    const placed = (await client.listAll()).agents.filter((a) => a.type === "counter" && a.state === "running");
    const runningKeys = new Set(placed.map((a) => a.key));
    const missing = keys.filter((key) => !runningKeys.has(key) || finals.get(key) === undefined);
    const fencedIds = new Set(events.filter((e) => e.kind === "fenced").map((e) => e.id));
    const missingFenced = missing.filter((key) => [...fencedIds].some((id) => id.endsWith(`/${key}`)));
    const spans = activationSpans(
      [...logFiles.entries()].map(([name, file]) => ({ records: readActivationLog(file), diedAt: diedAt.get(name) })),
      Date.now(),
    );
    const twice = overlaps(spans);
    const agentsTwice = new Set(twice.map((o) => o.key)).size;
    ctx.progress(1, "done");

    const check = checkCounts(load.ledger, finals);
    const typed = load.errorCount - untyped.length;
    const worst = (kind: ClusterKill, f: (k: KillRecord) => number): number => {
      const xs = kills.filter((k) => k.kind === kind).map(f);
      return xs.length === 0 || xs.some(Number.isNaN) ? NaN : Math.max(...xs);
    };
    const zero = (name: string, value: number, unit: string): Metric => ({ name, unit, better: "lower", troupe: value, goal: "0", pass: value === 0 });
    const answeredAgain = worst(ClusterKill.LeaderServer, (k) => k.answeredAgainMs);
    const kinds = [...new Set(sizes.plan)];
    const metrics: Metric[] = [
      { name: ClusterFigure.RawElection, unit: "ms", better: "lower", baseline: rawElectionMs },
      {
        name: ClusterFigure.AnsweredAgain,
        unit: "ms",
        better: "lower",
        troupe: answeredAgain,
        baseline: rawElectionMs,
        ratio: ratioOf(answeredAgain, rawElectionMs, "lower"),
        goal: `≤ raw election + ${ELECTION_MARGIN_MS} ms`,
        pass: answeredAgain <= rawElectionMs + ELECTION_MARGIN_MS,
      },
      ...kinds.map((kind): Metric => ({ name: ClusterFigure.Gap[kind], unit: "ms", better: "lower", troupe: worst(kind, (k) => k.gapMs) })),
      ...kinds.map((kind): Metric => ({ name: ClusterFigure.AgentGap[kind], unit: "ms", better: "lower", troupe: worst(kind, (k) => Math.max(...k.agentGapMs)) })),
      { name: ClusterFigure.Sent, unit: "asks", troupe: load.sent },
      { name: ClusterFigure.Answered, unit: "asks", better: "higher", troupe: load.answered },
      { name: ClusterFigure.TypedErrors, unit: "asks", troupe: typed },
      zero(ClusterFigure.UntypedErrors, untyped.length, "asks"),
      zero(ClusterFigure.Hung, load.hung, "asks"),
      zero(ClusterFigure.Lost, check.lost, "increments"),
      zero(ClusterFigure.Phantom, check.phantom, "increments"),
      zero(ClusterFigure.Repeated, check.repeated, "answers"),
      zero(ClusterFigure.RunningTwice, agentsTwice, "agents"),
      zero(ClusterFigure.AgentsLost, missing.length, "agents"),
    ];
    const row = (label: string, xs: number[]) => ({ label, unit: "ms", ...percentiles(xs.filter((x) => !Number.isNaN(x))) });
    return {
      name: "cluster",
      ok: true,
      summary,
      metrics,
      series: [{ title: `Increments answered per second (${sizes.window} in flight to ${sizes.agents} counters) through server and node kills`, unit: "asks/s", points: tl.points(), events: tl.events() }],
      latency: [
        {
          title: "Time without answers after each kill",
          rows: [
            row("raw JetStream: stream leader killed → a put succeeds", raw.map((e) => e.electionMs)),
            ...kills.map((k, i) => row(`#${i + 1} ${k.kind} ${k.victim}: each agent's longest time without an answer`, k.agentGapMs)),
            ...kinds.map((kind) => row(`${kind}: kill → every agent answered again`, kills.filter((k) => k.kind === kind).map((k) => k.recoveredMs))),
          ],
        },
      ],
      notes: [
        `A ${SERVERS}-server NATS cluster on loopback (routes, clustered JetStream) with ${REPLICAS} replicas of every stream and bucket; ${NODES} node processes (bench/cluster/cluster-node-main, heartbeat ${HEARTBEAT_MS} ms: a node is gone ${3 * HEARTBEAT_MS} ms after its last beat), each connected to a different server, host ${sizes.agents} persisted counters spread round-robin; this process keeps ${sizes.window} increments in flight (${ASK_TIMEOUT_MS} ms ask timeout).`,
        `Raw baseline (${raw.length} run${raw.length === 1 ? "" : "s"}, before the nodes started): a ${REPLICAS}-replica KV bucket with nothing of Troupe on it; the server leading its stream was SIGKILLed and a client on a surviving server put until a put succeeded: ${raw.map((e) => `${formatNumber(e.electionMs)} ms (${e.killed})`).join(", ")}. Goal: after the leader server is killed, asks are answered again (the longest time without any answer from the kill until every agent has answered again) within the median of these + ${ELECTION_MARGIN_MS} ms: ${formatNumber(answeredAgain)} ms against ${formatNumber(rawElectionMs + ELECTION_MARGIN_MS)} ms.`,
        `Kills (seed ${ctx.seed}), one at a time: ${kills
          .map(
            (k) =>
              `${k.kind} ${k.victim}${k.led.length ? ` (leading ${k.led.join(", ")})` : ""}${k.kind === ClusterKill.NodeProcess ? ` with ${k.agents} agents` : ", restarted once every agent answered again"}: every agent answered again after ${formatNumber(k.recoveredMs)} ms, longest time without answers ${formatNumber(k.gapMs)} ms over ${formatNumber(k.windowMs)} ms, ${k.failovers} failover and ${k.fenced} fenced events`,
          )
          .join("; ")}. The time without answers is measured from the SIGKILL to the end of the kill's phase (restart and ${sizes.steadyMs / 1000} s of load included); per agent it includes the time between two asks the load happened to send it.`,
        `Asks: ${load.sent} sent, ${load.answered} answered, errors ${formatErrors(load.errors)}${untyped.length ? ` (untyped: ${[...new Set(untyped)].slice(0, 3).join("; ")})` : ""}, ${load.hung} hung (no answer and no error within the ${ASK_TIMEOUT_MS} ms ask timeout + ${HUNG_GRACE_MS} ms).`,
        `Counters: the final counts add up to ${check.final}; ${check.acked} increments were acknowledged and ${check.unknown} are unknown (timed out: possibly applied). Per counter, acknowledged ≤ final ≤ acknowledged + unknown: ${check.lost} lost, ${check.phantom} applied though reported failed, ${check.repeated} counts answered twice.`,
        `Agents: ${missing.length} not running anywhere or unreadable at the end${missing.length ? ` (${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}; ${missingFenced.length} of them had been fenced)` : ""}.`,
        `Running twice: each activation appends its start and stop (node, wall clock) to its process's log, synchronously; an activation of a killed process ends at its death. ${spans.length} activations, ${twice.length} overlapping pairs over ${agentsTwice} agents${twice.length ? `: ${describeOverlaps(twice)}` : ""}.`,
      ],
    };
  },
};

/** "c3 on cl-1 and cl-2 for 812 ms, ..." (the first few). */
function describeOverlaps(list: readonly ActivationOverlap[]): string {
  return list
    .slice(0, 5)
    .map((o) => `${o.key} on ${o.first.node} and ${o.second.node} for ${formatNumber(o.overlapMs)} ms (${o.first.ended})`)
    .join(", ");
}

/** The count of a counter, trying for a few seconds; undefined when it does not answer. */
async function readCount(ref: AgentRef<CounterMsg, number>): Promise<number | undefined> {
  for (let i = 0; i < 10; i++) {
    try {
      return await ref.ask({ op: "get" }, { timeoutMs: ASK_TIMEOUT_MS });
    } catch {
      await sleep(200);
    }
  }
  return undefined;
}
