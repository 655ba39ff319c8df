// The `security` scenario: what credentials and permissions cost an ask, in
// the throughput scenario's process shape (a Troupe node in a process of its
// own hosting echo; this process asks through a light client). One run holds
// three variants: "off", a plain nats-server, node and client without
// credentials; "on", a secured server (an operator and an account made for
// the run, anonymous connections refused) with the node holding a `node`
// credential and the client a `client` one, so the server checks every
// publish and subscription against the role's permissions and replies come
// to inboxes under the client's own prefix; "verified", the same client and
// connection asking an echo that accepts only verified senders. Raw nats.js
// is measured beside it in the same shape and on the same two servers (a
// service in a process of its own holding the node credential, called with
// own-inbox requests holding the client one), so what the server's checks
// cost anyone is told apart from what they cost Troupe. Variants and
// measurements run in a seeded order that changes round after round, so
// drift on a noisy machine hits each alike.

import { decode, encode } from "@msgpack/msgpack";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient, type AgentRef } from "../../actors/index.js";
import { Authority } from "../../runtime/auth/authority.js";
import { Role } from "../../runtime/auth/roles.js";
import { readCredentials } from "../../runtime/auth/credentials.js";
import { connectionInboxPrefix, inboxPrefixOf } from "../../runtime/connection.js";
import { Subjects } from "../../runtime/subjects.js";
import { OwnInbox } from "../baselines/own-inbox.js";
import { RAW_CONNECTION_OPTIONS, windowed } from "../baselines/raw-nats.js";
import type { ChildHandle } from "../child-process.js";
import { loadAverageNow } from "../environment.js";
import { processCpuMs } from "../process-cpu.js";
import { PAYLOAD_BYTES, payload, type Payload } from "../payload.js";
import { rng, shuffled } from "../random.js";
import { BENCH_KEYS } from "../responders/bench-agents.js";
import { startRawResponder, startTroupeResponder } from "../responders/responder-processes.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { formatNumber, median, msToMicros, opsPerSecond, percentiles } from "../stats.js";

/**
 * The ratios security on should keep of security off, normalised so that
 * above 1 is better for "on": asks with 64 in flight at least 0.95x, and p50
 * ask latency with 1 in flight within 1/0.95 of off's.
 */
export const SECURITY_GOALS = {
  askThroughput: 0.95,
  askLatencyP50: 0.95,
} as const;

const NAMESPACE = "bench";
const WINDOW = 64;
const TIMEOUT_MS = 30_000;

interface Sizes {
  rounds: number;
  /** Asks per 64-in-flight measurement. */
  windowed: number;
  /** Sequential asks per latency measurement. */
  asks: number;
  /** Asks with 64 in flight per variant before the first round (then up to 500 sequential ones). */
  warmupAsks: number;
}

// Many short rounds rather than a few long ones: a burst of other work on the
// machine then spoils a few rounds of one variant, which the median leaves out.
const QUICK: Sizes = { rounds: 10, windowed: 5_000, asks: 500, warmupAsks: 5_000 };
const FULL: Sizes = { rounds: 24, windowed: 20_000, asks: 2_000, warmupAsks: 20_000 };

const Variant = { Off: "off", On: "on", Verified: "verified", RawOff: "rawOff", RawOn: "rawOn" } as const;
type Variant = (typeof Variant)[keyof typeof Variant];
const VARIANTS: readonly Variant[] = Object.values(Variant);

const LABEL: Record<Variant, string> = {
  off: "Troupe ask, security off",
  on: "Troupe ask, credentials and permissions on",
  verified: "Troupe ask, on, requireVerifiedSender type",
  rawOff: "raw nats.js own-inbox request, security off",
  rawOn: "raw nats.js own-inbox request, credentials and permissions on",
};

/** A record with an entry per variant, each made by `make`. */
function perVariant<T>(make: () => T): Record<Variant, T> {
  return Object.fromEntries(VARIANTS.map((v) => [v, make()])) as Record<Variant, T>;
}

/** The processes whose CPU time is counted per variant. */
const PROCESSES = ["server", "responder", "caller"] as const;
type Process = (typeof PROCESSES)[number];

function zeroCpu(): Record<Process, number> {
  return { server: 0, responder: 0, caller: 0 };
}

/** CPU time used so far (ms) by the server and the responder a variant uses, and by this process. */
function cpuNow(p: Processes): Record<Process, number> {
  return { server: processCpuMs(p.server), responder: processCpuMs(p.responder), caller: processCpuMs(process.pid) };
}

