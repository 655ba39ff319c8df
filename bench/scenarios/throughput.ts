// The `throughput` scenario, measured the way users deploy: the responding
// side always runs in a process of its own, and this process only calls.
// Troupe (a node process hosting the agents) is measured beside raw nats.js in
// the same two-process shape (a responder process; callers using `nc.request`,
// and own-inbox correlation) and beside a peer, Moleculer over NATS (a broker
// process with an `echo` action). Every message is the same 128-byte
// MessagePack map (payload.ts). Variants run in a seeded order that changes
// round after round, so drift on a noisy machine hits every side alike.
// Verified senders are measured in the same run: a light client holding
// credentials asks an echo that accepts only verified senders and the plain
// echo, over one connection, so the difference is the proof (signing, two
// headers, checking). The credentials come from an Authority made for the run
// and the server is a plain one: the responding node checks proofs against
// the account key of its own credentials, which needs no server to check them.

import { decode, encode } from "@msgpack/msgpack";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient, MailboxFullError, startNode, type AgentRef } from "../../actors/index.js";
import { credentialsFrom } from "../../runtime/auth/credentials.js";
import { SenderSigner, SenderVerifier } from "../../runtime/auth/sender-proof.js";
import { systemClock } from "../../runtime/clock.js";
import { encodeEnvelope, Kind } from "../../runtime/envelope.js";
import { Authority } from "../../runtime/auth/authority.js";
import { Role } from "../../runtime/auth/roles.js";
import { sleep } from "../ask-load.js";
import { OwnInbox } from "../baselines/own-inbox.js";
import { pacedTells } from "../baselines/paced-tells.js";
import { RAW_CONNECTION_OPTIONS, windowed } from "../baselines/raw-nats.js";
import type { ChildHandle } from "../child-process.js";
import { loadAverageNow } from "../environment.js";
import { PAYLOAD_BYTES, payload, type Payload } from "../payload.js";
import { rng, shuffled, type Rng } from "../random.js";
import { BENCH_KEYS, type HistoryReply } from "../responders/bench-agents.js";
import { moleculerBroker, moleculerMissing, type MoleculerBroker } from "../responders/moleculer-broker.js";
import { startMoleculerResponder, startRawResponder, startTroupeResponder } from "../responders/responder-processes.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult, type Series } from "../scenario.js";
import { formatNumber, median, msToMicros, opsPerSecond, percentiles } from "../stats.js";
import { Timeline } from "../timeline.js";

/**
 * The ratios Troupe should reach, normalised so that above 1 is better for
 * Troupe: asks with 64 in flight at least 0.95x raw own-inbox requests and
 * 1.3x Moleculer calls; ask latency within 1.1x of raw `nc.request` at p50 and
 * p99; tells at least 0.95x raw pub/sub; read-only asks to a persisted agent
 * with a 50 KB state at least 0.9x the same agent with a 100-byte state.
 */
export const THROUGHPUT_GOALS = {
  askThroughputVsOwnInbox: 0.95,
  askThroughputVsMoleculer: 1.3,
  askLatencyP50: 1 / 1.1,
  askLatencyP99: 1 / 1.1,
  tellThroughput: 0.95,
  largeStateAsks: 0.9,
} as const;

/** Encoded sizes of the two persisted agents' states. */
const SMALL_STATE_BYTES = 100;
const LARGE_STATE_BYTES = 50 * 1024;
const WINDOW = 64;

interface Sizes {
  rounds: number;
  tells: number;
  /** Sequential asks per latency measurement. */
  asks: number;
  /** Asks per 64-in-flight measurement. */
  windowed: number;
  /** Per variant, before the first round. */
  warmupTells: number;
  warmupAsks: number;
}

const QUICK: Sizes = { rounds: 1, tells: 20_000, asks: 500, windowed: 5_000, warmupTells: 3_000, warmupAsks: 500 };
const FULL: Sizes = { rounds: 3, tells: 200_000, asks: 10_000, windowed: 50_000, warmupTells: 100_000, warmupAsks: 5_000 };

/** Tells between two pauses for a server round trip, on both sides (see pacedTells). */
const FLUSH_EVERY = 1_000;
const TIMEOUT_MS = 30_000;

/** One way of answering `n`: resolves when the answer for `n` came back and was checked. */
type Call = (n: number) => Promise<void>;

