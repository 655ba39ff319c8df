// The `crash-storm` scenario: persisted counter agents under ask load (a fixed
// window of increments in flight) while a seeded chaos monkey makes random
// agents fail at a fixed rate, half by `node.kill(id, "chaos")` and half by a
// message their `receive` throws on. It shows that every ask gets an answer
// or a typed error (none hangs), that supervision restarts each failed agent
// (and how fast: restart latency), how much throughput the storm costs against
// the same load without failures, and that no acknowledged increment is lost.

import { defineAgent, startNode, type AgentRef, type TroupeEvent, type TroupeNode } from "../../actors/index.js";
import { AskLoad, checkCounts, errorName, formatErrors, sleep } from "../ask-load.js";
import { chaosPlan, ChaosKind, worstWindow, type ChaosStrike } from "../chaos-schedule.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, opsPerSecond, percentiles, type Percentiles } from "../stats.js";
import { rng } from "../random.js";
import { Timeline } from "../timeline.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const CrashStormFigure = {
  Sent: "asks sent",
  Answered: "asks answered",
  TypedErrors: "asks failed with a typed error",
  Hung: "asks hung",
  Strikes: "failures injected",
  Restarts: "restarts",
  MaxIntensity: "agents given up on (max intensity)",
  RestartP50: "restart latency p50 (failed → running)",
  RestartP99: "restart latency p99 (failed → running)",
  RecoveryP50: "chaos → first answer p50",
  RecoveryP99: "chaos → first answer p99",
  Throughput: "asks/s under the storm vs without failures",
  Lost: "acknowledged increments lost",
  Phantom: "increments applied though reported failed",
  Repeated: "acknowledged counts seen twice",
} as const;

/** Storm throughput should stay above this share of calm throughput. */
export const CRASH_STORM_THROUGHPUT_GOAL = 0.5;

interface Sizes {
  agents: number;
  window: number;
  rounds: number;
  warmupMs: number;
  calmMs: number;
  stormMs: number;
  ratePerSec: number;
}

const QUICK: Sizes = { agents: 50, window: 64, rounds: 2, warmupMs: 1_000, calmMs: 2_000, stormMs: 2_500, ratePerSec: 20 };
const FULL: Sizes = { agents: 50, window: 64, rounds: 4, warmupMs: 2_000, calmMs: 6_000, stormMs: 6_000, ratePerSec: 20 };

const TYPE = "bench-storm-counter";
const ASK_TIMEOUT_MS = 5_000;
const HUNG_GRACE_MS = 2_000;
/** The root supervisor's restart window; its intensity is set from the chaos plan. */
const ROOT_PERIOD_MS = 5_000;

type StormMsg = { op: "inc" } | { op: "get" } | { op: "fail" };

/** What `receive` throws on `{ op: "fail" }`. */
class ChaosFailure extends Error {
  override name = "ChaosFailure";
}

/** A persisted counter that can be told to fail: `inc` answers the new count, `get` the count. */
const stormCounter = defineAgent<{ count: number }, StormMsg, number>({
  type: TYPE,
  state: () => ({ count: 0 }),
  receive(msg, ctx) {
    switch (msg.op) {
      case "inc":
        return ++ctx.state.count;
      case "get":
        return ctx.state.count;
      case "fail":
        throw new ChaosFailure("told to fail by the chaos monkey");
    }
  },
});

/** Failed-to-running times from lifecycle events, restarts from child_restarted, give-ups from max_intensity. */
class RestartWatch {
  readonly restartMs: number[] = [];
  restarts = 0;
  maxIntensity = 0;
  #failedAt = new Map<string, number>();
  #off: (() => void)[] = [];

