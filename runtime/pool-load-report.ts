// A node's load report for the members of one pool that it hosts: per member,
// its index, its queue (mailbox depth plus the message in hand) and the
// messages it handled. MessagePack `{ v: 1, node, members: [[index, queue, handled], ...] }`.
// Reports come from the wire: decoding checks every field and returns undefined
// for anything else.

import { decodeValue, encodeValue } from "./codec.js";
import { MAX_POOL_MEMBERS } from "./pool-options.js";

/** One member in a load report. */
export interface MemberLoadReport {
  readonly index: number;
  /** Messages waiting in its mailbox plus the one it is handling. */
  readonly queue: number;
  /** Messages it handled in its current host (as `agentctl ps` counts them). */
  readonly handled: number;
}

/** What one node reports about one pool. */
export interface PoolLoadReport {
  readonly node: string;
  readonly members: readonly MemberLoadReport[];
}

const VERSION = 1;

export function encodeLoadReport(report: PoolLoadReport): Uint8Array {
  return encodeValue({ v: VERSION, node: report.node, members: report.members.map((m) => [m.index, m.queue, m.handled]) });
}

/** Decode and check a report; undefined when it is not one. */
export function decodeLoadReport(data: Uint8Array): PoolLoadReport | undefined {
  let value: unknown;
  try {
    value = decodeValue(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const { v, node, members } = value as { v?: unknown; node?: unknown; members?: unknown };
  if (v !== VERSION || typeof node !== "string" || node.length === 0 || node.length > 128) return undefined;
  if (!Array.isArray(members) || members.length > MAX_POOL_MEMBERS) return undefined;
  const out: MemberLoadReport[] = [];
  for (const m of members) {
    if (!Array.isArray(m) || m.length !== 3) return undefined;
    const [index, queue, handled] = m as unknown[];
    if (!count(index) || (index as number) >= MAX_POOL_MEMBERS || !count(queue) || !count(handled)) return undefined;
    out.push({ index: index as number, queue: queue as number, handled: handled as number });
  }
  return { node, members: out };
}

function count(x: unknown): boolean {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
