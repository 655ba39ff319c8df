// The record of where and when each activation of an agent ran, written by the
// node processes of the `cluster` scenario (one JSON line per start and stop,
// appended synchronously so a SIGKILL loses nothing written before it) and
// read back by the bench to find agents that ran twice at once. Everything
// here runs on one machine, so the processes share one wall clock.

import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** What an activation record says happened. */
export const ActivationEvent = { Start: "start", Stop: "stop" } as const;
export type ActivationEvent = (typeof ActivationEvent)[keyof typeof ActivationEvent];

/** One line of an activation log. */
export interface ActivationRecord {
  ev: ActivationEvent;
  /** The agent's key. */
  key: string;
  /** This activation's id, unique across processes. */
  act: string;
  /** The node it runs on. */
  node: string;
  /** Wall clock (ms since the epoch) in the writing process. */
  at: number;
}

/** One activation's lifetime, as the logs tell it. */
export interface ActivationSpan {
  key: string;
  act: string;
  node: string;
  startAt: number;
  /** When it stopped, its process died, or (still running) the time of the check. */
  endAt: number;
  /** How the end is known. */
  ended: "stopped" | "process-died" | "running";
}

/** Two activations of one agent alive at the same time. */
export interface ActivationOverlap {
  key: string;
  first: ActivationSpan;
  second: ActivationSpan;
  /** How long both were alive, ms. */
  overlapMs: number;
}

/** Append one record to `file` (synchronously: it is on disk before the call returns, whatever happens to the process next). */
export function appendActivation(file: string, record: ActivationRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** The records of one log file, skipping a torn last line; none when the file does not exist. */
export function readActivationLog(file: string): ActivationRecord[] {
  if (!existsSync(file)) return [];
  const out: ActivationRecord[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as Partial<ActivationRecord>;
      if ((r.ev === ActivationEvent.Start || r.ev === ActivationEvent.Stop) && typeof r.key === "string" && typeof r.act === "string" && typeof r.node === "string" && typeof r.at === "number") {
        out.push(r as ActivationRecord);
      }
    } catch {
      // a line cut short by a kill
    }
  }
  return out;
}

/** One process's log, and when that process died (wall clock), if it did. */
export interface ProcessLog {
  records: readonly ActivationRecord[];
  diedAt?: number;
}

/**
 * Each activation's lifetime: from its start record to its stop record, or to
 * its process's death, or (neither) to `now`.
 *
 * @example
 * activationSpans([{ records, diedAt: 1_700_000_005_000 }], Date.now())
 */
export function activationSpans(logs: readonly ProcessLog[], now: number): ActivationSpan[] {
  const spans: ActivationSpan[] = [];
  for (const log of logs) {
    const stops = new Map<string, number>();
    for (const r of log.records) if (r.ev === ActivationEvent.Stop) stops.set(r.act, r.at);
    for (const r of log.records) {
      if (r.ev !== ActivationEvent.Start) continue;
      const stoppedAt = stops.get(r.act);
      const span = { key: r.key, act: r.act, node: r.node, startAt: r.at };
      if (stoppedAt !== undefined) spans.push({ ...span, endAt: stoppedAt, ended: "stopped" });
      else if (log.diedAt !== undefined) spans.push({ ...span, endAt: log.diedAt, ended: "process-died" });
      else spans.push({ ...span, endAt: now, ended: "running" });
    }
  }
  return spans;
}

/**
 * Every pair of activations of one agent whose lifetimes overlap (one started
 * before the other ended). An activation that ends at the very moment the
 * next starts does not overlap it.
 *
 * @example
 * overlaps(activationSpans(logs, Date.now())).length // 0 when no agent ran twice
 */
export function overlaps(spans: readonly ActivationSpan[]): ActivationOverlap[] {
  const byKey = new Map<string, ActivationSpan[]>();
  for (const s of spans) {
    const list = byKey.get(s.key);
    if (list) list.push(s);
    else byKey.set(s.key, [s]);
  }
  const out: ActivationOverlap[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.startAt - b.startAt);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (b.startAt >= a.endAt) break; // sorted by start: every later one starts later still
        out.push({ key, first: a, second: b, overlapMs: Math.min(a.endAt, b.endAt) - b.startAt });
      }
    }
  }
  return out;
}
