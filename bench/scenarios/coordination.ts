// The `coordination` scenario: what topics, pools and durable timers cost and
// keep, each against its baseline in the same run.
//
// 1. Pools: 16 workers under a skewed open-loop load (a few messages 50x
//    slower than the rest), the same message sequence through a round-robin
//    pool and a least-loaded pool: p50/p99 completion time, per-worker counts.
//    Goal: least-loaded p99 at most 0.5x round robin's.
// 2. Topic fan-out: 1,000 subscriber agents on one node against raw nats.js
//    with 1,000 subscriptions on one connection, the same messages published.
//    Goal: Troupe at least 0.8x raw (deliveries per second).
// 3. Timers: 10,000 timers due within one second (1,000 agents x 10): firing
//    delay p50/p99 (goal p99 < 50 ms), fired twice (0), never fired (0); then
//    the same with a node process SIGKILLed while they fire, and with the
//    nats-server SIGKILLed and restarted while they fire (0 twice, 0 lost,
//    counted from the persisted state).

import { measurePoolRouting, type PoolBenchResult } from "../coordination/pool.js";
import { measureTopicFanout, type FanoutFigures } from "../coordination/fanout.js";
import { timersBench, timersKillBench, timersServerRestartBench, TIMERS_GOAL_P99_MS, type TimersBenchResult } from "../coordination/timers.js";
import { loadAverageNow } from "../environment.js";
import { compare, errorText, type LatencyRow, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const CoordinationFigure = {
  PoolP99: "pool p99 completion, least loaded vs round robin (same messages)",
  PoolP50: "pool p50 completion, least loaded vs round robin",
  PoolFailed: "pool asks that failed",
  Fanout: "topic fan-out to 1,000 subscribers vs raw NATS (callbacks only count)",
  FanoutDecoding: "topic fan-out vs raw NATS whose callbacks decode each message",
  TimerP50: "timer firing delay p50",
  TimerP99: "timer firing delay p99",
  TimerTwice: "timers fired more than once",
  TimerLost: "timers never fired",
  KillTwice: "node SIGKILL: timers applied more than once",
  KillLost: "node SIGKILL: timers never applied",
  RestartTwice: "server restart: timers applied more than once",
  RestartLost: "server restart: timers never applied",
} as const;

/** Least-loaded p99 over round robin's, at most. */
export const POOL_P99_RATIO_GOAL = 0.5;
/** Topic fan-out over raw NATS, at least. */
export const FANOUT_RATIO_GOAL = 0.8;

interface Sizes {
  poolMessages: number;
  fanoutSubscribers: number;
  fanoutMessages: number;
  fanoutRounds: number;
  timerAgents: number;
  timersPerAgent: number;
  /** Timers of the kill and server-restart runs (agents x 10). */
  chaosAgents: number;
}

const FULL: Sizes = { poolMessages: 6000, fanoutSubscribers: 1000, fanoutMessages: 200, fanoutRounds: 5, timerAgents: 1000, timersPerAgent: 10, chaosAgents: 1000 };
const QUICK: Sizes = { poolMessages: 1500, fanoutSubscribers: 1000, fanoutMessages: 50, fanoutRounds: 3, timerAgents: 100, timersPerAgent: 10, chaosAgents: 100 };

export const coordinationScenario: Scenario = {
  name: "coordination",
  title: "Coordination: pool routing, topic fan-out, durable timers",
  description:
    "A pool of 16 workers under a skewed open-loop load (1 message in 200 is 50x slower), round robin against least loaded on the same message sequence; topic fan-out from one publisher to 1,000 subscriber agents against raw nats.js with 1,000 subscriptions; 10,000 timers due within one second (firing delay, fired twice, never fired), then again with a node process SIGKILLed and with the nats-server restarted while they fire.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "Least-loaded routing against round robin under skew, topic fan-out against raw NATS, and durable timers' firing delay and exactly-once firing across a node SIGKILL and a server restart.";
    const loadAtStart = loadAverageNow();
    try {
      ctx.progress(0, "pool: round robin, then least loaded");
      const poolServer = await ctx.startServer();
      const pool = await measurePoolRouting({ servers: poolServer.url, messages: sizes.poolMessages, seed: ctx.seed });
      ctx.log(`pool: round robin p50 ${pool.roundRobin.p50} ms p99 ${pool.roundRobin.p99} ms; least loaded p50 ${pool.leastLoaded.p50} ms p99 ${pool.leastLoaded.p99} ms (${pool.params.slowMessages} slow messages)`);

      ctx.progress(0.3, "topic fan-out");
      const fanServer = await ctx.startServer();
      const fanout = await measureTopicFanout({ servers: fanServer.url, subscribers: sizes.fanoutSubscribers, messages: sizes.fanoutMessages, rounds: sizes.fanoutRounds, rawDecodes: false });
      const fanoutDecoding = await measureTopicFanout({ servers: fanServer.url, subscribers: sizes.fanoutSubscribers, messages: sizes.fanoutMessages, rounds: sizes.fanoutRounds, rawDecodes: true });
      ctx.log(`fan-out: Troupe ${fmt(fanout.troupeDeliveriesPerSec)} deliveries/s, raw ${fmt(fanout.rawDeliveriesPerSec)} (count only), ${fmt(fanoutDecoding.rawDeliveriesPerSec)} (decoding)`);

      ctx.progress(0.5, "timers");
      const timerServer = await ctx.startServer();
      const timers = await timersBench({ servers: timerServer.url, agents: sizes.timerAgents, perAgent: sizes.timersPerAgent });
      ctx.log(`timers: ${timers.timers} on ${timers.nodes} nodes, delay p50 ${timers.delay.p50.toFixed(1)} ms p99 ${timers.delay.p99.toFixed(1)} ms, twice ${timers.firedTwice}, never ${timers.notFired}`);

      ctx.progress(0.65, "timers with a node SIGKILLed");
      const killServer = await ctx.startServer();
      const kill = await timersKillBench({ servers: killServer.url, agents: sizes.chaosAgents, perAgent: sizes.timersPerAgent });
      ctx.log(`timers, node ${kill.killed} SIGKILLed: ${kill.timers} timers, applied twice ${kill.firedTwiceInState}, never applied ${kill.notFired}, delay p99 ${kill.delay.p99.toFixed(0)} ms`);

      ctx.progress(0.85, "timers with the server restarted");
      const restartServer = await ctx.startServer();
      const restart = await timersServerRestartBench({ servers: restartServer.url, server: restartServer, agents: sizes.chaosAgents, perAgent: sizes.timersPerAgent });
      ctx.log(`timers, server restarted: ${restart.timers} timers, applied twice ${restart.firedTwiceInState}, never applied ${restart.notFired}, delay p99 ${restart.delay.p99.toFixed(0)} ms`);
      ctx.progress(1, "done");

      return {
        name: "coordination",
        ok: true,
        summary,
        metrics: [...poolMetrics(pool), ...fanoutMetrics(fanout, fanoutDecoding), ...timerMetrics(timers, kill, restart)],
        latency: [
          {
            title: `Pool of ${pool.params.workers} workers, ${pool.params.messages} messages each way, completion time (send to reply)`,
            rows: [row("round robin", pool.roundRobin), row("least loaded", pool.leastLoaded)],
          },
          {
            title: `Timer firing delay (receive time − due time)`,
            rows: [
              { label: `${timers.timers} timers, nothing killed`, unit: "ms", ...timers.delay },
              { label: `${kill.timers} timers, a node SIGKILLed (committed firings)`, unit: "ms", ...kill.delay },
              { label: `${restart.timers} timers, the server restarted (committed firings)`, unit: "ms", ...restart.delay },
            ],
          },
        ],
        notes: [
          `Pool: ${pool.params.workers} workers whose receive waits ${pool.params.fastMs} ms, or ${pool.params.fastMs * pool.params.slowFactor} ms for a slow message (${pool.params.slowMessages} of ${pool.params.messages}, about 1 in ${pool.params.slowEvery}, drawn from the seed); messages sent open loop at ${pool.params.ratePerSec.toFixed(0)}/s (${Math.round(pool.params.utilisation * 100)}% of the pool's capacity), the same sequence for both policies, one node hosting both pools. Messages per worker, round robin: ${counts(pool.roundRobin.perWorker)}; least loaded: ${counts(pool.leastLoaded.perWorker)}. The sender ran late against its schedule by at most ${Math.max(pool.roundRobin.sendLagP99, pool.leastLoaded.sendLagP99)} ms (p99).`,
          `Fan-out: ${fanout.subscribers} subscriber agents of one type on one node (one NATS subscription for the pattern, each message decoded once and put in each mailbox), a client publishing ${fanout.messages} messages a round, timed until every agent handled every message; raw: ${fanout.subscribers} subscriptions to the subject on one connection, the same messages published from another. A warm-up round, then ${fanout.rounds} rounds each way alternating; the figure is the median of the rounds' ratios. Round times (ms), Troupe: ${fanout.troupeMs.map((x) => x.toFixed(0)).join(", ")}; raw: ${fanout.rawMs.map((x) => x.toFixed(0)).join(", ")}. The raw side receives every message once per subscription over the socket; Troupe's node receives it once.`,
          `Timers: ${timers.agents} agents x ${timers.timers / timers.agents} timers, due evenly over 1 s starting 2 s after scheduling, on ${timers.nodes} nodes in the benchmark process; each firing is a message through the agent's mailbox and a commit of its state (the timer leaves the state record in the same write). Scheduling took ${timers.armMs} ms. SIGKILL: ${kill.nodes} node processes, ${kill.killed} killed a third of the way through the span; its agents are adopted by the others and their timers fire there; counted from the persisted state (each agent records its firings in its state). Server restart: the nats-server SIGKILLed a third of the way through and started again ${restart.downMs} ms later.`,
          `Load average at start ${loadAtStart}, at end ${loadAverageNow()} (the machine is shared).`,
        ],
      };
    } catch (err) {
      return { name: "coordination", ok: false, summary, metrics: [], error: errorText(err) };
    }
  },
};