/** One way of answering `n`: resolves when the answer for `n` came back and was checked. */
type Call = (n: number) => Promise<void>;

function checkN(what: string, n: number, got: unknown): void {
  if ((got as { n?: unknown } | null)?.n !== n) throw new Error(`${what} ${n} was answered with ${JSON.stringify(got)?.slice(0, 120)}`);
}

function askCall(ref: AgentRef<Payload, Payload>): Call {
  return async (n) => checkN(`ask to ${ref.id}`, n, await ref.ask(payload("echo", n), { timeoutMs: TIMEOUT_MS }));
}

function rawCall(inbox: OwnInbox, subject: string): Call {
  return async (n) => checkN(`request to ${subject}`, n, decode(await inbox.request(subject, encode(payload("echo", n)))));
}

/** The processes a variant's asks go through, besides this one. */
interface Processes {
  server: number;
  responder: number;
}

/** The variants' calls and processes, and the length of the client's JWT (sent with every verified ask). */
interface Setup {
  calls: Record<Variant, Call>;
  pids: Record<Variant, Processes>;
  clientJwtBytes: number;
}

/** Start everything the variants need, with its cleanup deferred. */
async function setUp(ctx: ScenarioContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "troupe-bench-security-"));
  ctx.defer(() => rm(dir, { recursive: true, force: true }));
  const authority = await Authority.create(NAMESPACE);
  const configFile = join(dir, "server.conf");
  await writeFile(configFile, authority.serverConfig({ port: 4222 }), { mode: 0o600 });
  const nodeCreds = join(dir, "node.creds");
  const clientCreds = join(dir, "client.creds");
  await writeFile(nodeCreds, (await authority.issue({ role: Role.Node, name: "bench-host" })).creds, { mode: 0o600 });
  const client = await authority.issue({ role: Role.Client, name: "bench-caller" });
  await writeFile(clientCreds, client.creds, { mode: 0o600 });

  // Both servers are the runner's (random loopback ports, stopped whatever happens); the secured one reads the authority's configuration.
  const [plain, secured] = await Promise.all([ctx.startServer(), ctx.startServer({ configFile })]);

  // The secured server is on: an anonymous connection is refused.
  const anonymous = await connect({ servers: secured.url, reconnect: false, timeout: 5_000 }).then(
    async (nc) => {
      await nc.close();
      return null;
    },
    (err: unknown) => errorText(err),
  );
  if (anonymous === null) throw new Error("the secured server accepted an anonymous connection: security is not on, so nothing would be measured");
  ctx.log(`secured server: an anonymous connection is refused (${anonymous})`);

  // The raw service listens where an agent `bench-raw/echo` would (its prefix is that subject without `.echo`),
  // so the node credential lets it answer and the client credential lets it be asked, as for Troupe's echo.
  const rawEcho = new Subjects(NAMESPACE).agent("bench-raw", "echo");
  const rawPrefix = rawEcho.slice(0, -".echo".length);
  const started = await Promise.allSettled([
    startTroupeResponder({ servers: plain.url, namespace: NAMESPACE, name: "bench-host" }),
    startTroupeResponder({ servers: secured.url, namespace: NAMESPACE, name: "bench-host", credentials: nodeCreds }),
    startRawResponder({ servers: plain.url, prefix: rawPrefix }),
    startRawResponder({ servers: secured.url, prefix: rawPrefix, credentials: nodeCreds }),
  ]);
  for (const s of started) if (s.status === "fulfilled") ctx.defer(() => (s.value as ChildHandle).stop());
  for (const s of started) if (s.status === "rejected") throw s.reason;
  const [offNode, onNode, rawOffPid, rawOnPid] = started.map((s) => (s as PromiseFulfilledResult<ChildHandle>).value.pid) as [number, number, number, number];
  ctx.log(
    `responder processes: Troupe node pid ${offNode} (security off), Troupe node pid ${onNode} (node credential), raw nats.js pid ${rawOffPid} (security off), raw nats.js pid ${rawOnPid} (node credential)`,
  );

  const off = await connectClient({ servers: plain.url, namespace: NAMESPACE, name: "bench-caller" });
  ctx.defer(() => off.close());
  const on = await connectClient({ servers: secured.url, namespace: NAMESPACE, name: "bench-caller", credentials: clientCreds });
  ctx.defer(() => on.close());
  ctx.log(`client with credentials: replies come to ${connectionInboxPrefix(on.connection) ?? "_INBOX"}.*`);

  const rawConnect = async (servers: string, credentials?: string): Promise<OwnInbox> => {
    const creds = credentials === undefined ? undefined : await readCredentials(credentials);
    const auth = creds ? { authenticator: credsAuthenticator(creds.bytes), inboxPrefix: inboxPrefixOf(creds) } : {};
    const nc: NatsConnection = await connect({ servers, name: "troupe-bench-raw-caller", ...RAW_CONNECTION_OPTIONS, ...auth });
    ctx.defer(() => nc.close());
    const inbox = new OwnInbox(nc);
    ctx.defer(() => inbox.close());
    return inbox;
  };
  const [rawOff, rawOn] = await Promise.all([rawConnect(plain.url), rawConnect(secured.url, clientCreds)]);
  const onAbort = (): void => {
    const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error("aborted");
    rawOff.close(reason);
    rawOn.close(reason);
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  ctx.defer(() => ctx.signal.removeEventListener("abort", onAbort));

  const calls: Record<Variant, Call> = {
    off: askCall(off.ref<Payload, Payload>("echo", BENCH_KEYS.echo)),
    on: askCall(on.ref<Payload, Payload>("echo", BENCH_KEYS.echo)),
    verified: askCall(on.ref<Payload, Payload>("bench-verified-echo", BENCH_KEYS.verified)),
    rawOff: rawCall(rawOff, rawEcho),
    rawOn: rawCall(rawOn, rawEcho),
  };
  const onPids = { server: secured.pid, responder: onNode };
  const pids: Record<Variant, Processes> = {
    off: { server: plain.pid, responder: offNode },
    on: onPids,
    verified: onPids,
    rawOff: { server: plain.pid, responder: rawOffPid },
    rawOn: { server: secured.pid, responder: rawOnPid },
  };
  return { calls, pids, clientJwtBytes: Buffer.byteLength(client.jwt) };
}

