// The `node-kill` scenario: three Troupe nodes in processes of their own host
// persisted counters, spread over them; this process is the client, with a
// fixed window of increments in flight. One node process is killed with
// SIGKILL (in the full run, then a second one). Once its heartbeat lapses the
// survivors adopt its agents, which resume from their persisted state. It
// shows how long until every agent of the killed node answers again, that no
// ask hangs, that no acknowledged increment and no agent is lost.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNode, type AgentRef, type NodeInfo, type TroupeEvent } from "../../actors/index.js";
import { decodeValue } from "../../runtime/codec.js";
import { Subjects } from "../../runtime/subjects.js";
import { AskLoad, checkCounts, formatErrors, sleep } from "../ask-load.js";
import { startChildNode, type ChildNode } from "../child-node.js";
import { rng } from "../random.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, opsPerSecond, percentiles, type Percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const NodeKillFigure = {
  Sent: "asks sent",
  Answered: "asks answered",
  TypedErrors: "asks failed with a typed error",
  Hung: "asks hung",
  Recovery: "recovery: kill → every agent of the node answers",
  /**
   * From the killed node's last heartbeat (not the kill: that beat can predate
   * the kill by a heartbeat interval or more on a busy machine) to every agent
   * of the node answering; the shortest over the kills. Failover may not
   * begin before the heartbeat has lapsed, so this is never under 3 heartbeats.
   */
  SinceLastHeartbeat: "recovery: last heartbeat of the node → every agent answers (shortest)",
  AgentsMoved: "agents adopted by survivors",
  AgentsLost: "agents lost",
  Duplicates: "agents running on two nodes",
  Lost: "acknowledged increments lost",
  Phantom: "increments applied though reported failed",
  Repeated: "acknowledged counts seen twice",
  Throughput: "asks/s after recovery vs before the kill",
} as const;

interface Sizes {
  nodes: number;
  agents: number;
  window: number;
  kills: number;
  warmupMs: number;
  /** Load before the first kill, and after each recovery. */
  beforeMs: number;
  afterMs: number;
}

const QUICK: Sizes = { nodes: 3, agents: 30, window: 64, kills: 1, warmupMs: 1_000, beforeMs: 3_000, afterMs: 3_000 };
const FULL: Sizes = { nodes: 3, agents: 60, window: 64, kills: 2, warmupMs: 2_000, beforeMs: 10_000, afterMs: 15_000 };

const NAMESPACE = "nodekill";
const HEARTBEAT_MS = 250;
const ASK_TIMEOUT_MS = 1_000;
const HUNG_GRACE_MS = 2_000;
/** An agent of the killed node that has not answered by then is lost. */
const RECOVERY_LIMIT_MS = 20_000;
/** The recovery probe asks each agent of the killed node this often, open loop, each ask with this timeout. */
const PROBE_EVERY_MS = 25;
const PROBE_TIMEOUT_MS = 500;

type CounterMsg = { op: "inc" } | { op: "get" };

interface KillReport {
  node: string;
  agents: number;
  /** Per agent of the killed node: kill → its first answer to a probe. */
  answeredMs: number[];
  /** Agents of the killed node that did not answer within the limit. */
  unrecovered: number;
  /** Kill → the last failover event for the node's agents, as it arrived here. */
  adoptedMs: number;
  /** The node's last heartbeat → the kill (wall clock); NaN when unknown. */
  beatBeforeKillMs: number;
  beforeRate: number;
  afterRate: number;
}

