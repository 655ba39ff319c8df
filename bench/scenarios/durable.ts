// The `durable` scenario: persisted ledgers with durable mailboxes, hosted by
// node processes, under a steady stream of durable tells and asks with ids
// from this process, while a seeded schedule SIGKILLs node processes (started
// again afterwards) and the nats-server (restarted on the same store). Each
// increment carries a number and each ledger keeps a bitmap of the numbers it
// applied, so the run proves exactly-once: no acknowledged tell and no
// answered ask missing, nothing applied twice, no send hung. It times each
// kill until the mailboxes concerned drain again. Before the chaos, on a
// server of its own, it measures durable tell throughput beside raw
// `js.publish` with a pull consumer (durable-throughput.ts).

import { startNode, type AgentRef, type TroupeEvent } from "../../actors/index.js";
import { sleep } from "../ask-load.js";
import { startChildNode, type ChildNode } from "../child-node.js";
import { DurableKill, durableChaosPlan } from "../durable/durable-chaos-plan.js";
import { DurableLoad, formatCounts } from "../durable/durable-load.js";
import { measureDurableThroughput, SPREAD_AGENTS, type DurableThroughputSizes } from "../durable/durable-throughput.js";
import { probeDrain } from "../durable/drain-probe.js";
import { checkLedgers } from "../durable/ledger-check.js";
import { LEDGER_TYPE, type LedgerMsg, type LedgerState } from "../durable/ledger-agent.js";
import { rng } from "../random.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, median, percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const DurableFigure = {
  TellsSent: "tells sent (distinct ids)",
  TellsAcked: "tells acknowledged",
  TellRetries: "tells sent again with the same id after a typed error",
  AsksSent: "asks sent (distinct ids)",
  AsksAnswered: "asks answered",
  AskRetries: "asks retried with the same id",
  FromOutcome: "asks retried with the same id and answered from the stored outcome",
  Applied: "increments applied",
  Lost: "acknowledged tells lost",
  AsksLost: "answered asks lost",
  Twice: "messages applied twice",
  NeverSent: "increments applied that were never sent",
  AsksHung: "asks hung",
  TellsHung: "tells hung",
  GivenUp: "sends never acknowledged by the end (given up)",
  Unreadable: "ledgers unreadable at the end",
  DrainNode: "node SIGKILL → its mailboxes drain again (worst)",
  DrainServer: "server SIGKILL → every mailbox drains again (worst)",
  Adoption: "node-kill recovery: SIGKILL → its last agent adopted (worst)",
  DrainGoal: "after a node SIGKILL, mailboxes drain again within the node-kill recovery time + 1 s",
  ThroughputOne: "durable tells to 1 agent vs raw js.publish + pull consumer",
  ThroughputSpread: `durable tells to ${SPREAD_AGENTS} agents vs raw js.publish + pull consumer`,
} as const;

/** Durable tell throughput should reach this share of raw JetStream publish + consume. */
export const DURABLE_THROUGHPUT_GOAL = 0.7;
/** A mailbox drains again within the node-kill recovery (kill → last adoption) plus this. */
export const DRAIN_AFTER_ADOPTION_MS = 1_000;

interface Sizes {
  nodes: number;
  ledgers: number;
  tellsPerSec: number;
  tellWindow: number;
  askLanes: number;
  nodeKills: number;
  serverKills: number;
  warmupMs: number;
  firstKillMs: number;
  gapMs: number;
  /** Load after the last kill's mailboxes drained. */
  tailMs: number;
  throughput: DurableThroughputSizes;
}

const QUICK: Sizes = {
  nodes: 3,
  ledgers: 12,
  tellsPerSec: 300,
  tellWindow: 128,
  askLanes: 4,
  nodeKills: 1,
  serverKills: 1,
  warmupMs: 1_000,
  firstKillMs: 2_000,
  gapMs: 6_000,
  tailMs: 2_000,
  throughput: { rounds: 1, messages: 5_000, warmup: 2_000 },
};
const FULL: Sizes = {
  nodes: 3,
  ledgers: 24,
  tellsPerSec: 1_000,
  tellWindow: 256,
  askLanes: 8,
  nodeKills: 2,
  serverKills: 2,
  warmupMs: 2_000,
  firstKillMs: 5_000,
  gapMs: 12_000,
  tailMs: 8_000,
  throughput: { rounds: 3, messages: 30_000, warmup: 10_000 },
};

