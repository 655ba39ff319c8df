// Durable tell throughput, beside raw nats.js doing the same in the same run
// and the same process shape: the receiver in a process of its own, this
// process only sending. Troupe: durable tells (`await ref.tell`, resolved on
// the PubAck), 256 outstanding, to one ledger and spread over 64, hosted by a
// node process. Raw: `js.publish` with 256 acks outstanding into a stream,
// read by a durable pull consumer in a process of its own that counts and
// acks each message. Both are timed from the first send to the receiver
// having counted all N. Every message is the same 128-byte MessagePack map.

import { encode } from "@msgpack/msgpack";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { MailboxFullError, startNode, type AgentRef } from "../../actors/index.js";
import { sleep } from "../ask-load.js";
import { RAW_CONNECTION_OPTIONS, windowed } from "../baselines/raw-nats.js";
import { startChildNode } from "../child-node.js";
import { payload } from "../payload.js";
import { rng } from "../random.js";
import { startRawJsConsumer } from "../responders/responder-processes.js";
import type { ScenarioContext } from "../scenario.js";
import { formatNumber, median, opsPerSecond } from "../stats.js";
import { LEDGER_TYPE, type LedgerMsg } from "./ledger-agent.js";

/** Sends outstanding at once, on both sides. */
export const DURABLE_WINDOW = 256;
/** Ledgers in the spread-out variant. */
export const SPREAD_AGENTS = 64;

export interface DurableThroughputSizes {
  rounds: number;
  /** Messages per measurement. */
  messages: number;
  /** Messages per variant before the first round. */
  warmup: number;
}

/** Per variant, the rate of each round (msg/s), and what was refused meanwhile. */
export interface DurableThroughput {
  raw: number[];
  one: number[];
  spread: number[];
  /** Tells a full mailbox refused (MailboxFullError) and that were sent again. */
  refusedFull: number;
  notes: string[];
}

const NAMESPACE = "durthru";
const RAW_STREAM = "BENCH_RAW_JS";
const TIMEOUT_MS = 120_000;

type Shuffle = <T>(xs: readonly T[]) => T[];

/**
 * Measure the three variants `sizes.rounds` times, in a seeded order per
 * round, on a server of their own.
 */
