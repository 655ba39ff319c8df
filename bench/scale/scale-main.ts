// One run of the `scale` scenario in a process of its own (started by
// scale-child.ts, not meant to be run by hand), so that its heap holds only
// what the run made. It activates N agents one way (`--mode`), measures the
// time, the heap per agent after a full garbage collection (needs
// --expose-gc), and the close, and prints each figure as a JSON line:
//
//   {"phase":"activated","n":N,"done":D,"ms":T}   {"phase":"heap","bytesPerAgent":B}
//   {"phase":"closed","ms":T}                     {"phase":"unsupported","reason":"..."}
//   {"phase":"idle-activated",...}  {"phase":"passivated","n":N,"idleMs":T,"windowMs":T,"lagMs":T}  (on-demand with --idle)
//   {"phase":"passivated-heap","bytesPerAgent":B}  {"phase":"reactivated","n":N,"done":D,"ms":T}
//   {"phase":"done"}  or  {"phase":"error","error":"..."}
//
// Modes: `raw` (nats.js subscriptions and KV creates), `spawned`, `on-demand`.
// It leaves when its parent goes away (stdin closes).
//
//   node --expose-gc scale-main.js --servers URL --mode spawned --n 1000 --concurrency 64 --cap-ms 90000 [--idle]

import { parseArgs } from "node:util";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { startNode, type AgentType, type TroupeNode } from "../../actors/index.js";
import { RAW_CONNECTION_OPTIONS } from "../baselines/raw-nats.js";
import { activateOnDemand, activateSpawned, IDLE_TYPE, ON_DEMAND_TYPE, onDemandAgent, rawActivate, rawDeactivate, spawnedAgent } from "./activate.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    mode: { type: "string" },
    n: { type: "string" },
    concurrency: { type: "string" },
    "cap-ms": { type: "string" },
    idle: { type: "boolean" },
  },
});

const servers = values.servers!;
const mode = values.mode!;
const n = Number(values.n);
const concurrency = Number(values.concurrency ?? 64);
const capMs = Number(values["cap-ms"] ?? 90_000);
/** Agents activated before the measured run, to warm the JIT and the connection. */
const WARMUP = 200;
/** How often the idle pass counts the agents still in memory: often for a few, less for many (a count lists them all). */
const POLL_MS = Math.min(250, Math.max(20, Math.round(n / 400)));

const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
const namespace = `scale${tag}`;

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

const collect = (globalThis as { gc?: () => void }).gc;
/** Heap in use after full collections. */
function heapNow(): number {
  if (!collect) throw new Error("run with --expose-gc");
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

/** An AbortSignal that fires after the cap, for one activation run. */
function capped(): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`cap of ${capMs} ms reached`)), capMs);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

/** Time an activation run of `n`, capped; prints the `phase` line and returns the count done and ms. */
async function timedActivation(phase: string, run: (signal: AbortSignal) => Promise<number>): Promise<{ done: number; ms: number }> {
  const cap = capped();
  const t0 = performance.now();
  const done = await run(cap.signal).finally(() => cap.clear());
  const ms = performance.now() - t0;
  say({ phase, n, done, ms });
  return { done, ms };
}

async function closeTimed(close: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await close();
  say({ phase: "closed", ms: performance.now() - t0 });
}

async function runRaw(): Promise<void> {
  const nc = await connect({ servers, name: "troupe-bench-scale-raw", ...RAW_CONNECTION_OPTIONS });
  const kv = await new Kvm(nc).create(`scale_raw_${tag}`);
  const subjectPrefix = `scale.${tag}.agent`;
  await rawActivate(nc, kv, WARMUP, { concurrency, prefix: "w", subjectPrefix });
  const heap0 = heapNow();
  let subs: Awaited<ReturnType<typeof rawActivate>> = [];
  const { done } = await timedActivation("activated", async (signal) => {
    subs = await rawActivate(nc, kv, n, { concurrency, subjectPrefix, signal });
    return subs.length;
  });
  say({ phase: "heap", bytesPerAgent: (heapNow() - heap0) / Math.max(1, done) });
  await closeTimed(async () => {
    await rawDeactivate(kv, subs, "a", concurrency);
    await nc.drain();
  });
}

async function startScaleNode(agents: AgentType[]): Promise<TroupeNode> {
  return startNode({ servers, namespace, name: `scale-${mode}-${tag}`, agents, failover: false });
}