  constructor(node: TroupeNode, restartsTl: Timeline) {
    this.#off.push(
      node.onEvent(
        (e: TroupeEvent) => {
          const now = performance.now();
          if (e.to === "failed") this.#failedAt.set(e.id, now);
          else if (e.to === "running") {
            const at = this.#failedAt.get(e.id);
            if (at !== undefined) {
              this.restartMs.push(now - at);
              this.#failedAt.delete(e.id);
            }
          }
        },
        { kind: "lifecycle", type: TYPE },
      ),
      node.onEvent(
        () => {
          this.restarts++;
          restartsTl.record();
        },
        { kind: "child_restarted", type: TYPE },
      ),
      node.onEvent(() => this.maxIntensity++, { kind: "max_intensity", type: TYPE }),
    );
  }

  close(): void {
    for (const off of this.#off.splice(0)) off();
  }
}

/** Carries out a plan against the agents: kills on the host node, poison asks from the client. */
class ChaosMonkey {
  kills = 0;
  /** Kills that found the agent not running (already restarting). */
  skipped = 0;
  poisons = 0;
  /** How the poison asks were answered, by error name ("answered" if one was not an error). */
  readonly poisonOutcomes = new Map<string, number>();
  /** When each agent was last struck, for "chaos → first answer". */
  readonly struckAt = new Map<string, number>();
  #poisonAsks: Promise<void>[] = [];

  constructor(
    private readonly host: TroupeNode,
    private readonly refs: ReadonlyMap<string, AgentRef<StormMsg, number>>,
    private readonly keys: readonly string[],
  ) {}

  async run(plan: readonly ChaosStrike[], signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    for (const s of plan) {
      const wait = t0 + s.atMs - performance.now();
      if (wait > 0) await sleep(wait, signal);
      const key = this.keys[s.agent]!;
      const ref = this.refs.get(key)!;
      if (s.kind === ChaosKind.Kill) {
        try {
          await this.host.kill(ref.id, "chaos");
          this.kills++;
          this.struckAt.set(key, performance.now());
        } catch {
          this.skipped++;
        }
      } else {
        this.poisons++;
        this.struckAt.set(key, performance.now());
        this.#poisonAsks.push(
          ref.ask({ op: "fail" }, { timeoutMs: ASK_TIMEOUT_MS }).then(
            () => this.#outcome("answered"),
            (err: unknown) => this.#outcome(errorName(err)),
          ),
        );
      }
    }
  }

  /** Wait for the poison asks still in flight. */
  async settle(): Promise<void> {
    await Promise.all(this.#poisonAsks);
  }

  #outcome(name: string): void {
    this.poisonOutcomes.set(name, (this.poisonOutcomes.get(name) ?? 0) + 1);
  }
}