export const nodeKillScenario: Scenario = {
  name: "node-kill",
  title: "Node kill: failover of a dead node's agents",
  description:
    "Three node processes host persisted counters; the bench process keeps 64 increments in flight to them. One node process is killed with SIGKILL (two, one after the other, in the full run); once its heartbeat lapses the survivors adopt its agents. Reports the time until every agent of the killed node answers again, asks answered, failed and hung, agents and acknowledged increments lost, and throughput over time.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary =
      "When a node process dies, the survivors adopt its agents within about a second of its heartbeat lapsing, with every acknowledged increment kept and every ask answered or failed with a typed error.";
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "node-kill", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }

    ctx.progress(0, "starting node processes");
    const children: ChildNode[] = await Promise.all(
      Array.from({ length: sizes.nodes }, (_, i) =>
        startChildNode({ servers: server.url, namespace: NAMESPACE, name: `nk-${i + 1}`, heartbeatMs: HEARTBEAT_MS }).then((c) => {
          ctx.defer(() => c.stop());
          return c;
        }),
      ),
    );
    ctx.log(`node processes: ${children.map((c) => `${c.id} (pid ${c.pid})`).join(", ")}; heartbeat ${HEARTBEAT_MS} ms, gone after ${3 * HEARTBEAT_MS} ms`);
    const client = await startNode({ servers: server.url, namespace: NAMESPACE, name: "nk-client", agents: [], failover: false });
    ctx.defer(() => client.close());
    const adoptions: { id: string; from: string; at: number }[] = [];
    const offFailover = client.onEvent((e: TroupeEvent) => adoptions.push({ id: e.id, from: String(e.from), at: performance.now() }), { kind: "failover" });
    ctx.defer(offFailover);

    // The counters, spread round-robin over the node processes.
    ctx.progress(0.05, "spawning counters");
    const keys = Array.from({ length: sizes.agents }, (_, i) => `k${i}`);
    const refs = new Map<string, AgentRef<CounterMsg, number>>();
    for (const [i, key] of keys.entries()) {
      const ref = await client.spawn<CounterMsg, number>("counter", { key, node: children[i % children.length]!.id });
      refs.set(key, ref);
    }

    const tl = new Timeline({ bucketMs: 250 });
    const load = new AskLoad({
      window: sizes.window,
      keys,
      ask: (key) => refs.get(key)!.ask({ op: "inc" }, { timeoutMs: ASK_TIMEOUT_MS }),
      timeoutMs: ASK_TIMEOUT_MS,
      graceMs: HUNG_GRACE_MS,
      random: rng(ctx.seed),
      timeline: tl,
    });
    ctx.defer(() => load.stop());

    const totalMs = sizes.warmupMs + sizes.beforeMs + sizes.kills * (sizes.afterMs + ASK_TIMEOUT_MS + 1_500);
    const t0 = performance.now();
    let phase = "warm-up";
    const ticker = setInterval(() => ctx.progress(0.1 + 0.85 * Math.min(1, (performance.now() - t0) / totalMs), phase), 250);
    ctx.defer(() => clearInterval(ticker));

    const r = rng(ctx.seed);
    const kills: KillReport[] = [];
    load.start();
    await sleep(sizes.warmupMs, ctx.signal);
    tl.reset();
    phase = "load";
    let a0 = load.answered;
    let s0 = performance.now();
    await sleep(sizes.beforeMs + r.int(0, 500), ctx.signal);

    for (let k = 0; k < sizes.kills; k++) {
      const alive = children.filter((c) => !c.exited);
      const victim = alive[r.int(0, alive.length - 1)]!;
      const placed = (await client.listAll()).agents.filter((a) => a.type === "counter" && a.node === victim.id).map((a) => a.key);
      const beforeRate = opsPerSecond(load.answered - a0, performance.now() - s0);
      const adoptedBefore = adoptions.length;
      const probe = new RecoveryProbe(refs, placed);
      tl.event(`${victim.id} killed (SIGKILL), ${placed.length} agents`);
      phase = `${victim.id} killed`;
      const probing = probe.run(ctx.signal);
      await victim.kill("SIGKILL");
      const lastBeat = await lastHeartbeat(client.connection, victim.id);
      // A heartbeat written while the kill was under way counts as written at the kill: never negative.
      const beatBeforeKillMs = Math.max(0, probe.startedWall - lastBeat);
      await probing;
      const answeredMs = [...probe.answeredMs.values()];
      const unrecovered = placed.length - answeredMs.length;
      tl.event(unrecovered === 0 ? `all ${placed.length} agents answer again` : `${unrecovered} agents did not come back`);
      const ours = adoptions.slice(adoptedBefore).filter((a) => a.from === victim.id);
      const adoptedMs = maxOf(ours.map((a) => a.at)) - probe.startedAt;
      ctx.log(
        `${victim.id} killed with ${placed.length} agents, ${formatNumber(beatBeforeKillMs)} ms after its last heartbeat: all answer again after ${formatNumber(maxOf(answeredMs))} ms, last adopted after ${formatNumber(adoptedMs)} ms (${probe.sent} probes)` +
          (unrecovered > 0 ? `; ${unrecovered} never answered` : ""),
      );
      phase = "after recovery";
      // Lanes stuck on asks lost with the process come free within one ask timeout; measure after that.
      await sleep(ASK_TIMEOUT_MS, ctx.signal);
      await probe.settle();
      a0 = load.answered;
      s0 = performance.now();
      await sleep(sizes.afterMs, ctx.signal);
      const afterRate = opsPerSecond(load.answered - a0, performance.now() - s0);
      kills.push({ node: victim.id, agents: placed.length, answeredMs, unrecovered, adoptedMs, beatBeforeKillMs, beforeRate, afterRate });
      a0 = load.answered;
      s0 = performance.now();
    }

    phase = "reading the counters";
    await load.stop();
    tl.stop();
    clearInterval(ticker);
    ctx.progress(0.96, phase);
    const finals = new Map<string, number | undefined>();
    for (const key of keys) finals.set(key, await readCount(refs.get(key)!));
    const everywhere = (await client.listAll()).agents.filter((a) => a.type === "counter");
    const seen = new Map<string, number>();
    for (const a of everywhere) if (a.state === "running") seen.set(a.key, (seen.get(a.key) ?? 0) + 1);
    const missing = keys.filter((k) => !seen.has(k)).length;
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    ctx.progress(1, "done");

    const check = checkCounts(load.ledger, finals);
    const recovery = kills.map((k) => (k.unrecovered > 0 ? NaN : maxOf(k.answeredMs)));
    const perAgent = percentiles(kills.flatMap((k) => k.answeredMs));
    const unrecovered = kills.reduce((n, k) => n + k.unrecovered, 0);
    const moved = kills.reduce((n, k) => n + k.agents, 0);
    const lostAgents = Math.max(unrecovered, missing);
    const worstRecovery = recovery.some((x) => Number.isNaN(x)) ? NaN : Math.max(...recovery);
    const sinceBeat = kills.map((k, i) => recovery[i]! + k.beatBeforeKillMs);
    // The worst kill, as for the recovery figure it is compared with.
    const longestSinceBeat = sinceBeat.some((x) => Number.isNaN(x)) ? NaN : Math.max(...sinceBeat);
    ctx.log(`asks: ${load.sent} sent, ${load.answered} answered, errors: ${formatErrors(load.errors)}, hung: ${load.hung}`);
    ctx.log(`counters: ${check.final} counted, ${check.acked} acknowledged, ${check.unknown} unknown; lost ${check.lost}, phantom ${check.phantom}, repeated ${check.repeated}, unreadable ${check.unreadable}`);
    ctx.log(`agents: ${moved} adopted, ${missing} not running anywhere at the end, ${duplicates} running twice; ${adoptions.length} failover events`);

    const zero = (name: string, value: number, unit: string): Metric => ({ name, unit, better: "lower", troupe: value, goal: "0", pass: value === 0 });
    const metrics: Metric[] = [
      { name: NodeKillFigure.Sent, unit: "asks", troupe: load.sent },
      { name: NodeKillFigure.Answered, unit: "asks", better: "higher", troupe: load.answered },
      { name: NodeKillFigure.TypedErrors, unit: "asks", troupe: load.errorCount },
      zero(NodeKillFigure.Hung, load.hung, "asks"),
      { name: NodeKillFigure.Recovery, unit: "ms", better: "lower", troupe: worstRecovery },
      { name: NodeKillFigure.SinceLastHeartbeat, unit: "ms", troupe: longestSinceBeat },
      { name: NodeKillFigure.AgentsMoved, unit: "agents", troupe: moved },
      zero(NodeKillFigure.AgentsLost, lostAgents, "agents"),
      zero(NodeKillFigure.Duplicates, duplicates, "agents"),
      zero(NodeKillFigure.Lost, check.lost + check.unreadable, "increments"),
      zero(NodeKillFigure.Phantom, check.phantom, "increments"),
      zero(NodeKillFigure.Repeated, check.repeated, "answers"),
      compare({
        name: NodeKillFigure.Throughput,
        unit: "asks/s",
        better: "higher",
        troupe: median(kills.map((k) => k.afterRate)),
        baseline: median(kills.map((k) => k.beforeRate)),
      }),
    ];
    const row = (label: string, p: Percentiles) => ({ label, unit: "ms", p50: p.p50, p90: p.p90, p99: p.p99, max: p.max });
    return {
      name: "node-kill",
      ok: true,
      summary,
      metrics,
      series: [{ title: `Increments answered, ${sizes.window} in flight, through ${sizes.kills === 1 ? "a node kill" : `${sizes.kills} node kills`}`, unit: "asks/s", points: tl.points(), events: tl.events() }],
      latency: [
        {
          title: "Failover",
          rows: [
            row(`kill → each agent of the killed node answers (${perAgent.count} agents)`, perAgent),
            row("kill → every agent of the killed node answers", percentiles(recovery.filter((x) => !Number.isNaN(x)))),
            row("kill → its last agent adopted (failover event)", percentiles(kills.map((k) => k.adoptedMs).filter((x) => !Number.isNaN(x)))),
          ],
        },
      ],
      notes: [
        `${sizes.nodes} node processes (bench/child-node-main, hosting counter and echo, heartbeat ${HEARTBEAT_MS} ms: a node is gone ${3 * HEARTBEAT_MS} ms after its last beat) and a client node in the bench process with ${sizes.window} increments in flight to ${sizes.agents} persisted counters spread round-robin over the processes.`,
        `Kills (seed ${ctx.seed}): ${kills.map((k) => `${k.node} with ${k.agents} agents, all answering again after ${formatNumber(k.unrecovered > 0 ? NaN : maxOf(k.answeredMs))} ms`).join("; ")}. Recovery runs from the SIGKILL to the first answer of the last of the killed node's agents to a probe (a get every ${PROBE_EVERY_MS} ms per agent, open loop, ${PROBE_TIMEOUT_MS} ms timeout, apart from the load); it includes the heartbeat lapse and the failover scan. The lapse runs from the node's last heartbeat, which came ${kills.map((k) => formatNumber(k.beatBeforeKillMs)).join(" and ")} ms before the kill, so recovery can be shorter than the ${3 * HEARTBEAT_MS} ms lapse; from that heartbeat it took ${sinceBeat.map((x) => formatNumber(x)).join(" and ")} ms.`,
        `Asks: ${load.sent} sent, ${load.answered} answered, errors ${formatErrors(load.errors)}, ${load.hung} hung (not settled within the ${ASK_TIMEOUT_MS} ms ask timeout + ${HUNG_GRACE_MS} ms). While a node is dead its agents have no subscriber, so asks to them fail at once with AgentNotFoundError; asks in flight at the kill, and those sent in the few ms before the server sees the connection close, are lost with the process and time out. Each lane waits one at a time, so the throughput dip after a kill lasts about the ask timeout: with a third of the agents on the dead node, nearly every lane soon holds such an ask.`,
        `Counters: the final counts add up to ${check.final}; ${check.acked} increments were acknowledged and ${check.unknown} are unknown (timed out: possibly applied). Per counter, acknowledged ≤ final ≤ acknowledged + unknown: ${check.lost} lost, ${check.phantom} applied though reported failed, ${check.repeated} counts answered twice${check.unreadable > 0 ? `, ${check.unreadable} counters unreadable` : ""}.`,
        `Agents: ${moved} were on killed nodes; ${unrecovered} did not answer within ${RECOVERY_LIMIT_MS / 1000} s, ${missing} were not running anywhere at the end, ${duplicates} were running on two nodes. ${adoptions.length} failover events.`,
        `Throughput after recovery (over ${sizes.afterMs / 1000} s, from one ask timeout after the last agent answered) vs before the kill: ${formatNumber(median(kills.map((k) => k.afterRate)))} against ${formatNumber(median(kills.map((k) => k.beforeRate)))} asks/s. Fewer node processes share this machine's cores afterwards, so it need not drop.`,
      ],
    };
  },
};