function checkN(what: string, n: number, got: unknown): void {
  if ((got as { n?: unknown } | null)?.n !== n) throw new Error(`${what} ${n} was answered with ${JSON.stringify(got)?.slice(0, 120)}`);
}

/** Everything the scenario started, for the measurements. */
interface Setup {
  client: Awaited<ReturnType<typeof startNode>>;
  rawNc: NatsConnection;
  inbox: OwnInbox;
  moleculer: MoleculerBroker | null;
  moleculerWhyNot: string | null;
  rawPrefix: string;
  /** A light client with a client credential: it signs what it sends to the verified echo. */
  signer: Awaited<ReturnType<typeof connectClient>>;
  /** The per-message CPU cost of a proof, measured in this process. */
  proofCost: { signUs: number; verifyUs: number };
}

/** Microseconds per signature and per check of a {@link PAYLOAD_BYTES}-byte ask (the JWT already checked and cached), over `n` of each. */
async function measureProofCost(creds: Uint8Array, trust: { account: string; clientsAccount: string }, n: number): Promise<{ signUs: number; verifyUs: number }> {
  const signer = new SenderSigner(await credentialsFrom(creds));
  const verifier = new SenderVerifier({ ...trust, namespace: "bench", clock: systemClock });
  const subject = "troupe.bench.agent.bench-verified-echo.v1";
  const data = encodeEnvelope(Kind.Ask, "Xk3j9x0qZ2abc", "client:bench-signer", null, payload("echo", 1), 1 << 20);
  const sig = signer.sign(subject, data);
  if (verifier.problem(subject, data, signer.jwt, sig, "client:bench-signer") !== undefined) throw new Error("the bench's own proof does not verify");
  let t0 = performance.now();
  for (let i = 0; i < n; i++) signer.headers(subject, data);
  const signUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i++) verifier.problem(subject, data, signer.jwt, sig, "client:bench-signer");
  const verifyUs = ((performance.now() - t0) * 1000) / n;
  return { signUs, verifyUs };
}

async function setUp(ctx: ScenarioContext, url: string, random: Rng): Promise<Setup> {
  const tag = random.int(0, 2 ** 31).toString(36);
  const rawPrefix = `bench.raw.${tag}`;
  const molNamespace = `bench-${tag}`;
  const moleculerWhyNot = await moleculerMissing();
  if (moleculerWhyNot) ctx.log(`Moleculer is not installed, the peer is left out: ${moleculerWhyNot}`);

  // Credentials for verified senders: the Troupe responder's (a node's) and the signing client's.
  const dir = await mkdtemp(join(tmpdir(), "troupe-bench-creds-"));
  ctx.defer(() => rm(dir, { recursive: true, force: true }));
  const authority = await Authority.create("bench");
  const nodeCreds = join(dir, "node.creds");
  const clientCreds = join(dir, "client.creds");
  await writeFile(nodeCreds, (await authority.issue({ role: Role.Node })).creds, { mode: 0o600 });
  await writeFile(clientCreds, (await authority.issue({ role: Role.Client, name: "bench-signer" })).creds, { mode: 0o600 });

  // The three responder processes start side by side.
  const started = await Promise.allSettled([
    startTroupeResponder({ servers: url, namespace: "bench", name: "bench-host", credentials: nodeCreds }),
    startRawResponder({ servers: url, prefix: rawPrefix }),
    moleculerWhyNot ? Promise.resolve(null) : startMoleculerResponder({ servers: url, namespace: molNamespace }),
  ]);
  for (const s of started) if (s.status === "fulfilled" && s.value) ctx.defer(() => (s.value as ChildHandle).stop());
  for (const s of started) if (s.status === "rejected") throw s.reason;
  const pids = started.map((s) => (s.status === "fulfilled" && s.value ? s.value.pid : null));
  ctx.log(`responder processes: Troupe node pid ${pids[0]}, raw nats.js pid ${pids[1]}${pids[2] ? `, Moleculer pid ${pids[2]}` : ""}`);

  const client = await startNode({ servers: url, namespace: "bench", name: "bench-client", agents: [] });
  ctx.defer(() => client.close());
  const rawNc = await connect({ servers: url, name: "troupe-bench-raw-caller", ...RAW_CONNECTION_OPTIONS });
  ctx.defer(() => rawNc.close());
  const inbox = new OwnInbox(rawNc);
  ctx.defer(() => inbox.close());
  const onAbort = (): void => inbox.close(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error("aborted"));
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  ctx.defer(() => ctx.signal.removeEventListener("abort", onAbort));

  let moleculer: MoleculerBroker | null = null;
  if (!moleculerWhyNot) {
    moleculer = await moleculerBroker({ servers: url, namespace: molNamespace, nodeID: "bench-caller" });
    const broker = moleculer;
    await broker.start();
    ctx.defer(() => broker.stop());
    await broker.waitForServices(["echo"], TIMEOUT_MS);
  }
  // Named after its credential: a client signs as client:<its JWT's name> only.
  const signer = await connectClient({ servers: url, namespace: "bench", credentials: clientCreds });
  ctx.defer(() => signer.close());
  const proofCost = await measureProofCost((await authority.issue({ role: Role.Client, name: "bench-signer" })).creds, { account: authority.account("bench"), clientsAccount: authority.clientsAccount("bench") }, ctx.quick ? 5_000 : 50_000);
  return { client, rawNc, inbox, moleculer, moleculerWhyNot, rawPrefix, signer, proofCost };
}

