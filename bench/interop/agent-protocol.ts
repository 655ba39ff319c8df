// The NATS agent protocol's cost: prompts per second to an exposed echo agent
// through `agents.prompt.echo.<ns>.e1` from a raw NATS client (each prompt
// read to its terminator: ack, response, terminator), against the same agent
// asked the Troupe way (a client's `ref.ask`), and a raw-NATS baseline: a bare
// nats.js responder on the same server that answers each prompt with the same
// three messages. `concurrency` prompts in flight; a warm-up round, then
// `rounds` rounds of each, alternating; figures are medians.
//
// Run on its own: `npx tsx bench/interop/agent-protocol.ts [prompts] [rounds] [concurrency]`
// (it starts a throwaway nats-server).

import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import { connectClient, type TroupeClient } from "../../runtime/client.js";
import { defineAgent } from "../../runtime/define-agent.js";
import { startNode } from "../../runtime/node.js";

/** What one run measured. */
export interface AgentProtocolFigures {
  prompts: number;
  rounds: number;
  concurrency: number;
  /** Prompts per second through the agent protocol (raw client, stream read to the terminator). */
  protocolPerSec: number;
  /** Asks per second to the same agent through a Troupe client. */
  askPerSec: number;
  /** Prompts per second to a bare nats.js responder sending ack, response, terminator. */
  rawPerSec: number;
  /** protocol / raw and protocol / ask, medians of the rounds' ratios. */
  protocolVsRaw: number;
  protocolVsAsk: number;
  /** Median milliseconds from publishing a prompt to its ack, and to its terminator (one at a time). */
  ackMs: number;
  terminatorMs: number;
}

export interface AgentProtocolOptions {
  servers: string;
  prompts?: number;
  rounds?: number;
  concurrency?: number;
  namespace?: string;
}

const text = new TextEncoder();

/** Measure the agent protocol against a Troupe ask and raw NATS on `servers`. */
export async function measureAgentProtocol(options: AgentProtocolOptions): Promise<AgentProtocolFigures> {
  const prompts = options.prompts ?? 5000;
  const rounds = options.rounds ?? 5;
  const concurrency = options.concurrency ?? 64;
  const namespace = options.namespace ?? `apbench${process.pid}`;
  const echo = defineAgent({ type: "echo", persist: false, expose: { protocol: "nats-agents" }, receive: (m: unknown) => m });
  const node = await startNode({ servers: options.servers, namespace, name: "bench-node", agents: [echo] });
  const client: TroupeClient = await connectClient({ servers: options.servers, namespace, name: "bench-client" });
  const caller = await connect({ servers: options.servers, noAsyncTraces: true });
  const responder = await connect({ servers: options.servers });
  const rawSubject = `bench.raw.${namespace}`;
  const ack = text.encode('{"type":"status","data":"ack"}');
  responder.subscribe(rawSubject, {
    queue: "agents",
    callback: (_err, m) => {
      if (!m.reply) return;
      responder.publish(m.reply, ack);
      responder.publish(m.reply, text.encode(JSON.stringify({ type: "response", data: new TextDecoder().decode(m.data) })));
      responder.publish(m.reply, new Uint8Array(0));
    },
  });
  await responder.flush();
  try {
    await node.spawn("echo", { key: "e1" });
    const protoSubject = `agents.prompt.echo.${namespace}.e1`;
    const ref = client.ref("echo", "e1");
    const protocol = () => run(prompts, concurrency, () => promptOnce(caller, protoSubject));
    const raw = () => run(prompts, concurrency, () => promptOnce(caller, rawSubject));
    const ask = () => run(prompts, concurrency, () => ref.ask("hello agent").then(() => undefined));
    await protocol();
    await raw();
    await ask();
    const p: number[] = [];
    const r: number[] = [];
    const a: number[] = [];
    for (let i = 0; i < rounds; i++) {
      p.push(await protocol());
      r.push(await raw());
      a.push(await ask());
    }
    const acks: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = await promptTimed(caller, protoSubject);
      acks.push(t.ack);
      ends.push(t.end);
    }
    const rate = (ms: number) => Math.round((prompts / ms) * 1000);
    return {
      prompts,
      rounds,
      concurrency,
      protocolPerSec: rate(median(p)),
      askPerSec: rate(median(a)),
      rawPerSec: rate(median(r)),
      protocolVsRaw: round2(median(p.map((ms, i) => r[i]! / ms))),
      protocolVsAsk: round2(median(p.map((ms, i) => a[i]! / ms))),
      ackMs: round2(median(acks)),
      terminatorMs: round2(median(ends)),
    };
  } finally {
    await caller.close();
    await responder.close();
    await client.close();
    await node.close();
  }
}

/** `total` calls, `concurrency` at a time; milliseconds. */
async function run(total: number, concurrency: number, call: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await call();
      }
    }),
  );
  return performance.now() - t0;
}

/** One prompt read to its terminator; rejects on an error header. */
function promptOnce(nc: NatsConnection, subject: string): Promise<void> {
  return promptTimed(nc, subject).then(() => undefined);
}

function promptTimed(nc: NatsConnection, subject: string): Promise<{ ack: number; end: number }> {
  const inbox = createInbox();
  const t0 = performance.now();
  let ackAt = 0;
  return new Promise((resolve, reject) => {
    const sub = nc.subscribe(inbox, {
      callback: (_err, m) => {
        if (m.headers) {
          sub.unsubscribe();
          return reject(new Error(`prompt failed: ${m.headers.get("Nats-Service-Error")}`));
        }
        if (ackAt === 0) ackAt = performance.now();
        if (m.data.length === 0) {
          sub.unsubscribe();
          resolve({ ack: ackAt - t0, end: performance.now() - t0 });
        }
      },
    });
    nc.publish(subject, "hello agent", { reply: inbox });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startNatsServer } = await import("../../runtime/testing/nats-server.js");
  const server = await startNatsServer({ jetstream: true });
  try {
    const [prompts, rounds, concurrency] = process.argv.slice(2).map(Number);
    console.log(JSON.stringify(await measureAgentProtocol({ servers: server.url, prompts: prompts || undefined, rounds: rounds || undefined, concurrency: concurrency || undefined }), null, 2));
  } finally {
    await server.stop();
  }
}