async function runSpawned(): Promise<void> {
  const node = await startScaleNode([spawnedAgent]);
  await activateSpawned(node, WARMUP, { concurrency, prefix: "w" });
  const heap0 = heapNow();
  const { done } = await timedActivation("activated", (signal) => activateSpawned(node, n, { concurrency, signal }));
  say({ phase: "heap", bytesPerAgent: (heapNow() - heap0) / Math.max(1, done) });
  await closeTimed(() => node.close());
}

/** The on-demand type, or the reason the runtime refuses it. */
function onDemandOrReason(type: string, idleTimeoutMs?: number): AgentType | string {
  try {
    return onDemandAgent(type, idleTimeoutMs);
  } catch (err) {
    return `defineAgent refused activation "on-demand"${idleTimeoutMs === undefined ? "" : " with idleTimeoutMs"}: ${errorText(err)}`;
  }
}

/** Whether an ask to an agent that does not run yet is answered (the runtime activates it), or why not. */
async function probe(node: TroupeNode, type: string): Promise<string | undefined> {
  try {
    await node.ref(type, "probe").ask("hello", { timeoutMs: 5_000 });
    return undefined;
  } catch (err) {
    return `an ask to an on-demand agent that was not running failed: ${errorText(err)}`;
  }
}

async function runOnDemand(): Promise<void> {
  const def = onDemandOrReason(ON_DEMAND_TYPE);
  if (typeof def === "string") return say({ phase: "unsupported", reason: def });
  const node = await startScaleNode([def]);
  const refused = await probe(node, ON_DEMAND_TYPE);
  if (refused) {
    await node.close();
    return say({ phase: "unsupported", reason: refused });
  }
  await activateOnDemand(node, WARMUP, { concurrency, prefix: "w" });
  const heap0 = heapNow();
  const { done, ms } = await timedActivation("activated", (signal) => activateOnDemand(node, n, { concurrency, signal }));
  say({ phase: "heap", bytesPerAgent: (heapNow() - heap0) / Math.max(1, done) });
  await closeTimed(() => node.close());
  if (values.idle) await runIdle(ms);
}

/**
 * Passivation and reactivation: agents with an idle timeout twice as long as
 * activating them took (so none leaves before the last arrives), counted in
 * memory until all have left, then each asked again.
 */
async function runIdle(activationMs: number): Promise<void> {
  const idleMs = Math.max(1_000, Math.ceil(2 * activationMs));
  const def = onDemandOrReason(IDLE_TYPE, idleMs);
  if (typeof def === "string") return say({ phase: "passivation-unsupported", reason: def });
  const node = await startScaleNode([def]);
  const heap0 = heapNow();
  const started = performance.now();
  const { done } = await timedActivation("idle-activated", (signal) => activateOnDemand(node, n, { concurrency, type: IDLE_TYPE, signal }));
  // The idle timers fall due between these two moments, in the order the agents were activated.
  const firstDue = started + idleMs;
  const lastDue = performance.now() + idleMs;
  const deadline = lastDue + capMs;
  let left = done;
  while (left > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = (await node.list()).length;
  }
  if (left > 0) {
    say({ phase: "passivation-unsupported", reason: `${left} of ${done} agents were still in memory ${Math.round(capMs / 1000)} s after the last idle timeout (${idleMs} ms) fell due` });
  } else {
    const gone = performance.now();
    say({ phase: "passivated", n: done, idleMs, windowMs: gone - firstDue, lagMs: gone - lastDue, pollMs: POLL_MS });
    say({ phase: "passivated-heap", bytesPerAgent: (heapNow() - heap0) / Math.max(1, done) });
    await timedActivation("reactivated", (signal) => activateOnDemand(node, n, { concurrency, type: IDLE_TYPE, signal }));
  }
  await node.close();
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

try {
  if (!(n > 0)) throw new Error(`--n must be a positive count, got ${values.n}`);
  if (mode === "raw") await runRaw();
  else if (mode === "spawned") await runSpawned();
  else if (mode === "on-demand") await runOnDemand();
  else throw new Error(`unknown --mode ${mode}`);
  say({ phase: "done" });
} catch (err) {
  say({ phase: "error", error: errorText(err) });
  process.exitCode = 1;
}
process.exit();