export const throughputScenario: Scenario = {
  name: "throughput",
  title: "Messaging throughput and latency, agent in its own process",
  description:
    "The responders each in a process of their own (a Troupe node, a raw nats.js service, a Moleculer broker), called from the benchmark process with the same 128-byte message: asks with 64 in flight against raw own-inbox requests, raw nc.request and Moleculer calls; sequential ask latency against raw nc.request; tells against raw pub/sub, counted at the receiver; read-only asks to a persisted agent with a 50 KB state against one with a 100-byte state.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "How much of raw nats.js speed Troupe keeps, and how it compares with Moleculer, when the agent runs in a process of its own.";
    const random = rng(ctx.seed);
    let server;
    try {
      server = await ctx.startServer();
    } catch (err) {
      return { name: "throughput", ok: false, summary, metrics: [], error: `could not start nats-server: ${errorText(err)}` };
    }
    const loadAtStart = loadAverageNow();
    ctx.progress(0, "starting the responder processes");
    const { client, rawNc, inbox, moleculer, moleculerWhyNot, rawPrefix, signer, proofCost } = await setUp(ctx, server.url, random);
    ctx.log(`a proof costs ${proofCost.signUs.toFixed(1)} µs to sign and ${proofCost.verifyUs.toFixed(1)} µs to check, per ${PAYLOAD_BYTES}-byte ask, in this process`);
    const echoRef = client.ref<Payload, Payload>("echo", BENCH_KEYS.echo);
    const tallyRef = client.ref<Payload | { op: "count" }, number>("bench-tally", BENCH_KEYS.tally);
    const smallRef = client.ref("bench-history", BENCH_KEYS.small);
    const largeRef = client.ref("bench-history", BENCH_KEYS.large);
    const echoSubject = `${rawPrefix}.echo`;
    const pubsubSubject = `${rawPrefix}.pubsub`;

    // The persisted agents' states, written once to the state bucket.
    for (const [ref, bytes] of [[smallRef, SMALL_STATE_BYTES], [largeRef, LARGE_STATE_BYTES]] as const) {
      const r = await ref.ask<HistoryReply>({ op: "fill", bytes }, { timeoutMs: TIMEOUT_MS });
      ctx.log(`${ref.id}: a history of ${r.turns} turns, ${formatNumber(bytes)} bytes encoded, persisted`);
    }

    // The calls, one per variant; each checks that the answer is the one for its `n`.
    const troupeAsk: Call = async (n) => checkN("ask", n, await echoRef.ask(payload("echo", n), { timeoutMs: TIMEOUT_MS }));
    const rawRequest: Call = async (n) => {
      const reply = await rawNc.request(echoSubject, encode(payload("echo", n)), { timeout: TIMEOUT_MS });
      checkN("request", n, decode(reply.data));
    };
    const ownInbox: Call = async (n) => checkN("request", n, decode(await inbox.request(echoSubject, encode(payload("echo", n)))));
    const moleculerCall: Call | null = moleculer ? async (n) => checkN("call", n, await moleculer.call("echo.echo", payload("echo", n))) : null;
    const readAsk = (ref: AgentRef): Call => async (n) => checkN("read", n, await ref.ask(payload("read", n), { timeoutMs: TIMEOUT_MS }));
    const smallRead = readAsk(smallRef);
    const largeRead = readAsk(largeRef);
    // The same client and connection, to the plain echo and to the verified one: the proof is the only difference.
    const signerEchoRef = signer.ref<Payload, Payload>("echo", BENCH_KEYS.echo);
    const verifiedRef = signer.ref<Payload, Payload>("bench-verified-echo", BENCH_KEYS.verified);
    const signerPlainAsk: Call = async (n) => checkN("ask", n, await signerEchoRef.ask(payload("echo", n), { timeoutMs: TIMEOUT_MS }));
    const verifiedAsk: Call = async (n) => checkN("ask", n, await verifiedRef.ask(payload("echo", n), { timeoutMs: TIMEOUT_MS }));

    // A mailbox that tells filled faster than the agent drains it refuses the
    // count ask (MailboxFullError): ask again until it is answered, so the time
    // includes the drain, and tells refused meanwhile count as not counted.
    const tallyCount = async (): Promise<number> => {
      const deadline = performance.now() + TIMEOUT_MS;
      for (;;) {
        try {
          return (await tallyRef.ask({ op: "count" }, { timeoutMs: TIMEOUT_MS })) as number;
        } catch (err) {
          if (!(err instanceof MailboxFullError) || performance.now() > deadline) throw err;
          await sleep(5, ctx.signal);
        }
      }
    };
    const rawCount = async (): Promise<number> => decode((await rawNc.request(pubsubSubject, encode({ op: "count" }), { timeout: TIMEOUT_MS })).data) as number;

    /** Tells `count`, timed from the first send to the answer of a count request queued behind the last one. */
    const troupeTells = async (count: number, onProgress?: (f: number) => void): Promise<{ perSec: number; lost: number }> => {
      const before = await tallyCount();
      const t0 = performance.now();
      await pacedTells(tallyRef, client.connection, count, (i) => payload("inc", i), { flushEvery: FLUSH_EVERY, signal: ctx.signal, onProgress });
      const after = await tallyCount();
      const ms = performance.now() - t0;
      return { perSec: opsPerSecond(after - before, ms), lost: count - (after - before) };
    };
    const rawPubSub = async (count: number, onProgress?: (f: number) => void): Promise<{ perSec: number; lost: number }> => {
      const before = await rawCount();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        rawNc.publish(pubsubSubject, encode(payload("inc", i)));
        if ((i + 1) % FLUSH_EVERY === 0) {
          await rawNc.flush();
          if (ctx.signal.aborted) throw ctx.signal.reason;
          onProgress?.((i + 1) / count);
        }
      }
      await rawNc.flush();
      const after = await rawCount();
      const ms = performance.now() - t0;
      return { perSec: opsPerSecond(after - before, ms), lost: count - (after - before) };
    };

    const throughputOf = async (call: Call, total: number, onProgress?: (f: number) => void, timeline?: Timeline): Promise<number> => {
      const every = Math.max(1, Math.floor(total / 100));
      timeline?.reset();
      const t0 = performance.now();
      await windowed(total, WINDOW, async (n) => {
        await call(n);
        timeline?.record();
        if (n % every === 0) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          onProgress?.(n / total);
        }
      });
      const perSec = opsPerSecond(total, performance.now() - t0);
      timeline?.stop();
      return perSec;
    };
    const latencyOf = async (call: Call, count: number, into: number[], onProgress?: (f: number) => void): Promise<void> => {
      const every = Math.max(1, Math.floor(count / 100));
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await call(i);
        into.push(msToMicros(performance.now() - t0));
        if (i % every === 0) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          onProgress?.(i / count);
        }
      }
    };

    // Progress: one step per measurement.
    const windowedVariants = moleculerCall ? 8 : 7;
    const steps = 1 + sizes.rounds * (2 + 5 + windowedVariants);
    let step = 0;
    const phase = (label: string): ((f: number) => void) => {
      const base = step++ / steps;
      ctx.progress(base, label);
      return (f) => ctx.progress(base + Math.min(1, Math.max(0, f)) / steps, label);
    };

    // Warm-up of every variant, on both ends of each, before anything is measured:
    // 100k tells each way (with 20k, the receiving Troupe node's first measured
    // round of tells ran 15-30% below its later rounds while the raw receiver's
    // did not, so the first round measured its warm-up, not its steady state).
    const onWarm = phase("warm-up");
    await rawPubSub(sizes.warmupTells);
    await troupeTells(sizes.warmupTells);
    const warmCalls = [rawRequest, ownInbox, troupeAsk, smallRead, largeRead, signerPlainAsk, verifiedAsk, ...(moleculerCall ? [moleculerCall] : [])];
    for (const [i, call] of warmCalls.entries()) {
      await windowed(sizes.warmupAsks, WINDOW, call);
      for (let n = 0; n < Math.min(500, sizes.warmupAsks); n++) await call(n);
      onWarm((i + 1) / warmCalls.length);
    }

    const tells = { raw: [] as number[], troupe: [] as number[], rawLost: 0, troupeLost: 0 };
    const latencyUs = { request: [] as number[], ownInbox: [] as number[], troupe: [] as number[], signerPlain: [] as number[], verified: [] as number[] };
    const rates = {
      request: [] as number[],
      ownInbox: [] as number[],
      moleculer: [] as number[],
      troupe: [] as number[],
      small: [] as number[],
      large: [] as number[],
      signerPlain: [] as number[],
      verified: [] as number[],
    };
    const timelines: { troupe?: Timeline; ownInbox?: Timeline; moleculer?: Timeline } = {};

    for (let round = 0; round < sizes.rounds; round++) {
      const tag = `r${round + 1}`;
      const last = round === sizes.rounds - 1;

      for (const side of shuffled(["raw", "troupe"] as const, random)) {
        if (side === "raw") {
          const r = await rawPubSub(sizes.tells, phase(`${tag} raw pub/sub`));
          tells.raw.push(r.perSec);
          tells.rawLost += r.lost;
        } else {
          const r = await troupeTells(sizes.tells, phase(`${tag} Troupe tell`));
          tells.troupe.push(r.perSec);
          tells.troupeLost += r.lost;
        }
      }
      ctx.log(`${tag}: tells: raw pub/sub ${formatNumber(tells.raw.at(-1))} msg/s, Troupe ${formatNumber(tells.troupe.at(-1))} msg/s (not counted so far: raw ${tells.rawLost}, Troupe ${tells.troupeLost})`);

      const latencies = [
        ["request", "raw nc.request, 1 in flight", rawRequest],
        ["ownInbox", "raw own-inbox, 1 in flight", ownInbox],
        ["troupe", "Troupe ask, 1 in flight", troupeAsk],
        ["signerPlain", "Troupe ask from a client with credentials, plain type, 1 in flight", signerPlainAsk],
        ["verified", "Troupe ask from a client with credentials, verified type, 1 in flight", verifiedAsk],
      ] as const;
      for (const [key, label, call] of shuffled(latencies, random)) await latencyOf(call, sizes.asks, latencyUs[key], phase(`${tag} ${label}`));

      const throughputs: [keyof typeof rates, string, Call][] = [
        ["request", "raw nc.request", rawRequest],
        ["ownInbox", "raw own-inbox", ownInbox],
        ["troupe", "Troupe ask", troupeAsk],
        ["small", "Troupe read, 100-byte state", smallRead],
        ["large", "Troupe read, 50 KB state", largeRead],
        ["signerPlain", "Troupe ask from a client with credentials, plain type", signerPlainAsk],
        ["verified", "Troupe ask from a client with credentials, verified type", verifiedAsk],
      ];
      if (moleculerCall) throughputs.push(["moleculer", "Moleculer call", moleculerCall]);
      for (const [key, label, call] of shuffled(throughputs, random)) {
        const tl = last && (key === "troupe" || key === "ownInbox" || key === "moleculer") ? new Timeline() : undefined;
        rates[key].push(await throughputOf(call, sizes.windowed, phase(`${tag} ${label}, ${WINDOW} in flight`), tl));
        if (tl) timelines[key as "troupe" | "ownInbox" | "moleculer"] = tl;
      }
      ctx.log(
        `${tag}: ${WINDOW} in flight: Troupe ${formatNumber(rates.troupe.at(-1))} asks/s, raw own-inbox ${formatNumber(rates.ownInbox.at(-1))}, raw nc.request ${formatNumber(rates.request.at(-1))}` +
          `${moleculerCall ? `, Moleculer ${formatNumber(rates.moleculer.at(-1))}` : ""}; reads: 100-byte state ${formatNumber(rates.small.at(-1))}, 50 KB state ${formatNumber(rates.large.at(-1))}` +
          `; client with credentials: plain type ${formatNumber(rates.signerPlain.at(-1))}, verified type ${formatNumber(rates.verified.at(-1))}`,
      );
    }
    ctx.progress(1, "done");
    const loadAtEnd = loadAverageNow();
    ctx.log(`load average (1, 5, 15 min): ${loadAtStart} at the start, ${loadAtEnd} at the end`);

    const lat = {
      request: percentiles(latencyUs.request),
      ownInbox: percentiles(latencyUs.ownInbox),
      troupe: percentiles(latencyUs.troupe),
      signerPlain: percentiles(latencyUs.signerPlain),
      verified: percentiles(latencyUs.verified),
    };
    const verifiedRate = median(rates.verified);
    const signerPlainRate = median(rates.signerPlain);
    /** Wall time per ask added by the proof with 64 in flight (both processes' work, pipelined), in µs. */
    const proofUsPerAsk = verifiedRate > 0 && signerPlainRate > 0 ? 1e6 / verifiedRate - 1e6 / signerPlainRate : NaN;
    const within = (m: Metric, factor: number): Metric => (m.goal ? { ...m, goal: `within ${factor}x (ratio ≥ ${(1 / factor).toFixed(3)})` } : m);
    const metrics: Metric[] = [
      compare({ name: `asks, ${WINDOW} in flight vs raw own-inbox requests`, unit: "req/s", better: "higher", troupe: median(rates.troupe), baseline: median(rates.ownInbox), minRatio: THROUGHPUT_GOALS.askThroughputVsOwnInbox }),
    ];
    if (moleculerCall) {
      metrics.push(compare({ name: `asks, ${WINDOW} in flight vs Moleculer calls`, unit: "req/s", better: "higher", troupe: median(rates.troupe), baseline: median(rates.moleculer), minRatio: THROUGHPUT_GOALS.askThroughputVsMoleculer }));
    }
    metrics.push(
      within(compare({ name: "ask latency p50 vs raw nc.request", unit: "µs", better: "lower", troupe: lat.troupe.p50, baseline: lat.request.p50, minRatio: THROUGHPUT_GOALS.askLatencyP50 }), 1.1),
      within(compare({ name: "ask latency p99 vs raw nc.request", unit: "µs", better: "lower", troupe: lat.troupe.p99, baseline: lat.request.p99, minRatio: THROUGHPUT_GOALS.askLatencyP99 }), 1.1),
      compare({ name: "tell throughput vs raw pub/sub", unit: "msg/s", better: "higher", troupe: median(tells.troupe), baseline: median(tells.raw), minRatio: THROUGHPUT_GOALS.tellThroughput }),
      compare({ name: "read-only asks, 50 KB persisted state vs 100-byte state", unit: "req/s", better: "higher", troupe: median(rates.large), baseline: median(rates.small), minRatio: THROUGHPUT_GOALS.largeStateAsks }),
      compare({ name: `asks, ${WINDOW} in flight vs raw nc.request`, unit: "req/s", better: "higher", troupe: median(rates.troupe), baseline: median(rates.request) }),
      compare({ name: "ask latency p50 vs raw own-inbox", unit: "µs", better: "lower", troupe: lat.troupe.p50, baseline: lat.ownInbox.p50 }),
      compare({ name: "ask latency p99 vs raw own-inbox", unit: "µs", better: "lower", troupe: lat.troupe.p99, baseline: lat.ownInbox.p99 }),
      { name: "tells not counted (at most once)", unit: "msgs", better: "lower", troupe: tells.troupeLost, baseline: tells.rawLost, goal: "0", pass: tells.troupeLost === 0 },
      compare({ name: `asks, ${WINDOW} in flight, to a requireVerifiedSender type vs a plain type (same client)`, unit: "req/s", better: "higher", troupe: verifiedRate, baseline: signerPlainRate }),
      compare({ name: "ask latency p50, requireVerifiedSender type vs plain type (same client)", unit: "µs", better: "lower", troupe: lat.verified.p50, baseline: lat.signerPlain.p50 }),
      compare({ name: "ask latency p99, requireVerifiedSender type vs plain type (same client)", unit: "µs", better: "lower", troupe: lat.verified.p99, baseline: lat.signerPlain.p99 }),
      { name: `verified sender: wall time added per ask, ${WINDOW} in flight`, unit: "µs", better: "lower", troupe: Number(proofUsPerAsk.toFixed(1)) },
      { name: "verified sender: CPU per proof, sign + check (in one process)", unit: "µs", better: "lower", troupe: Number((proofCost.signUs + proofCost.verifyUs).toFixed(1)) },
    );

    const series: Series[] = [];
    const add = (tl: Timeline | undefined, title: string, unit: string): void => {
      if (tl) series.push({ title, unit, points: tl.points(), events: tl.events() });
    };
    add(timelines.troupe, `Troupe: asks answered, ${WINDOW} in flight (last round)`, "asks/s");
    add(timelines.ownInbox, `raw nats.js own-inbox: requests answered, ${WINDOW} in flight (last round)`, "req/s");
    add(timelines.moleculer, `Moleculer: calls answered, ${WINDOW} in flight (last round)`, "calls/s");

    return {
      name: "throughput",
      ok: true,
      summary,
      metrics,
      series,
      latency: [
        {
          title: "Sequential round trip, responder in its own process",
          rows: [
            { label: "raw nats.js nc.request", unit: "µs", ...lat.request },
            { label: "raw nats.js own-inbox", unit: "µs", ...lat.ownInbox },
            { label: "Troupe ask", unit: "µs", ...lat.troupe },
            { label: "Troupe ask, client with credentials, plain type", unit: "µs", ...lat.signerPlain },
            { label: "Troupe ask, client with credentials, requireVerifiedSender type", unit: "µs", ...lat.verified },
          ],
        },
      ],
      notes: [
        `${sizes.rounds} round${sizes.rounds === 1 ? "" : "s"}; within each round the variants run in an order drawn from the seed; throughputs are the median of the rounds, latencies pool every sample.`,
        "Two processes for every variant: the responder in a child process of its own (a Troupe node hosting the agents; a raw nats.js service with callback subscriptions; a Moleculer broker with an `echo` action), the caller in the benchmark process, all on one nats-server.",
        `Every request, tell and call carries the same ${PAYLOAD_BYTES}-byte MessagePack map { op, n, pad }; echo answers return it whole (the raw service decodes and re-encodes it, Troupe's echo agent returns it, Moleculer's action returns its params). Moleculer runs with its defaults (JSON serializer) on its NATS transporter, which uses the \`nats\` v2 client.`,
        "Raw nc.request uses nats.js defaults (a timer and an async-trace Error per request); raw own-inbox is one `_INBOX.<id>.*` subscription and a Map from token to the waiting request, no per-request timer. Troupe's asks carry a 30 s timeout each.",
        `Tells and pub/sub are counted at the receiver: both publish in a loop and flush (a PING/PONG round trip) every ${FLUSH_EVERY}; the time runs from the first send to the answer of a count request queued behind the last message. Not counted: Troupe ${tells.troupeLost}, raw ${tells.rawLost}.`,
        ...(tells.troupeLost > 0
          ? [`Troupe tells not counted (${formatNumber(tells.troupeLost)}) were refused by the agent's mailbox, full at its default bound of 65,536 messages: the sender outran the agent, and core NATS has no back-pressure from the receiver. They are dead-lettered and left out of the throughput.`]
          : []),
        `The persisted agents (bench-history) hold a conversation history of ${SMALL_STATE_BYTES} bytes and of ${formatNumber(LARGE_STATE_BYTES)} bytes (encoded), written to the state bucket once; the reads change nothing, so no state write follows them.`,
        `Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${loadAtEnd}. Other work on the machine moves every figure; the ratios are the thing to read.`,
        `Verified senders: a light client holding a client credential asks the plain echo and an echo defined with requireVerifiedSender, over one connection. Each ask to the second carries the client's user JWT and an ed25519 signature over subject and envelope (two NATS headers); the responding node checks the signature, and the JWT once (then cached). Signing costs ${proofCost.signUs.toFixed(1)} µs and checking ${proofCost.verifyUs.toFixed(1)} µs per ask in one process. The credentials come from an authority made for the run and the server does not check them (a plain server): the node checks each proof against the account key in its own credentials.`,
        ...(moleculerWhyNot ? [`Moleculer was not measured: ${moleculerWhyNot}`] : []),
      ],
    };
  },
};
