// How the `scale` scenario brings N agents to life on one node, three ways:
// spawned (node.spawn per key), on demand (a first ask to node.ref(type, key)
// of an agent whose type is defined with `activation: "on-demand"`), and the
// raw nats.js baseline that does the wire work of an activation by hand (a
// subscription on the agent's subject and a KV create of its registry key).
// Each runs `concurrency` operations at a time.

import type { Subscription } from "@nats-io/nats-core";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { defineAgent, type AgentType, type TroupeNode } from "../../actors/index.js";

/** The key of the i-th agent of a run. */
export const scaleKey = (prefix: string, i: number): string => `${prefix}${i}`;

/** The type the spawned runs start: it keeps no state and answers "ok". */
export const SPAWNED_TYPE = "scale-spawned";
/** The on-demand type: activated by its first message, never passivated. */
export const ON_DEMAND_TYPE = "scale-on-demand";
/** The on-demand type that is passivated after an idle time. */
export const IDLE_TYPE = "scale-idle";

/** The agent the spawned runs start. */
export const spawnedAgent: AgentType = defineAgent({ type: SPAWNED_TYPE, persist: false, receive: () => "ok" });

/**
 * An on-demand agent type (passivated after `idleTimeoutMs` when given).
 * Throws what defineAgent throws when the runtime refuses the options.
 */
export function onDemandAgent(type: string, idleTimeoutMs?: number): AgentType {
  // Spread in untyped, so this compiles against a runtime that does not know the options yet (it then ignores or refuses them).
  const activation: object = { activation: "on-demand", ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) };
  return defineAgent({ type, persist: false, receive: () => "ok", ...activation });
}

/** What every activation run takes. */
export interface ActivateOptions {
  concurrency: number;
  /** Keys are `<prefix><i>` (default "a"). */
  prefix?: string;
  /** Stop starting new operations once this is aborted (the count done so far is returned). */
  signal?: AbortSignal;
}

/**
 * Run `op(i)` for i in [0, n), `concurrency` at a time; returns how many
 * finished (fewer than n only when `signal` was aborted). The first failure
 * stops the run and is thrown.
 */
export async function inParallel(n: number, concurrency: number, op: (i: number) => Promise<unknown>, signal?: AbortSignal): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < n && !signal?.aborted) {
      await op(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return done;
}

/** Spawn `n` agents of `type` on `node`; returns how many were spawned. */
export function activateSpawned(node: TroupeNode, n: number, o: ActivateOptions & { type?: string }): Promise<number> {
  const type = o.type ?? SPAWNED_TYPE;
  const prefix = o.prefix ?? "a";
  return inParallel(n, o.concurrency, (i) => node.spawn(type, { key: scaleKey(prefix, i) }), o.signal);
}

/**
 * Activate `n` on-demand agents by their first message: an ask to
 * `node.ref(type, key)` for each key. Returns how many answered.
 */
export function activateOnDemand(node: TroupeNode, n: number, o: ActivateOptions & { type?: string; timeoutMs?: number }): Promise<number> {
  const type = o.type ?? ON_DEMAND_TYPE;
  const prefix = o.prefix ?? "a";
  const timeoutMs = o.timeoutMs ?? 30_000;
  return inParallel(n, o.concurrency, (i) => node.ref(type, scaleKey(prefix, i)).ask("hello", { timeoutMs }), o.signal);
}

/**
 * The raw baseline of `n` activations: per agent a subscription (a callback
 * that drops what it gets) on its own subject, then a KV create of its key,
 * as a careful nats.js user would register a worker by hand. Returns the
 * subscriptions (the caller closes them).
 */
export async function rawActivate(nc: NatsConnection, kv: KV, n: number, o: ActivateOptions & { subjectPrefix: string }): Promise<Subscription[]> {
  const prefix = o.prefix ?? "a";
  const subs: Subscription[] = [];
  const value = new Uint8Array(32);
  await inParallel(
    n,
    o.concurrency,
    async (i) => {
      const key = scaleKey(prefix, i);
      subs.push(nc.subscribe(`${o.subjectPrefix}.${key}`, { callback: () => {} }));
      await kv.create(key, value);
    },
    o.signal,
  );
  return subs;
}

/** The raw baseline of closing: every subscription dropped and every key deleted, `concurrency` at a time. */
export async function rawDeactivate(kv: KV, subs: Subscription[], prefix: string, concurrency: number): Promise<void> {
  await inParallel(subs.length, concurrency, async (i) => {
    subs[i]!.unsubscribe();
    await kv.delete(scaleKey(prefix, i));
  });
}