const NAMESPACE = "durable";
const HEARTBEAT_MS = 250;
const ASK_TIMEOUT_MS = 2_000;
const HUNG_GRACE_MS = 3_000;
/** How long the server stays down. */
const SERVER_DOWN_MS = 1_000;
/** A mailbox not drained this long after its kill counts as not drained. */
const DRAIN_LIMIT_MS = 30_000;
/** After the load stops, sends still unacknowledged are tried again this long. */
const SETTLE_MS = 30_000;

interface KillRecord {
  kind: DurableKill;
  label: string;
  ledgers: number;
  /** Per ledger concerned: kill → its first answered probe. */
  drainedMs: number[];
  undrained: number;
  /** Node kills: kill → the last failover event for its ledgers, as seen here (NaN when none came). */
  adoptedMs: number;
}

const maxOf = (xs: readonly number[]): number => (xs.length === 0 ? NaN : Math.max(...xs));
const worst = (xs: readonly number[]): number => (xs.length === 0 || xs.some((x) => Number.isNaN(x)) ? NaN : Math.max(...xs));

export const durableScenario: Scenario = {
  name: "durable",
  title: "Durable mailboxes: exactly once through node and server kills",
  description:
    "Persisted ledgers with durable mailboxes on node processes take a steady stream of durable tells and asks with ids, while node processes and the nats-server are killed with SIGKILL and started again. Each ledger records which numbered increments it applied; reports acknowledged tells lost, messages applied twice, asks hung, asks answered from a stored outcome, and the time from each kill to the mailboxes draining again. First, durable tell throughput to 1 and 64 agents beside raw js.publish with a pull consumer.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary =
      "A tell the sender saw acknowledged is applied exactly once, and an ask retried with its id is answered from the stored outcome, through node and server crashes; durable tells keep most of raw JetStream's speed.";

    // 1. Throughput, on a server of its own, before any chaos.
    let throughput;
    try {
      throughput = await measureDurableThroughput(ctx, sizes.throughput, (f, label) => ctx.progress(0.3 * f, label));
    } catch (err) {
      return { name: "durable", ok: false, summary, metrics: [], error: `durable throughput: ${errorText(err)}` };
    }

    // 2. Chaos.
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "durable", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    ctx.progress(0.3, "starting node processes");
    let named = 0;
    const startOne = async (): Promise<ChildNode> => {
      const c = await startChildNode({ servers: server.url, namespace: NAMESPACE, name: `dur-${++named}`, heartbeatMs: HEARTBEAT_MS, durable: true });
      ctx.defer(() => c.stop());
      return c;
    };
    const children = await Promise.all(Array.from({ length: sizes.nodes }, startOne));
    ctx.log(`node processes: ${children.map((c) => `${c.id} (pid ${c.pid})`).join(", ")}; heartbeat ${HEARTBEAT_MS} ms, gone after ${3 * HEARTBEAT_MS} ms`);
    const client = await startNode({ servers: server.url, namespace: NAMESPACE, name: "dur-client", agents: [], failover: false });
    ctx.defer(() => client.close());
    const adoptions: { id: string; from: string; at: number }[] = [];
    ctx.defer(client.onEvent((e: TroupeEvent) => adoptions.push({ id: e.id, from: String(e.from), at: performance.now() }), { kind: "failover" }));

    const keys = Array.from({ length: sizes.ledgers }, (_, i) => `l${i}`);
    const refs = new Map<string, AgentRef<LedgerMsg>>();
    for (const [i, key] of keys.entries()) {
      await client.spawn(LEDGER_TYPE, { key, node: children[i % children.length]!.id });
      refs.set(key, client.ref<LedgerMsg>(LEDGER_TYPE, key));
    }

    const tl = new Timeline({ bucketMs: 250 });
    const load = new DurableLoad({
      refs,
      tellsPerSec: sizes.tellsPerSec,
      tellWindow: sizes.tellWindow,
      askLanes: sizes.askLanes,
      askTimeoutMs: ASK_TIMEOUT_MS,
      graceMs: HUNG_GRACE_MS,
      settleMs: SETTLE_MS,
      timeline: tl,
    });
    const plan = durableChaosPlan({ seed: ctx.seed, nodeKills: sizes.nodeKills, serverKills: sizes.serverKills, firstMs: sizes.firstKillMs, gapMs: sizes.gapMs, jitterMs: 1_000 });
    const totalMs = sizes.warmupMs + (plan.at(-1)?.atMs ?? 0) + 5_000 + sizes.tailMs;
    const t0 = performance.now();
    let phase = "warm-up";
    const ticker = setInterval(() => ctx.progress(0.3 + 0.6 * Math.min(1, (performance.now() - t0) / totalMs), phase), 250);
    ctx.defer(() => clearInterval(ticker));
    const r = rng(ctx.seed);
    const kills: KillRecord[] = [];

    load.start();
    let loadStopped = false;
    ctx.defer(() => (loadStopped ? undefined : load.stop()));
    await sleep(sizes.warmupMs, ctx.signal);
    tl.reset();
    const loadT0 = performance.now();
    for (const [i, strike] of plan.entries()) {
      await sleep(Math.max(0, strike.atMs - (performance.now() - loadT0)), ctx.signal);
      if (strike.kind === DurableKill.Node) {
        const alive = children.filter((c) => !c.exited);
        const victim = alive[r.int(0, alive.length - 1)]!;
        const placed = (await client.listAll()).agents.filter((a) => a.type === LEDGER_TYPE && a.node === victim.id).map((a) => a.key);
        const adoptedBefore = adoptions.length;
        phase = `${victim.id} killed`;
        tl.event(`${victim.id} killed (SIGKILL), ${placed.length} ledgers`);
        const startedAt = performance.now();
        ctx.log(`killing ${victim.id} at ${Math.round(startedAt - loadT0)} ms of the load; its ledgers: ${placed.join(", ")}`);
        await victim.kill("SIGKILL");
        const drained = await probeDrain(refs, placed, startedAt, DRAIN_LIMIT_MS);
        const ours = adoptions.slice(adoptedBefore).filter((a) => a.from === victim.id);
        const adoptedMs = ours.length === 0 ? NaN : maxOf(ours.map((a) => a.at)) - startedAt;
        const record: KillRecord = { kind: DurableKill.Node, label: victim.id, ledgers: placed.length, drainedMs: [...drained.values()], undrained: placed.length - drained.size, adoptedMs };
        kills.push(record);
        tl.event(record.undrained === 0 ? `${victim.id}'s mailboxes drained` : `${record.undrained} mailboxes not drained`);
        ctx.log(
          `#${i + 1} node ${victim.id} killed with ${placed.length} ledgers: last adopted after ${formatNumber(adoptedMs)} ms, mailboxes drained after ${formatNumber(worst(record.drainedMs))} ms (p50 ${formatNumber(median(record.drainedMs))})` +
            (record.undrained > 0 ? `; ${record.undrained} not within ${DRAIN_LIMIT_MS / 1000} s` : ""),
        );
        phase = "starting a node process again";
        const again = await startOne();
        children.push(again);
        tl.event(`${again.id} started`);
        ctx.log(`node process ${again.id} started (pid ${again.pid})`);
      } else {
        phase = "server killed";
        tl.event("server killed (SIGKILL)");
        const startedAt = performance.now();
        ctx.log(`killing the nats-server at ${Math.round(startedAt - loadT0)} ms of the load`);
        await server.kill();
        const probing = probeDrain(refs, keys, startedAt, DRAIN_LIMIT_MS);
        await sleep(SERVER_DOWN_MS);
        await server.restart();
        tl.event("server up");
        const drained = await probing;
        const record: KillRecord = { kind: DurableKill.Server, label: "nats-server", ledgers: keys.length, drainedMs: [...drained.values()], undrained: keys.length - drained.size, adoptedMs: NaN };
        kills.push(record);
        tl.event(record.undrained === 0 ? "every mailbox drained" : `${record.undrained} mailboxes not drained`);
        ctx.log(
          `#${i + 1} nats-server killed, restarted after ${SERVER_DOWN_MS} ms: every mailbox drained after ${formatNumber(worst(record.drainedMs))} ms (p50 ${formatNumber(median(record.drainedMs))})` +
            (record.undrained > 0 ? `; ${record.undrained} not within ${DRAIN_LIMIT_MS / 1000} s` : ""),
        );
      }
      phase = "load";
    }
    await sleep(sizes.tailMs, ctx.signal);

    phase = "settling the sends under way";
    await load.stop();
    loadStopped = true;
    tl.stop();
    phase = "reading the ledgers";
    const states = new Map<string, LedgerState | undefined>();
    for (const key of keys) states.set(key, await readLedger(refs.get(key)!));
    clearInterval(ticker);
    ctx.progress(1, "done");

    const check = checkLedgers(load.books, states);
    const nodeKills = kills.filter((k) => k.kind === DurableKill.Node);
    const serverKills = kills.filter((k) => k.kind === DurableKill.Server);
    const drainOf = (k: KillRecord): number => (k.undrained > 0 ? NaN : maxOf(k.drainedMs));
    // The goal per node kill: drained by its adoption + 1 s; without a failover event, by the lapse (3 heartbeats) + 1 s.
    const boundOf = (k: KillRecord): number => (Number.isNaN(k.adoptedMs) ? 3 * HEARTBEAT_MS : k.adoptedMs) + DRAIN_AFTER_ADOPTION_MS;
    const drainGoalMet = nodeKills.length > 0 && nodeKills.every((k) => drainOf(k) <= boundOf(k));
    const askRetries = [...load.askRetries.values()].reduce((a, b) => a + b, 0);
    const tellRetries = [...load.tellRetries.values()].reduce((a, b) => a + b, 0);
    ctx.log(
      `tells: ${load.tellsSent} sent, ${check.tellsAcked} acknowledged, sent again after ${formatCounts(load.tellRetries)}, ${load.tellsHung} hung, ${load.tellsGivenUp} given up; ` +
        `asks: ${load.asksSent} sent in ${load.askTries} tries, ${check.asksAnswered} answered, ${load.asksFromOutcome} from a stored outcome, retried after ${formatCounts(load.askRetries)}, ${load.asksHung} hung, ${load.asksFailed} failed, ${load.asksGivenUp} given up${load.givenUpExamples.length ? ` (${load.givenUpExamples.join(", ")})` : ""}, ${load.wrongAnswers} wrong answers`,
    );
    ctx.log(
      `ledgers: ${check.applied} increments applied; lost ${check.tellsLost} tells and ${check.asksLost} asks${check.lostExamples.length ? ` (${check.lostExamples.join(", ")})` : ""}, ${check.twice} applied twice, ${check.neverSent} never sent, ${check.appliedUnacknowledged} applied though never acknowledged, ${check.inconsistent} inconsistent, ${check.unreadable} unreadable`,
    );

    const zero = (name: string, value: number, unit: string): Metric => ({ name, unit, better: "lower", troupe: value, goal: "0", pass: value === 0 });
    const metrics: Metric[] = [
      { name: DurableFigure.TellsSent, unit: "tells", troupe: load.tellsSent },
      { name: DurableFigure.TellsAcked, unit: "tells", better: "higher", troupe: check.tellsAcked },
      { name: DurableFigure.TellRetries, unit: "tries", troupe: tellRetries },
      { name: DurableFigure.AsksSent, unit: "asks", troupe: load.asksSent },
      { name: DurableFigure.AsksAnswered, unit: "asks", better: "higher", troupe: check.asksAnswered },
      { name: DurableFigure.AskRetries, unit: "tries", troupe: askRetries },
      { name: DurableFigure.FromOutcome, unit: "asks", troupe: load.asksFromOutcome },
      { name: DurableFigure.Applied, unit: "increments", troupe: check.applied },
      zero(DurableFigure.Lost, check.tellsLost, "tells"),
      zero(DurableFigure.AsksLost, check.asksLost, "asks"),
      zero(DurableFigure.Twice, check.twice, "messages"),
      zero(DurableFigure.NeverSent, check.neverSent + load.wrongAnswers, "increments"),
      zero(DurableFigure.AsksHung, load.asksHung, "asks"),
      zero(DurableFigure.TellsHung, load.tellsHung, "tells"),
      zero(DurableFigure.GivenUp, load.tellsGivenUp + load.asksGivenUp, "sends"),
      zero(DurableFigure.Unreadable, check.unreadable + check.inconsistent, "ledgers"),
      { name: DurableFigure.DrainNode, unit: "ms", better: "lower", troupe: worst(nodeKills.map(drainOf)) },
      { name: DurableFigure.DrainServer, unit: "ms", better: "lower", troupe: worst(serverKills.map(drainOf)) },
      { name: DurableFigure.Adoption, unit: "ms", better: "lower", troupe: worst(nodeKills.map((k) => k.adoptedMs)) },
      {
        name: DurableFigure.DrainGoal,
        unit: "ms",
        better: "lower",
        troupe: worst(nodeKills.map((k) => drainOf(k) - boundOf(k) + DRAIN_AFTER_ADOPTION_MS)),
        goal: `≤ ${DRAIN_AFTER_ADOPTION_MS} ms after the last adoption`,
        pass: drainGoalMet,
      },
      compare({ name: DurableFigure.ThroughputOne, unit: "msg/s", better: "higher", troupe: median(throughput.one), baseline: median(throughput.raw), minRatio: DURABLE_THROUGHPUT_GOAL }),
      compare({ name: DurableFigure.ThroughputSpread, unit: "msg/s", better: "higher", troupe: median(throughput.spread), baseline: median(throughput.raw), minRatio: DURABLE_THROUGHPUT_GOAL }),
    ];
    const row = (label: string, xs: number[]) => ({ label, unit: "ms", ...percentiles(xs) });
    return {
      name: "durable",
      ok: true,
      summary,
      metrics,
      series: [{ title: `Durable increments acknowledged (${sizes.tellsPerSec} tells/s and ${sizes.askLanes} ask lanes) through node and server kills`, unit: "incs/s", points: tl.points(), events: tl.events() }],
      latency: [
        {
          title: "Kill → mailboxes drained again",
          rows: [
            row(`node SIGKILL → each of its ledgers drained (${nodeKills.reduce((n, k) => n + k.drainedMs.length, 0)} ledgers, ${nodeKills.length} kills)`, nodeKills.flatMap((k) => k.drainedMs)),
            row("node SIGKILL → all its ledgers drained (per kill)", nodeKills.map(drainOf).filter((x) => !Number.isNaN(x))),
            row("node SIGKILL → its last ledger adopted (per kill)", nodeKills.map((k) => k.adoptedMs).filter((x) => !Number.isNaN(x))),
            row(`server SIGKILL → each ledger drained (${serverKills.length} kills)`, serverKills.flatMap((k) => k.drainedMs)),
            row("server SIGKILL → every ledger drained (per kill)", serverKills.map(drainOf).filter((x) => !Number.isNaN(x))),
          ],
        },
      ],
      notes: [
        `${sizes.nodes} node processes (bench/child-node-main --durable, heartbeat ${HEARTBEAT_MS} ms: a node is gone ${3 * HEARTBEAT_MS} ms after its last beat) host ${sizes.ledgers} bench-ledger agents (mailbox: "durable", persisted), spread round-robin. This process sends ${sizes.tellsPerSec} durable tells/s (at most ${sizes.tellWindow} outstanding, each \`ref.tell(msg, { id })\` with an id of its own) and keeps ${sizes.askLanes} asks in flight (each with an idempotency key, ${ASK_TIMEOUT_MS} ms timeout).`,
        `Chaos (seed ${ctx.seed}): ${kills.map((k) => (k.kind === DurableKill.Node ? `node ${k.label} SIGKILLed with ${k.ledgers} ledgers (adopted after ${formatNumber(k.adoptedMs)} ms, drained after ${formatNumber(drainOf(k))} ms), then a node process started again` : `nats-server SIGKILLed and restarted ${SERVER_DOWN_MS} ms later on the same store (every mailbox drained after ${formatNumber(drainOf(k))} ms)`)).join("; ")}.`,
        `Each increment carries a number unique per ledger, and each ledger keeps a bitmap of the numbers it applied and a count of those it applied again, in its committed state. Lost = a tell acknowledged (its \`tell\` resolved: JetStream stored it) or an ask answered whose number is not in the bitmap: ${check.tellsLost} tells and ${check.asksLost} asks. Applied twice: ${check.twice}. ${check.appliedUnacknowledged} increments were applied though their sender never saw them acknowledged (stored before a failed or timed-out try); allowed.`,
        `A tell rejected with a typed error is not acknowledged; it is sent again with the same id until it is (${formatCounts(load.tellRetries)}). An ask that times out or fails is sent again with the same idempotency key (${formatCounts(load.askRetries)}); ${load.asksFromOutcome} retried asks were answered with the outcome stored for an earlier try (the answer echoes the try that was applied). A send that settles neither way within its timeout + ${HUNG_GRACE_MS / 1000} s is hung: ${load.asksHung} asks, ${load.tellsHung} tells.`,
        `Draining: at each kill, every ledger concerned (the killed node's, or all of them for the server) gets a probe, an ask stored behind everything sent before it; a probe that fails (the server is down) is sent again. Drained = its first answered probe. Goal: after a node kill, drained within the node-kill recovery (SIGKILL → the last failover event for its ledgers, seen by this process, measured per kill: heartbeat lapse of ${3 * HEARTBEAT_MS} ms + adoption) + ${DRAIN_AFTER_ADOPTION_MS / 1000} s; the figure is the worst drain time less that recovery, plus 1 s.`,
        ...throughput.notes,
      ],
    };
  },
};

/** A ledger's state, asked for behind everything sent to it; undefined when it does not answer. */
async function readLedger(ref: AgentRef<LedgerMsg>): Promise<LedgerState | undefined> {
  for (let i = 0; i < 5; i++) {
    try {
      return await ref.ask<LedgerState>({ op: "get" }, { timeoutMs: 15_000 });
    } catch {
      await sleep(500);
    }
  }
  return undefined;
}