export const crashStormScenario: Scenario = {
  name: "crash-storm",
  title: "Crash storm: agents failing under load",
  description:
    "50 persisted counter agents take increments from 64 asks in flight while a seeded chaos monkey makes random agents fail 20 times a second (node.kill and messages that make receive throw). Counts asks answered, failed with typed errors and hung, restarts and restart latency, throughput under the storm against the same load without failures, and checks every counter against the increments it acknowledged.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary =
      "Under a storm of agent failures every ask is answered or gets a typed error, supervision brings each agent back within milliseconds, and no acknowledged increment is lost.";
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "crash-storm", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }

    // One plan per round, all from the run's seed; the root's intensity is set to twice the worst any agent gets.
    const plans = Array.from({ length: sizes.rounds }, (_, round) =>
      chaosPlan({ seed: ctx.seed * 1000 + round, ratePerSec: sizes.ratePerSec, durationMs: sizes.stormMs, agents: sizes.agents }),
    );
    const roundMs = sizes.calmMs + sizes.stormMs;
    const allStrikes = plans.flatMap((p, round) => p.map((s) => ({ ...s, atMs: s.atMs + round * roundMs + (stormFirst(round) ? 0 : sizes.calmMs) })));
    const worst = worstWindow(allStrikes, ROOT_PERIOD_MS);
    const intensity = Math.max(10, 2 * worst);

    const host = await startNode({
      servers: server.url,
      namespace: "storm",
      name: "storm-host",
      agents: [stormCounter],
      root: { intensity, periodMs: ROOT_PERIOD_MS },
    });
    ctx.defer(() => host.close());
    const client = await startNode({ servers: server.url, namespace: "storm", name: "storm-client", agents: [], failover: false });
    ctx.defer(() => client.close());

    const keys = Array.from({ length: sizes.agents }, (_, i) => `c${i}`);
    const refs = new Map<string, AgentRef<StormMsg, number>>();
    for (const key of keys) {
      await host.spawn(TYPE, { key });
      refs.set(key, client.ref<StormMsg, number>(TYPE, key));
    }
    ctx.log(`${sizes.agents} counters on storm-host; root supervisor: at most ${intensity} restarts per child in ${ROOT_PERIOD_MS} ms (the plan strikes one agent at most ${worst} times in that window)`);

    const tl = new Timeline({ bucketMs: 250 });
    const restartsTl = new Timeline({ bucketMs: 250 });
    const watch = new RestartWatch(client, restartsTl);
    ctx.defer(() => watch.close());
    const monkey = new ChaosMonkey(host, refs, keys);
    const recoveryMs: number[] = [];
    const load = new AskLoad({
      window: sizes.window,
      keys,
      ask: (key) => refs.get(key)!.ask({ op: "inc" }, { timeoutMs: ASK_TIMEOUT_MS }),
      timeoutMs: ASK_TIMEOUT_MS,
      graceMs: HUNG_GRACE_MS,
      random: rng(ctx.seed),
      timeline: tl,
      onAnswer: (key, sentAt, answeredAt) => {
        const struck = monkey.struckAt.get(key);
        if (struck !== undefined && sentAt >= struck) {
          recoveryMs.push(answeredAt - struck);
          monkey.struckAt.delete(key);
        }
      },
    });
    ctx.defer(() => load.stop());

    const totalMs = sizes.warmupMs + sizes.rounds * roundMs;
    const t0 = performance.now();
    let phase = "warm-up";
    const ticker = setInterval(() => ctx.progress(Math.min(0.95, (performance.now() - t0) / totalMs), phase), 250);
    ctx.defer(() => clearInterval(ticker));

    const calm: Span[] = [];
    const storm: Span[] = [];
    load.start();
    await sleep(sizes.warmupMs, ctx.signal);
    tl.reset();
    restartsTl.reset();
    const measure = async (into: Span[], ms: number, during?: () => Promise<void>): Promise<void> => {
      const a0 = load.answered;
      const s0 = performance.now();
      await Promise.all([sleep(ms, ctx.signal), during?.()]);
      into.push({ answered: load.answered - a0, ms: performance.now() - s0 });
    };
    // Rounds alternate which half comes first (calm, storm, storm, calm, ...), so drift hits both alike.
    for (let round = 0; round < sizes.rounds; round++) {
      const tag = sizes.rounds > 1 ? ` (round ${round + 1})` : "";
      const runCalm = async (): Promise<void> => {
        phase = `no failures${tag}`;
        tl.event(`no failures${tag}`);
        await measure(calm, sizes.calmMs);
      };
      const runStorm = async (): Promise<void> => {
        phase = `storm${tag}`;
        tl.event(`storm: ${sizes.ratePerSec} failures/s${tag}`);
        await measure(storm, sizes.stormMs, () => monkey.run(plans[round]!, ctx.signal));
      };
      if (stormFirst(round)) await runStorm().then(runCalm);
      else await runCalm().then(runStorm);
      ctx.log(`round ${round + 1}: ${formatNumber(rateOf(calm.slice(-1)))} asks/s without failures, ${formatNumber(rateOf(storm.slice(-1)))} asks/s in the storm`);
    }
    tl.event("end");
    phase = "settling";
    await load.stop();
    await monkey.settle();
    tl.stop();
    restartsTl.stop();
    clearInterval(ticker);
    const events = tl.events();

    // Let the last restarts finish, then read every counter.
    ctx.progress(0.96, "reading the counters");
    const running = await waitAllRunning(host, sizes.agents, ctx.signal);
    const finals = new Map<string, number | undefined>();
    for (const key of keys) finals.set(key, await readCount(refs.get(key)!));
    const listed = (await host.list()).filter((a) => a.type === TYPE);
    const listedRestarts = listed.reduce((n, a) => n + a.restarts, 0);
    await sleep(200, ctx.signal); // the last lifecycle and restart events arrive
    watch.close();
    ctx.progress(1, "done");

    const check = checkCounts(load.ledger, finals);
    const restart = percentiles(watch.restartMs);
    const recovery = percentiles(recoveryMs);
    const strikes = monkey.kills + monkey.poisons;
    const calmRate = rateOf(calm);
    const stormRate = rateOf(storm);
    ctx.log(`asks: ${load.sent} sent, ${load.answered} answered, errors: ${formatErrors(load.errors)}, hung: ${load.hung}`);
    ctx.log(`chaos: ${monkey.kills} kills (${monkey.skipped} more found the agent restarting), ${monkey.poisons} poison messages (answered: ${formatErrors(monkey.poisonOutcomes)})`);
    ctx.log(`restarts: ${watch.restarts} child_restarted events, ${listedRestarts} by node.list(); failed → running p50 ${fmtMs(restart.p50)} p99 ${fmtMs(restart.p99)}`);
    ctx.log(`counters: ${check.final} counted, ${check.acked} acknowledged, ${check.unknown} unknown; lost ${check.lost}, phantom ${check.phantom}, repeated ${check.repeated}, unreadable ${check.unreadable}`);

    const zero = (name: string, value: number, unit: string): Metric => ({ name, unit, better: "lower", troupe: value, goal: "0", pass: value === 0 });
    const metrics: Metric[] = [
      { name: CrashStormFigure.Sent, unit: "asks", troupe: load.sent },
      { name: CrashStormFigure.Answered, unit: "asks", better: "higher", troupe: load.answered },
      { name: CrashStormFigure.TypedErrors, unit: "asks", troupe: load.errorCount },
      zero(CrashStormFigure.Hung, load.hung, "asks"),
      { name: CrashStormFigure.Strikes, unit: "failures", troupe: strikes },
      { name: CrashStormFigure.Restarts, unit: "restarts", troupe: watch.restarts, goal: "> 0", pass: watch.restarts > 0 },
      zero(CrashStormFigure.MaxIntensity, watch.maxIntensity, "agents"),
      { name: CrashStormFigure.RestartP50, unit: "ms", better: "lower", troupe: restart.p50 },
      { name: CrashStormFigure.RestartP99, unit: "ms", better: "lower", troupe: restart.p99 },
      { name: CrashStormFigure.RecoveryP50, unit: "ms", better: "lower", troupe: recovery.p50 },
      { name: CrashStormFigure.RecoveryP99, unit: "ms", better: "lower", troupe: recovery.p99 },
      compare({
        name: CrashStormFigure.Throughput,
        unit: "asks/s",
        better: "higher",
        troupe: stormRate,
        baseline: calmRate,
        minRatio: CRASH_STORM_THROUGHPUT_GOAL,
      }),
      zero(CrashStormFigure.Lost, check.lost + check.unreadable, "increments"),
      zero(CrashStormFigure.Phantom, check.phantom, "increments"),
      zero(CrashStormFigure.Repeated, check.repeated, "answers"),
    ];
    const row = (label: string, p: Percentiles) => ({ label, unit: "ms", p50: p.p50, p90: p.p90, p99: p.p99, max: p.max });
    return {
      name: "crash-storm",
      ok: true,
      summary,
      metrics,
      series: [
        { title: "Increments answered, 64 in flight, without failures and in the storm", unit: "asks/s", points: tl.points(), events },
        { title: "Restarts by the root supervisor", unit: "restarts/s", points: restartsTl.points(), events },
      ],
      latency: [
        {
          title: "Restart latency",
          rows: [
            row(`failed → running, from lifecycle events (${restart.count} restarts)`, restart),
            row(`chaos → first answer to an ask sent after it (${recovery.count} failures)`, recovery),
          ],
        },
      ],
      notes: [
        `${sizes.agents} persisted counters on one node, driven from a second node in the same process with ${sizes.window} increments in flight to random counters; ${sizes.rounds} round${sizes.rounds === 1 ? "" : "s"} of ${sizes.calmMs / 1000} s without failures and ${sizes.stormMs / 1000} s of storm (alternating which comes first), after a ${sizes.warmupMs / 1000} s warm-up. Throughputs pool the rounds (answers over time); the ratio is storm over no failures (both Troupe, same run).`,
        `Chaos (seed ${ctx.seed}): ${sizes.ratePerSec} failures/s on seeded random agents, about half node.kill(id, "chaos") and half an ask { op: "fail" } whose receive throws. ${monkey.kills} kills (${monkey.skipped} more found their agent still restarting and were skipped) and ${monkey.poisons} poison asks, answered: ${formatErrors(monkey.poisonOutcomes)}.`,
        `Root supervisor: startNode({ root: { intensity: ${intensity}, periodMs: ${ROOT_PERIOD_MS} } }), per child, no backoff (the default); the plan strikes one agent at most ${worst} times within ${ROOT_PERIOD_MS} ms. ${watch.maxIntensity} agents were given up on.`,
        `Restarts: ${watch.restarts} child_restarted events; node.list() counts ${listedRestarts}. Restart latency is the time between an agent's lifecycle event to "failed" and its next one to "running", both taken when they arrive at the client node; "chaos → first answer" runs from the kill or the poison ask to the first answer to an increment sent after it.`,
        `Asks: ${load.sent} sent, ${load.answered} answered, errors ${formatErrors(load.errors)}, ${load.hung} hung (not settled within the ${ASK_TIMEOUT_MS} ms ask timeout + ${HUNG_GRACE_MS} ms).`,
        `Counters: the final counts add up to ${check.final}; ${check.acked} increments were acknowledged and ${check.unknown} are unknown (timed out). An answered increment is acknowledged; one that failed with a typed error (RemoteError, AgentNotFoundError, ...) was not applied; a timed-out one may have been. Per counter, acknowledged ≤ final ≤ acknowledged + unknown: ${check.lost} lost, ${check.phantom} applied though reported failed, ${check.repeated} counts answered twice${check.unreadable > 0 ? `, ${check.unreadable} counters unreadable` : ""}. ${running ? "All agents were running at the end." : "Not every agent was running at the end."}`,
      ],
    };
  },
};

/** Odd rounds run the storm before the calm half. */
function stormFirst(round: number): boolean {
  return round % 2 === 1;
}

/** Answers counted over one phase. */
interface Span {
  answered: number;
  ms: number;
}

/** Answers per second over every span. */
function rateOf(spans: readonly Span[]): number {
  return opsPerSecond(
    spans.reduce((n, s) => n + s.answered, 0),
    spans.reduce((n, s) => n + s.ms, 0),
  );
}

function fmtMs(ms: number): string {
  return `${formatNumber(ms)} ms`;
}

/** Waits until the host runs every agent (the last restarts done); false after 10 s. */
async function waitAllRunning(host: TroupeNode, agents: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const list = (await host.list()).filter((a) => a.type === TYPE);
    if (list.length === agents && list.every((a) => a.state === "running")) return true;
    await sleep(50, signal);
  }
  return false;
}

/** The count of a counter, trying a few times; undefined when it does not answer. */
async function readCount(ref: AgentRef<StormMsg, number>): Promise<number | undefined> {
  for (let i = 0; i < 5; i++) {
    try {
      return await ref.ask({ op: "get" }, { timeoutMs: ASK_TIMEOUT_MS });
    } catch {
      await sleep(100);
    }
  }
  return undefined;
}