export async function measureDurableThroughput(ctx: ScenarioContext, sizes: DurableThroughputSizes, onProgress: (f: number, label: string) => void): Promise<DurableThroughput> {
  const random = rng(ctx.seed ^ 0x5eed);
  const shuffle: Shuffle = (xs) => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const server = await ctx.startServer();
  const tag = random.int(0, 2 ** 31).toString(36);
  const prefix = `bench.rawjs.${tag}`;
  const subject = `${prefix}.in`;

  // The raw stream, as the Troupe mailbox stream is stored: file, limits.
  const rawNc = await connect({ servers: server.url, name: "troupe-bench-raw-js-publisher", ...RAW_CONNECTION_OPTIONS });
  ctx.defer(() => rawNc.close());
  const jsm = await jetstreamManager(rawNc);
  await jsm.streams.add({ name: RAW_STREAM, subjects: [subject], storage: StorageType.File, retention: RetentionPolicy.Limits });
  const js = jetstream(rawNc);

  const [host, consumer] = await Promise.all([
    startChildNode({ servers: server.url, namespace: NAMESPACE, name: "durthru-host", heartbeatMs: 1_000, durable: true }),
    startRawJsConsumer({ servers: server.url, stream: RAW_STREAM, subject, prefix }),
  ]);
  ctx.defer(() => host.stop());
  ctx.defer(() => consumer.stop());
  ctx.log(`durable throughput: Troupe node process pid ${host.pid} hosting ${SPREAD_AGENTS} ledgers, raw JetStream consumer pid ${consumer.pid}`);

  const client = await startNode({ servers: server.url, namespace: NAMESPACE, name: "durthru-client", agents: [], failover: false });
  ctx.defer(() => client.close());
  const refs: AgentRef<LedgerMsg | ReturnType<typeof payload>, number>[] = [];
  for (let i = 0; i < SPREAD_AGENTS; i++) {
    await client.spawn(LEDGER_TYPE, { key: `d${i}`, node: host.id });
    refs.push(client.ref(LEDGER_TYPE, `d${i}`));
  }
  const expected = refs.map(() => 0);
  let rawCounted = 0;
  let refusedFull = 0;

  /** Raw: publish `n`, 256 acks outstanding; done when the consumer process has counted them all. */
  const raw = async (n: number): Promise<number> => {
    rawCounted += n;
    const reached = rawNc.request(`${prefix}.expect`, encode({ count: rawCounted }), { timeout: TIMEOUT_MS });
    await rawNc.flush(); // the expectation is registered before the first send
    const t0 = performance.now();
    await windowed(n, DURABLE_WINDOW, async (i) => {
      await js.publish(subject, encode(payload("add", i)));
    });
    await reached;
    return opsPerSecond(n, performance.now() - t0);
  };

  /** Troupe: tell `n` to `agents` ledgers, round robin, 256 outstanding; done when each ledger answers a probe stored behind them with its full count. */
  const troupe = async (n: number, agents: number): Promise<number> => {
    const t0 = performance.now();
    await windowed(n, DURABLE_WINDOW, async (i) => {
      const a = i % agents;
      for (;;) {
        try {
          await refs[a]!.tell(payload("add", i));
          break;
        } catch (err) {
          // The ledger has 10,000 messages waiting: the stream's back-pressure. Send it again shortly.
          if (!(err instanceof MailboxFullError)) throw err;
          refusedFull++;
          await sleep(5, ctx.signal);
        }
      }
    });
    for (let a = 0; a < agents; a++) expected[a]! += Math.floor(n / agents) + (a < n % agents ? 1 : 0);
    const counts = await Promise.all(refs.slice(0, agents).map((ref) => ref.ask<number>({ op: "probe" }, { timeoutMs: TIMEOUT_MS })));
    const ms = performance.now() - t0;
    counts.forEach((c, a) => {
      if (c !== expected[a]) throw new Error(`ledger d${a} counted ${c} tells, expected ${expected[a]}`);
    });
    return opsPerSecond(n, ms);
  };

  const out: DurableThroughput = { raw: [], one: [], spread: [], refusedFull: 0, notes: [] };
  const variants = [
    ["raw", "raw js.publish + pull consumer", () => raw(sizes.messages)],
    ["one", "durable tells to 1 agent", () => troupe(sizes.messages, 1)],
    ["spread", `durable tells to ${SPREAD_AGENTS} agents`, () => troupe(sizes.messages, SPREAD_AGENTS)],
  ] as const;
  const steps = 1 + sizes.rounds * variants.length;
  let step = 0;
  onProgress(0, "durable throughput: warm-up");
  await raw(sizes.warmup);
  await troupe(sizes.warmup, 1);
  await troupe(sizes.warmup, SPREAD_AGENTS);
  for (let round = 0; round < sizes.rounds; round++) {
    for (const [key, label, run] of shuffle(variants)) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      onProgress(++step / steps, `durable throughput r${round + 1}: ${label}`);
      out[key].push(await run());
    }
    ctx.log(
      `durable throughput r${round + 1}: raw ${formatNumber(out.raw.at(-1))} msg/s, 1 agent ${formatNumber(out.one.at(-1))} msg/s, ${SPREAD_AGENTS} agents ${formatNumber(out.spread.at(-1))} msg/s`,
    );
  }
  out.refusedFull = refusedFull;
  out.notes.push(
    `Durable throughput: ${sizes.rounds} round${sizes.rounds === 1 ? "" : "s"} of ${formatNumber(sizes.messages)} 128-byte messages per variant after ${formatNumber(sizes.warmup)} each to warm up, in a seeded order per round; medians: raw ${formatNumber(median(out.raw))} msg/s, 1 agent ${formatNumber(median(out.one))} msg/s, ${SPREAD_AGENTS} agents ${formatNumber(median(out.spread))} msg/s. ` +
      `Both sides keep ${DURABLE_WINDOW} sends outstanding, each awaited for its PubAck, from this process, to a receiver in a process of its own on the same nats-server: a Troupe node hosting the ledgers (each tell stored under a Nats-Msg-Id, read by the ledger's ordered consumer, applied, committed to the state bucket with its place in the mailbox, then purged), and a raw nats.js process with a durable pull consumer (consume() defaults) that decodes, counts and acks each message (plain js.publish, no message id). ` +
      `The clock stops when the receiver has them all: for raw, when the consumer process answers a request it held until its count reached N; for Troupe, when each ledger answers an ask stored behind the tells with its full count.` +
      (refusedFull > 0 ? ` ${formatNumber(refusedFull)} tells were refused by a full mailbox (10,000 waiting) and sent again.` : ""),
  );
  return out;
}