function median(xs: number[]): number {
  return percentiles(xs).p50;
}

/**
 * When node `nodeId` last wrote its heartbeat (its own `lastSeen`, wall clock),
 * read from the membership bucket: after a SIGKILL, its last entry stays there.
 * NaN when there is none.
 */
async function lastHeartbeat(nc: NatsConnection, nodeId: string): Promise<number> {
  try {
    const kv = await new Kvm(nc).open(new Subjects(NAMESPACE).nodesBucket());
    const e = await kv.get(nodeId);
    if (!e || e.operation !== "PUT") return NaN;
    const info = decodeValue(e.value) as Partial<NodeInfo>;
    return typeof info.lastSeen === "number" ? info.lastSeen : NaN;
  } catch {
    return NaN;
  }
}

/** The largest of `xs`, NaN when there is none. */
function maxOf(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

/**
 * Asks each agent of a killed node for its count every PROBE_EVERY_MS, without
 * waiting for earlier asks (so an ask lost with the dead process does not delay
 * the next), until each has answered once or RECOVERY_LIMIT_MS has passed.
 */
class RecoveryProbe {
  /** Per agent key: ms from the start to its first answer. */
  readonly answeredMs = new Map<string, number>();
  readonly startedAt = performance.now();
  /** The same moment on the wall clock, to compare with heartbeat timestamps. */
  readonly startedWall = Date.now();
  sent = 0;

  constructor(
    private readonly refs: ReadonlyMap<string, AgentRef<CounterMsg, number>>,
    private readonly keys: readonly string[],
  ) {}

  #inflight: Promise<unknown>[] = [];

  /** Resolves when every agent has answered once, or at the limit. */
  async run(signal: AbortSignal): Promise<void> {
    const waiting = new Set(this.keys);
    const inflight = this.#inflight;
    while (waiting.size > 0 && performance.now() - this.startedAt < RECOVERY_LIMIT_MS) {
      for (const key of waiting) {
        this.sent++;
        inflight.push(
          this.refs
            .get(key)!
            .ask({ op: "get" }, { timeoutMs: PROBE_TIMEOUT_MS })
            .then(
              () => {
                if (!this.answeredMs.has(key)) this.answeredMs.set(key, performance.now() - this.startedAt);
                waiting.delete(key);
              },
              () => undefined,
            ),
        );
      }
      await sleep(PROBE_EVERY_MS, signal);
    }
  }

  /** Waits for the probes still in flight (they time out by themselves). */
  async settle(): Promise<void> {
    await Promise.all(this.#inflight);
  }
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