function poolMetrics(pool: PoolBenchResult): Metric[] {
  const p99 = compare({ name: CoordinationFigure.PoolP99, unit: "ms", better: "lower", troupe: pool.leastLoaded.p99, baseline: pool.roundRobin.p99 });
  // The goal is on least loaded's p99 as a fraction of round robin's: ratio (baseline / troupe) at least 1 / 0.5.
  p99.goal = `least loaded ≤ ${POOL_P99_RATIO_GOAL}x round robin`;
  p99.pass = pool.p99Ratio <= POOL_P99_RATIO_GOAL;
  const failed = pool.roundRobin.failed + pool.leastLoaded.failed;
  return [
    p99,
    compare({ name: CoordinationFigure.PoolP50, unit: "ms", better: "lower", troupe: pool.leastLoaded.p50, baseline: pool.roundRobin.p50 }),
    { name: CoordinationFigure.PoolFailed, unit: "asks", better: "lower", troupe: failed, goal: "0", pass: failed === 0 },
  ];
}

function fanoutMetrics(countOnly: FanoutFigures, decoding: FanoutFigures): Metric[] {
  return [
    compare({ name: CoordinationFigure.Fanout, unit: "deliveries/s", better: "higher", troupe: countOnly.troupeDeliveriesPerSec, baseline: countOnly.rawDeliveriesPerSec, minRatio: FANOUT_RATIO_GOAL }),
    compare({ name: CoordinationFigure.FanoutDecoding, unit: "deliveries/s", better: "higher", troupe: decoding.troupeDeliveriesPerSec, baseline: decoding.rawDeliveriesPerSec }),
  ];
}

