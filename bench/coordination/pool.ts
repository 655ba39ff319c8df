// Pool routing under a skewed load: 16 workers, most messages fast and a few
// 50x slower, sent open loop (at fixed times, whatever came back) at a steady
// fraction of the pool's capacity. The same message sequence goes through a
// round-robin pool and a least-loaded pool in one run; each reports p50/p99
// completion time (send to reply) and how many messages each worker took.
// Round robin keeps queueing messages behind a worker stuck on a slow one;
// least loaded sees that worker busy and sends elsewhere. Goal: least-loaded
// p99 at most 0.5x round robin's.
//
// Run alone: `npx tsx bench/coordination/pool.ts` (starts its own nats-server).

import { pathToFileURL } from "node:url";
import { defineAgent, startNode } from "../../actors/index.js";
import { startNatsServer } from "../../runtime/testing/nats-server.js";
import { rng } from "../random.js";
import { percentiles } from "../stats.js";

export interface PoolBenchOptions {
  /** The server to run on. */
  servers: string;
  /** Workers in each pool. Default 16. */
  workers?: number;
  /** Messages per policy. Default 6000. */
  messages?: number;
  /** A fast message's service time (ms). Default 10. */
  fastMs?: number;
  /** How much slower a slow message is. Default 50. */
  slowFactor?: number;
  /** One message in this many is slow (on average, seeded). Default 200. */
  slowEvery?: number;
  /** Arrival rate as a fraction of the pool's capacity. Default 0.6. */
  utilisation?: number;
  seed?: number;
}

export interface PolicyFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Messages each worker handled, by member key. */
  perWorker: Record<string, number>;
  /** Asks that failed (should be 0). */
  failed: number;
  /** How late the sender was against the schedule, p99 (ms): open loop holds only if this stays small. */
  sendLagP99: number;
}

export interface PoolBenchResult {
  params: Required<Omit<PoolBenchOptions, "servers">> & { ratePerSec: number; meanServiceMs: number; slowMessages: number };
  roundRobin: PolicyFigures;
  leastLoaded: PolicyFigures;
  /** leastLoaded.p99 / roundRobin.p99: the goal is at most 0.5. */
  p99Ratio: number;
}

const TYPE = "benchworker";

const benchWorker = defineAgent({
  type: TYPE,
  persist: false,
  state: () => ({}),
  // The work is waiting (a model call, a slow API): a real timer, in the agent's own code.
  receive: (ms: number, ctx) => new Promise<string>((resolve) => setTimeout(() => resolve(ctx.key), ms)),
});

/** Round robin, then least loaded, over the same message sequence, on one node hosting both pools. */
export async function measurePoolRouting(options: PoolBenchOptions): Promise<PoolBenchResult> {
  const workers = options.workers ?? 16;
  const messages = options.messages ?? 6000;
  const fastMs = options.fastMs ?? 10;
  const slowFactor = options.slowFactor ?? 50;
  const slowEvery = options.slowEvery ?? 200;
  const utilisation = options.utilisation ?? 0.6;
  const seed = options.seed ?? 16;
  const random = rng(seed);
  const sequence = Array.from({ length: messages }, () => (random.next() < 1 / slowEvery ? fastMs * slowFactor : fastMs));
  const meanServiceMs = sequence.reduce((a, b) => a + b, 0) / messages;
  const ratePerSec = (utilisation * workers * 1000) / meanServiceMs;
  const node = await startNode({ servers: options.servers, namespace: "benchpool", name: "benchpool", agents: [benchWorker], failover: false });
  try {
    const run = async (policy: "round_robin" | "least_loaded", name: string): Promise<PolicyFigures> => {
      const pool = node.pool<number, string>(TYPE, { policy, name, min: workers });
      // First use brings every member up; a short warm-up of fast messages, not counted.
      await Promise.all(Array.from({ length: workers * 4 }, () => pool.ask(1)));
      return openLoop(sequence, ratePerSec, (ms) => pool.ask(ms, { timeoutMs: 60_000 }));
    };
    const roundRobin = await run("round_robin", "rr");
    const leastLoaded = await run("least_loaded", "ll");
    return {
      params: { workers, messages, fastMs, slowFactor, slowEvery, utilisation, seed, ratePerSec, meanServiceMs, slowMessages: sequence.filter((ms) => ms > fastMs).length },
      roundRobin,
      leastLoaded,
      p99Ratio: leastLoaded.p99 / roundRobin.p99,
    };
  } finally {
    await node.close();
  }
}

/** Send `sequence[i]` at `i / rate` seconds after the start, never waiting for answers; time each to its reply. */
async function openLoop(sequence: readonly number[], ratePerSec: number, send: (ms: number) => Promise<string>): Promise<PolicyFigures> {
  const times: number[] = [];
  const lags: number[] = [];
  const perWorker: Record<string, number> = {};
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const gapMs = 1000 / ratePerSec;
  for (let i = 0; i < sequence.length; i++) {
    const due = start + i * gapMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    lags.push(Math.max(0, sentAt - due));
    pending.push(
      send(sequence[i]!).then(
        (key) => {
          times.push(performance.now() - sentAt);
          perWorker[key] = (perWorker[key] ?? 0) + 1;
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const p = percentiles(times);
  const sortedKeys = Object.keys(perWorker).sort((a, b) => Number(a.slice(a.lastIndexOf("-") + 1)) - Number(b.slice(b.lastIndexOf("-") + 1)));
  return {
    p50: round(p.p50),
    p90: round(p.p90),
    p99: round(p.p99),
    max: round(p.max),
    perWorker: Object.fromEntries(sortedKeys.map((k) => [k, perWorker[k]!])),
    failed,
    sendLagP99: round(percentiles(lags).p99),
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startNatsServer();
  try {
    const result = await measurePoolRouting({ servers: server.url, seed: Number(process.env.SEED ?? 16) });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await server.dispose();
  }
}
