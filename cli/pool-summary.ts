// The pools among the agents `agentctl ps` lists: agents whose key is a pool
// member's (`<name>-<i>`) grouped by type and pool name, with the messages
// each member handled, so the distribution of a pool's work shows at a glance.

import type { AgentInfo } from "../actors/index.js";
import { parsePoolMember } from "../runtime/pool-member.js";

/** One pool as ps shows it. */
export interface PoolSummary {
  /** `<type>/<name>`. */
  pool: string;
  members: number;
  handled: number;
  /** Member key -> messages it handled, in index order. */
  perMember: Record<string, number>;
}

/** An agent row of `ps --json`, with its pool when its key is a pool member's. */
export type PsAgent = AgentInfo & { pool?: string; poolIndex?: number };

/** The agents, each member of a pool marked with `pool` (`<type>/<name>`) and `poolIndex`. */
export function withPools(agents: readonly AgentInfo[]): PsAgent[] {
  return agents.map((a) => {
    const p = parsePoolMember(a.key);
    return p ? { ...a, pool: `${a.type}/${p.name}`, poolIndex: p.index } : a;
  });
}

/** The pools among the agents, by name. */
export function poolSummaries(agents: readonly AgentInfo[]): PoolSummary[] {
  const pools = new Map<string, Map<string, { index: number; key: string; handled: number }>>();
  for (const a of withPools(agents)) {
    // A row the root supervisor gave up on is no member; a member listed twice (on two nodes while it moves) counts once.
    if (a.pool === undefined || a.state === "failed") continue;
    let members = pools.get(a.pool);
    if (!members) pools.set(a.pool, (members = new Map()));
    const seen = members.get(a.key);
    if (!seen || a.handled > seen.handled) members.set(a.key, { index: a.poolIndex!, key: a.key, handled: a.handled });
  }
  return [...pools.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([pool, members]) => {
      const list = [...members.values()].sort((a, b) => a.index - b.index);
      return {
        pool,
        members: list.length,
        handled: list.reduce((n, m) => n + m.handled, 0),
        perMember: Object.fromEntries(list.map((m) => [m.key, m.handled])),
      };
    });
}

/** One line per pool: `pool worker/w: 3 members, 120 handled (w-0 40, w-1 41, w-2 39)`. */
export function poolLines(summaries: readonly PoolSummary[]): string[] {
  return summaries.map((s) => {
    const parts = Object.entries(s.perMember).map(([key, n]) => `${key} ${n}`);
    return `pool ${s.pool}: ${s.members} member${s.members === 1 ? "" : "s"}, ${s.handled} handled (${parts.join(", ")})`;
  });
}
