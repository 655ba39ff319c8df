// What `agentctl top` shows, worked out from two listings of the namespace
// taken some time apart: one row per agent with its message rate, the header
// totals, which agents are failing, the sort order and the filter. Pure
// functions: the live view (top-view.ts) and `top --once` print the same frame.

import type { AgentInfo } from "../actors/index.js";
import { formatDuration, renderTable } from "./output.js";

/** One listing of the namespace, and when it was answered (ms). */
export interface TopSample {
  at: number;
  agents: readonly AgentInfo[];
  nodes: readonly string[];
  unreachable: readonly string[];
}

/** The orders `s` cycles through, in that order. */
export const TopSort = {
  Node: "node",
  Rate: "rate",
  Mailbox: "mailbox",
  Restarts: "restarts",
  P99: "p99",
  Agent: "agent",
} as const;
export type TopSort = (typeof TopSort)[keyof typeof TopSort];
export const TOP_SORTS: readonly TopSort[] = Object.values(TopSort);

/** The sort after `sort`, as `s` moves on. */
export function nextSort(sort: TopSort): TopSort {
  return TOP_SORTS[(TOP_SORTS.indexOf(sort) + 1) % TOP_SORTS.length]!;
}

/** How long an agent stays marked after its restarts or failures last rose. */
export const FAILING_MARK_MS = 10_000;

/** One agent's row. */
export interface TopRow {
  id: string;
  node: string;
  state: string;
  /** Messages per second since the previous listing; null for an agent not in it. */
  rate: number | null;
  mailbox: number;
  restarts: number;
  p99Ms: number | null;
  uptimeMs: number;
  running: boolean;
  failing: boolean;
}

/** A frame: the header line, and the rows in their order. */
export interface TopFrame {
  header: string;
  rows: TopRow[];
  warnings: string[];
}

/** When each agent's restarts or failures last rose (carried from frame to frame by the live view). */
export type RiseMarks = Map<string, number>;

/** The states in which an agent is failing whatever its counters say. */
const FAILING_STATES = new Set(["failed", "restarting"]);

/**
 * The frame for `cur`, with rates against `prev` (undefined for the first listing).
 * `marks` is updated: an agent whose restarts or failures rose is marked for {@link FAILING_MARK_MS}.
 */
export function topFrame(
  cur: TopSample,
  prev: TopSample | undefined,
  opts: { sort: TopSort; filter?: string; namespace: string; marks?: RiseMarks },
): TopFrame {
  const before = new Map<string, AgentInfo>();
  for (const a of prev?.agents ?? []) before.set(a.id, a);
  const elapsedS = prev ? (cur.at - prev.at) / 1000 : 0;
  const marks = opts.marks ?? new Map<string, number>();
  const rows: TopRow[] = [];
  let total = 0;
  const seen = new Set<string>();
  for (const a of cur.agents) {
    seen.add(a.id);
    const p = before.get(a.id);
    let rate: number | null = null;
    if (p && elapsedS > 0) {
      // Counters start again on another node (after a failover): count from zero there.
      const delta = a.handled >= p.handled ? a.handled - p.handled : a.handled;
      rate = delta / elapsedS;
      total += rate;
    }
    if (p && (a.restarts > p.restarts || a.failures > p.failures)) marks.set(a.id, cur.at);
    const markedAt = marks.get(a.id);
    const rose = markedAt !== undefined && cur.at - markedAt < FAILING_MARK_MS;
    rows.push({
      id: a.id,
      node: a.node,
      state: a.state,
      rate,
      mailbox: a.mailbox,
      restarts: a.restarts,
      p99Ms: a.handlingP99Ms ?? null,
      uptimeMs: a.uptimeMs,
      running: a.state === "running" || a.state === "awaitingApproval",
      failing: FAILING_STATES.has(a.state) || rose,
    });
  }
  // Marks of agents that are gone, or long past, are dropped.
  for (const [id, at] of marks) if (!seen.has(id) || cur.at - at >= FAILING_MARK_MS) marks.delete(id);
  const filter = opts.filter?.trim();
  const shown = filter ? rows.filter((r) => r.id.includes(filter) || r.node.includes(filter)) : rows;
  shown.sort(comparator(opts.sort));
  const failing = rows.filter((r) => r.failing).length;
  const header =
    `namespace ${opts.namespace}: ${count(cur.nodes.length, "node")}, ${count(rows.length, "agent")}` +
    `${failing > 0 ? `, ${failing} failing` : ""}, ${prev ? formatRate(total) : "-"} msg/s` +
    ` · sort: ${opts.sort}${filter ? ` · filter: ${filter}` : ""}`;
  const warnings = cur.unreachable.map((n) => `node ${n} did not answer; its agents are not listed`);
  return { header, rows: shown, warnings };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const byId = (a: TopRow, b: TopRow): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const desc = (f: (r: TopRow) => number | null) => (a: TopRow, b: TopRow): number => (f(b) ?? -1) - (f(a) ?? -1) || byId(a, b);

function comparator(sort: TopSort): (a: TopRow, b: TopRow) => number {
  switch (sort) {
    case TopSort.Node:
      return (a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : byId(a, b));
    case TopSort.Rate:
      return desc((r) => r.rate);
    case TopSort.Mailbox:
      return desc((r) => r.mailbox);
    case TopSort.Restarts:
      return desc((r) => r.restarts);
    case TopSort.P99:
      return desc((r) => r.p99Ms);
    case TopSort.Agent:
      return byId;
  }
}

/** Column headers; the first (unnamed) holds `!` for a failing agent. */
export const TOP_HEADERS = ["", "AGENT", "NODE", "STATE", "MSG/S", "MAILBOX", "RESTARTS", "P99", "UPTIME"] as const;

/** A rate for people: `0`, `0.5`, `12.3`, `1,234`. */
export function formatRate(rate: number): string {
  if (rate === 0) return "0";
  if (rate < 100) return rate.toFixed(1);
  return Math.round(rate).toLocaleString("en-US");
}

/** A handling time for people: `0.05ms`, `1.2ms`, `35ms`, `1.5s`; `-` when none. */
export function formatMs(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1) return `${ms.toFixed(2)}ms`;
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The cells of a row, as {@link TOP_HEADERS} names them. */
export function rowCells(r: TopRow): string[] {
  return [
    r.failing ? "!" : "",
    r.id,
    r.node,
    r.state,
    r.rate === null ? "-" : formatRate(r.rate),
    String(r.mailbox),
    String(r.restarts),
    formatMs(r.p99Ms),
    r.running ? formatDuration(r.uptimeMs) : "-",
  ];
}

/**
 * The frame as plain lines: the header, the warnings, then the aligned table
 * (or a line saying there are no agents). Line i + offset of the table is row i.
 */
export function frameLines(frame: TopFrame): { lines: string[]; firstRow: number } {
  const head = [frame.header, ...frame.warnings.map((w) => `warning: ${w}`), ""];
  if (frame.rows.length === 0) return { lines: [...head, "no agents"], firstRow: head.length + 1 };
  const table = renderTable(TOP_HEADERS, frame.rows.map(rowCells)).split("\n");
  return { lines: [...head, ...table], firstRow: head.length + 1 };
}