function timerMetrics(t: TimersBenchResult, kill: TimersBenchResult, restart: TimersBenchResult): Metric[] {
  const zero = (name: string, value: number): Metric => ({ name, unit: "timers", better: "lower", troupe: value, goal: "0", pass: value === 0 });
  return [
    { name: CoordinationFigure.TimerP50, unit: "ms", better: "lower", troupe: t.delay.p50 },
    { name: CoordinationFigure.TimerP99, unit: "ms", better: "lower", troupe: t.delay.p99, goal: `< ${TIMERS_GOAL_P99_MS} ms`, pass: t.delay.p99 < TIMERS_GOAL_P99_MS },
    zero(CoordinationFigure.TimerTwice, Math.max(t.firedTwice, t.firedTwiceInState)),
    zero(CoordinationFigure.TimerLost, t.notFired),
    zero(CoordinationFigure.KillTwice, kill.firedTwiceInState),
    zero(CoordinationFigure.KillLost, kill.notFired),
    zero(CoordinationFigure.RestartTwice, restart.firedTwiceInState),
    zero(CoordinationFigure.RestartLost, restart.notFired),
  ];
}

function row(label: string, f: PoolBenchResult["roundRobin"]): LatencyRow {
  return { label, unit: "ms", p50: f.p50, p90: f.p90, p99: f.p99, max: f.max };
}

function counts(perWorker: Record<string, number>): string {
  return Object.values(perWorker).join(" ");
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
