// Topic fan-out: 1,000 subscriber agents of one type on one node, a client
// publishing N messages on their topic, timed from the first publish until
// every agent handled every message (1,000 x N deliveries). The baseline, in
// the same run and on the same server: raw nats.js with 1,000 subscriptions
// to one subject on one connection, receiving the same N messages from
// another connection, each callback decoding the message (MessagePack) and
// counting it, as each agent's receive counts its message. A warm-up round,
// then `rounds` rounds of each, alternating; the figure is the median.
//
// Run on its own: `npx tsx bench/coordination/fanout.ts [subscribers] [messages] [rounds]`
// (it starts a throwaway nats-server; RAW_DECODES=0 makes the raw callbacks only count).

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { connectClient } from "../../runtime/client.js";
import { decodeValue, encodeValue } from "../../runtime/codec.js";
import { defineAgent } from "../../runtime/define-agent.js";
import { startNode } from "../../runtime/node.js";

/** What one run measured. */
export interface FanoutFigures {
  subscribers: number;
  messages: number;
  rounds: number;
  rawDecodes: boolean;
  /** Deliveries per second (subscribers x messages / time), median over the rounds. */
  troupeDeliveriesPerSec: number;
  rawDeliveriesPerSec: number;
  /** Published messages per second (messages / time), median over the rounds. */
  troupeMsgsPerSec: number;
  rawMsgsPerSec: number;
  /** Median of each round's troupe/raw ratio (of times: raw ms / troupe ms). */
  ratio: number;
  /** Each round's milliseconds. */
  troupeMs: number[];
  rawMs: number[];
}

export interface FanoutOptions {
  servers: string;
  subscribers?: number;
  messages?: number;
  rounds?: number;
  /** Namespace for the agents; a fresh one by default. */
  namespace?: string;
  /** Each raw callback decodes its message (default true, as each agent gets its message decoded); false: it only counts. */
  rawDecodes?: boolean;
}

const PAYLOAD = { order: "o-123456", amount: 42.5, currency: "EUR", lines: [1, 2, 3] };

/** Measure topic fan-out against raw NATS on `servers`. */
export async function measureTopicFanout(options: FanoutOptions): Promise<FanoutFigures> {
  const subscribers = options.subscribers ?? 1000;
  const messages = options.messages ?? 200;
  const rounds = options.rounds ?? 5;
  const namespace = options.namespace ?? `fanout${process.pid}`;
  let handled = 0;
  let target = 0;
  let done: (() => void) | undefined;
  const subscriber = defineAgent({
    type: "fan",
    persist: false,
    subscribe: ["bench.fanout"],
    receive(msg: { i: number }) {
      if (++handled === target) done?.();
      return msg.i;
    },
  });
  const node = await startNode({ servers: options.servers, namespace, name: "fanout", agents: [subscriber], failover: false });
  const client = await connectClient({ servers: options.servers, namespace, name: "publisher" });
  const rawSub = await connect({ servers: options.servers, name: "raw-fanout-sub", maxReconnectAttempts: -1 });
  const rawPub = await connect({ servers: options.servers, name: "raw-fanout-pub", maxReconnectAttempts: -1 });
  try {
    for (let i = 0; i < subscribers; i++) await node.spawn("fan", { key: `s${i}` });

    const troupeRound = async (): Promise<number> => {
      handled = 0;
      target = subscribers * messages;
      const all = new Promise<void>((resolve) => (done = resolve));
      const t0 = performance.now();
      for (let i = 0; i < messages; i++) void client.publish("bench.fanout", { ...PAYLOAD, i });
      await within(all, ROUND_LIMIT_MS, () => `troupe round: ${handled} of ${target} deliveries handled`);
      return performance.now() - t0;
    };
    const rawDecodes = options.rawDecodes ?? true;
    const rawRound = (): Promise<number> => rawFanout(rawSub, rawPub, subscribers, messages, rawDecodes);

    await troupeRound();
    await rawRound();
    const troupeMs: number[] = [];
    const rawMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      rawMs.push(await rawRound());
      troupeMs.push(await troupeRound());
    }
    const ratios = troupeMs.map((t, i) => rawMs[i]! / t);
    const total = subscribers * messages;
    const tMed = median(troupeMs);
    const rMed = median(rawMs);
    return {
      subscribers,
      messages,
      rounds,
      rawDecodes,
      troupeDeliveriesPerSec: (total / tMed) * 1000,
      rawDeliveriesPerSec: (total / rMed) * 1000,
      troupeMsgsPerSec: (messages / tMed) * 1000,
      rawMsgsPerSec: (messages / rMed) * 1000,
      ratio: median(ratios),
      troupeMs,
      rawMs,
    };
  } finally {
    await rawSub.close();
    await rawPub.close();
    await client.close();
    await node.close();
  }
}

/** One raw round: `subscribers` subscriptions on one connection, `messages` published from another; ms until all arrived. */
async function rawFanout(sub: NatsConnection, pub: NatsConnection, subscribers: number, messages: number, decodes: boolean): Promise<number> {
  const subject = `raw.fanout.${Math.random().toString(36).slice(2)}`;
  let received = 0;
  const total = subscribers * messages;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  let sink = 0;
  const subs = [];
  for (let i = 0; i < subscribers; i++) {
    subs.push(
      sub.subscribe(subject, {
        callback: (_err, msg) => {
          sink += decodes ? (decodeValue(msg.data) as { i: number }).i : msg.data.length;
          if (++received === total) done();
        },
      }),
    );
  }
  await sub.flush();
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) pub.publish(subject, encodeValue({ ...PAYLOAD, i }));
  await within(all, ROUND_LIMIT_MS, () => `raw round: ${received} of ${total} deliveries arrived (the server drops a slow consumer's messages)`);
  const ms = performance.now() - t0;
  for (const s of subs) s.unsubscribe();
  await sub.flush();
  if (sink < 0) throw new Error("unreachable");
  return ms;
}

/** A round that does not finish within this long failed (messages were lost). */
const ROUND_LIMIT_MS = 60_000;

async function within(p: Promise<void>, ms: number, what: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startNatsServer } = await import("../../runtime/testing/nats-server.js");
  const server = await startNatsServer({ jetstream: true });
  try {
    const [subscribers, messages, rounds] = process.argv.slice(2).map(Number);
    const rawDecodes = process.env.RAW_DECODES !== "0";
    const f = await measureTopicFanout({ servers: server.url, subscribers: subscribers || undefined, messages: messages || undefined, rounds: rounds || undefined, rawDecodes });
    console.log(JSON.stringify(f, null, 2));
  } finally {
    await server.stop();
  }
}
