// The `durable` scenario's chaos, planned up front from the run's seed: which
// kills (a node process, or the nats-server) come in which order, and when.

import { rng } from "../random.js";

/** What is killed: a node process (SIGKILL, started again later) or the nats-server (SIGKILL, restarted on the same store). */
export const DurableKill = { Node: "node", Server: "server" } as const;
export type DurableKill = (typeof DurableKill)[keyof typeof DurableKill];

export interface DurableStrike {
  kind: DurableKill;
  /** When, in ms after the load started. */
  atMs: number;
}

/**
 * `nodeKills` node kills and `serverKills` server kills in a seeded order, the
 * first at `firstMs`, then one every `gapMs` plus up to `jitterMs`.
 *
 * @example
 * durableChaosPlan({ seed: 7, nodeKills: 1, serverKills: 1, firstMs: 3000, gapMs: 8000, jitterMs: 1000 })
 * // [{ kind: "server", atMs: 3412 }, { kind: "node", atMs: 12051 }]
 */
export function durableChaosPlan(o: { seed: number; nodeKills: number; serverKills: number; firstMs: number; gapMs: number; jitterMs: number }): DurableStrike[] {
  const r = rng(o.seed);
  const kinds: DurableKill[] = [...Array<DurableKill>(o.nodeKills).fill(DurableKill.Node), ...Array<DurableKill>(o.serverKills).fill(DurableKill.Server)];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  let at = o.firstMs;
  return kinds.map((kind, i) => {
    if (i > 0) at += o.gapMs;
    return { kind, atMs: at + r.int(0, o.jitterMs) };
  });
}