export const securityScenario: Scenario = {
  name: "security",
  title: "The cost of credentials, permissions and verified senders",
  description:
    "A Troupe node in a process of its own hosting echo, asked from the benchmark process through a light client, with the same 128-byte message: on a plain server without credentials, on a secured server with a node and a client credential (permissions enforced by the server, replies to the client's own inbox prefix), and the same client asking an echo that accepts only verified senders; asks with 64 in flight and ask latency (p50, p99) with 1 in flight, on against off and verified against on, beside raw nats.js own-inbox requests to a service in a process of its own on the same two servers with the same credentials; CPU per ask of the server, the responder and the caller.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "How much of Troupe's ask speed survives credentials and server-enforced permissions, and what verified senders add on top.";
    const random = rng(ctx.seed);
    const loadAtStart = loadAverageNow();
    ctx.progress(0, "starting the servers and the responder processes");
    let calls: Record<Variant, Call>;
    let pids: Record<Variant, Processes>;
    let clientJwtBytes: number;
    try {
      ({ calls, pids, clientJwtBytes } = await setUp(ctx));
    } catch (err) {
      return { name: "security", ok: false, summary, metrics: [], error: `could not set up: ${errorText(err)}` };
    }

    const throughputOf = async (call: Call, total: number, onProgress: (f: number) => void): Promise<number> => {
      const every = Math.max(1, Math.floor(total / 100));
      const t0 = performance.now();
      await windowed(total, WINDOW, async (n) => {
        await call(n);
        if (n % every === 0) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          onProgress(n / total);
        }
      });
      return opsPerSecond(total, performance.now() - t0);
    };
    const latencyOf = async (call: Call, count: number, into: number[], onProgress: (f: number) => void): Promise<void> => {
      const every = Math.max(1, Math.floor(count / 100));
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await call(i);
        into.push(msToMicros(performance.now() - t0));
        if (i % every === 0) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          onProgress(i / count);
        }
      }
    };

    // Progress: the warm-up, then one step per measurement.
    const variants = VARIANTS;
    const steps = 1 + sizes.rounds * variants.length * 2;
    let step = 0;
    const phase = (label: string): ((f: number) => void) => {
      const base = step++ / steps;
      ctx.progress(base, label);
      return (f) => ctx.progress(base + Math.min(1, Math.max(0, f)) / steps, label);
    };

    // Every variant warmed up on both ends (connections, JIT, the client's type lookups, the verifier's JWT cache) before anything is measured.
    const onWarm = phase("warm-up");
    for (const [i, v] of variants.entries()) {
      await windowed(sizes.warmupAsks, WINDOW, calls[v]);
      for (let n = 0; n < Math.min(500, sizes.warmupAsks); n++) await calls[v](n);
      onWarm((i + 1) / variants.length);
    }

    const rates = perVariant<number[]>(() => []);
    // CPU used by each process while a variant's asks were in flight, over all its 64-in-flight measurements.
    const cpuMs = perVariant(zeroCpu);
    const latencyUs = perVariant<number[]>(() => []);
    const measurements = variants.flatMap((v) => [{ v, kind: "throughput" as const }, { v, kind: "latency" as const }]);
    for (let round = 0; round < sizes.rounds; round++) {
      const tag = `r${round + 1}`;
      const p50Before = perVariant(() => 0);
      for (const v of variants) p50Before[v] = latencyUs[v].length;
      for (const { v, kind } of shuffled(measurements, random)) {
        if (kind === "throughput") {
          const before = cpuNow(pids[v]);
          rates[v].push(await throughputOf(calls[v], sizes.windowed, phase(`${tag} ${LABEL[v]}, ${WINDOW} in flight`)));
          const after = cpuNow(pids[v]);
          for (const p of PROCESSES) cpuMs[v][p] += after[p] - before[p];
        } else await latencyOf(calls[v], sizes.asks, latencyUs[v], phase(`${tag} ${LABEL[v]}, 1 in flight`));
      }
      const p50 = (v: Variant): number => percentiles(latencyUs[v].slice(p50Before[v])).p50;
      const last = (v: Variant): number => rates[v].at(-1)!;
      ctx.log(
        `${tag}: ${WINDOW} in flight: Troupe off ${formatNumber(last("off"))} asks/s, on ${formatNumber(last("on"))} (on/off ${(last("on") / last("off")).toFixed(3)}), verified ${formatNumber(last("verified"))}` +
          `; raw off ${formatNumber(last("rawOff"))} req/s, on ${formatNumber(last("rawOn"))} (on/off ${(last("rawOn") / last("rawOff")).toFixed(3)})` +
          `; p50: Troupe off ${p50("off").toFixed(0)} µs, on ${p50("on").toFixed(0)}, verified ${p50("verified").toFixed(0)}, raw off ${p50("rawOff").toFixed(0)}, on ${p50("rawOn").toFixed(0)}`,
      );
    }
    ctx.progress(1, "done");
    const loadAtEnd = loadAverageNow();
    ctx.log(`load average (1, 5, 15 min): ${loadAtStart} at the start, ${loadAtEnd} at the end`);

    const lat = perVariant(() => percentiles([]));
    const rate = perVariant(() => 0);
    for (const v of variants) {
      lat[v] = percentiles(latencyUs[v]);
      rate[v] = median(rates[v]);
    }
    const spread = (on: Variant, off: Variant): string => {
      const perRound = rates[on].map((r, i) => r / rates[off][i]!);
      return `median of the rounds' own ratios ${median(perRound).toFixed(3)}, lowest ${Math.min(...perRound).toFixed(3)}, highest ${Math.max(...perRound).toFixed(3)}`;
    };
    const metrics: Metric[] = [
      compare({ name: `asks, ${WINDOW} in flight, security on vs off`, unit: "req/s", better: "higher", troupe: rate.on, baseline: rate.off, minRatio: SECURITY_GOALS.askThroughput }),
      compare({ name: "ask latency p50, security on vs off", unit: "µs", better: "lower", troupe: lat.on.p50, baseline: lat.off.p50, minRatio: SECURITY_GOALS.askLatencyP50 }),
      compare({ name: "ask latency p99, security on vs off", unit: "µs", better: "lower", troupe: lat.on.p99, baseline: lat.off.p99 }),
      compare({ name: `asks, ${WINDOW} in flight, requireVerifiedSender vs security on`, unit: "req/s", better: "higher", troupe: rate.verified, baseline: rate.on }),
      compare({ name: "ask latency p50, requireVerifiedSender vs security on", unit: "µs", better: "lower", troupe: lat.verified.p50, baseline: lat.on.p50 }),
      compare({ name: "ask latency p99, requireVerifiedSender vs security on", unit: "µs", better: "lower", troupe: lat.verified.p99, baseline: lat.on.p99 }),
      compare({ name: `asks, ${WINDOW} in flight, requireVerifiedSender vs security off`, unit: "req/s", better: "higher", troupe: rate.verified, baseline: rate.off }),
      // The same comparison for raw nats.js: what the server's checks cost a service without Troupe.
      compare({ name: `raw nats.js own-inbox requests, ${WINDOW} in flight, security on vs off`, unit: "req/s", better: "higher", troupe: rate.rawOn, baseline: rate.rawOff }),
      compare({ name: "raw nats.js request latency p50, security on vs off", unit: "µs", better: "lower", troupe: lat.rawOn.p50, baseline: lat.rawOff.p50 }),
      compare({ name: `asks, ${WINDOW} in flight, security on: Troupe vs raw own-inbox requests`, unit: "req/s", better: "higher", troupe: rate.on, baseline: rate.rawOn }),
    ];
    // CPU per ask: the work security adds, much less moved by other work on the machine than the wall time.
    const asks = sizes.rounds * sizes.windowed;
    const perAsk = (v: Variant, which: readonly Process[]): number => Number(((which.reduce((sum, p) => sum + cpuMs[v][p], 0) * 1000) / asks).toFixed(1));
    const cpuRows = [
      [PROCESSES, "all three processes"],
      [["server"], "nats-server"],
      [["responder"], "responding process"],
      [["caller"], "calling process"],
    ] as const;
    for (const [v, base, what] of [
      ["on", "off", "Troupe, security on vs off"],
      ["verified", "on", "Troupe, requireVerifiedSender vs security on"],
      ["rawOn", "rawOff", "raw nats.js, security on vs off"],
    ] as const) {
      for (const [which, label] of cpuRows) {
        metrics.push(compare({ name: `CPU per ask, ${WINDOW} in flight, ${label}, ${what}`, unit: "µs", better: "lower", troupe: perAsk(v, which), baseline: perAsk(base, which) }));
      }
    }

    return {
      name: "security",
      ok: true,
      summary,
      metrics,
      latency: [
        {
          title: "Sequential round trip, responder in a process of its own",
          rows: variants.map((v) => ({ label: LABEL[v], unit: "µs", ...lat[v] })),
        },
      ],
      notes: [
        `${sizes.rounds} rounds; within each round the ${variants.length * 2} measurements (${variants.length} variants, ${WINDOW} in flight and 1 in flight) run in an order drawn from the seed; throughputs are the median of the rounds, latencies pool every sample. On/off with ${WINDOW} in flight: Troupe: ${spread("on", "off")}; raw nats.js: ${spread("rawOn", "rawOff")}.`,
        `Two processes for every variant: the responder in a child process, one per server (a Troupe node hosting echo and, with its credential, an echo defined with requireVerifiedSender; a raw nats.js service with a callback subscription), the caller in the benchmark process (a light client; raw own-inbox requests: one \`<inbox prefix>.<id>.*\` subscription and a map); every request carries the same ${PAYLOAD_BYTES}-byte MessagePack map.`,
        "Off: a plain nats-server, node and client without credentials. On: a nats-server that trusts only an operator and an account made for the run (memory resolver), refuses anonymous connections, and checks every publish and subscription against the user JWT's permissions: the node and the raw service hold a `node` credential, the light client and the raw caller a `client` one, whose replies come to inboxes under its own prefix (`_INBOX.<user key>`); the raw service listens on an agent subject, which the credentials grant as they grant Troupe's echo.",
        `Verified: the same client and connection asking the echo that accepts only verified senders: each ask carries the client's user JWT (${formatNumber(clientJwtBytes)} bytes, most of it the role's permissions) and an ed25519 signature over subject and envelope in two NATS headers, beside the ${PAYLOAD_BYTES}-byte message; the client signs each ask and the node checks each signature (the JWT once, then cached).`,
        `CPU per ask: user and system time of the nats-server, the responding process and this process (from /proc, in clock ticks) while a variant's requests were in flight, ${WINDOW} at a time, divided by the requests. It shows where the work security adds lands; it moves with other work on the machine too (fewer messages per system call when the processes wait for a core), less than the rates do. The calling process also runs the benchmark's progress display.`,
        `Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${loadAtEnd}. Other work on the machine moves every figure; the ratios are the thing to read.`,
      ],
    };
  },
};
