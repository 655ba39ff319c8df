// Ask load for the chaos scenarios: a fixed window of asks in flight to a set
// of counter agents, each ask an increment. Every ask is accounted for: it is
// answered (the increment is acknowledged), fails with a typed error that says
// it was not applied, times out (unknown: it may have been applied), or hangs
// (neither settled within its timeout plus a grace period, which must never happen).
// The ledger then checks each counter's final value against what was acknowledged.

import type { Rng } from "./random.js";
import type { Timeline } from "./timeline.js";

/**
 * Errors whose ask was certainly not applied: the failing message itself
 * (RemoteError: state commits only after success), nobody listening
 * (AgentNotFoundError), answered without being handled, a lost
 * compare-and-set, a full mailbox, a rejected message, a failed publish.
 * Anything else, a timeout first of all, leaves the ask "unknown".
 */
export const NOT_APPLIED: ReadonlySet<string> = new Set([
  "RemoteError",
  "AgentNotFoundError",
  "AgentStoppedError",
  "AgentFencedError",
  "MailboxFullError",
  "InvalidMessageError",
  "NotConnectedError",
]);

/** What happened to the increments sent to one counter. */
export interface CounterLedger {
  sent: number;
  /** Answered with a count: applied and committed. */
  acked: number;
  /** Failed with an error from {@link NOT_APPLIED}. */
  notApplied: number;
  /** Timed out, hung, or failed otherwise: may or may not have been applied. */
  unknown: number;
  /** The counts the acknowledged increments were answered with. */
  values: number[];
}

/** The verdict on the counters after a run. */
export interface CountCheck {
  counters: number;
  /** Sum over counters of acknowledged − final, where positive: acknowledged increments that are gone. */
  lost: number;
  /** Sum over counters of final − acknowledged − unknown, where positive: increments applied though reported as not applied. */
  phantom: number;
  /** Acknowledged increments answered with a count another acknowledged increment of the same counter also got. */
  repeated: number;
  /** Counters whose final value could not be read. */
  unreadable: number;
  acked: number;
  unknown: number;
  /** Sum of the final values read. */
  final: number;
}

/**
 * Checks final counts against a ledger: nothing acknowledged may be lost,
 * nothing reported as not applied may have been applied, and every
 * acknowledged count is distinct (two increments never saw the same count).
 *
 * @example
 * checkCounts(load.ledger, new Map([["c1", 7]]))   // { lost: 0, phantom: 0, ... } when 7 ≥ acked and 7 ≤ acked + unknown
 */
export function checkCounts(ledger: ReadonlyMap<string, CounterLedger>, finals: ReadonlyMap<string, number | undefined>): CountCheck {
  const out: CountCheck = { counters: 0, lost: 0, phantom: 0, repeated: 0, unreadable: 0, acked: 0, unknown: 0, final: 0 };
  const keys = new Set([...ledger.keys(), ...finals.keys()]);
  for (const key of keys) {
    out.counters++;
    const l = ledger.get(key) ?? emptyLedger();
    out.acked += l.acked;
    out.unknown += l.unknown;
    out.repeated += l.values.length - new Set(l.values).size;
    const final = finals.get(key);
    if (final === undefined) {
      out.unreadable++;
      continue;
    }
    out.final += final;
    out.lost += Math.max(0, l.acked - final);
    out.phantom += Math.max(0, final - l.acked - l.unknown);
  }
  return out;
}

export function emptyLedger(): CounterLedger {
  return { sent: 0, acked: 0, notApplied: 0, unknown: 0, values: [] };
}

/** The name an error is counted under: its class name (`AskTimeoutError`), or "Error". */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name || "Error" : typeof err;
}

export interface AskLoadOptions {
  /** Asks kept in flight. */
  window: number;
  /** The counters, by key. */
  keys: readonly string[];
  /** Send one increment to `key`; resolves with the count it produced. */
  ask(key: string): Promise<unknown>;
  /** The ask's own timeout, ms; an ask not settled by `timeoutMs + graceMs` is hung. */
  timeoutMs: number;
  graceMs: number;
  /** Chooses the counter of each ask. */
  random: Rng;
  /** Counts each answer, for throughput over time. */
  timeline?: Timeline;
  /** Pause of a lane after an error, so a lane does not spin on immediate failures (default 20 ms). */
  pauseAfterErrorMs?: number;
  /** Called for each answer with the `performance.now()` times it was sent and answered. */
  onAnswer?(key: string, sentAt: number, answeredAt: number): void;
}

type Outcome = { kind: "value"; value: unknown } | { kind: "error"; error: unknown } | { kind: "hung" };

/**
 * Runs `window` lanes, each sending one ask at a time to a random counter
 * until stopped, and accounts for every ask.
 *
 * @example
 * const load = new AskLoad({ window: 64, keys, ask: (k) => ref(k).ask({ op: "inc" }), timeoutMs: 5000, graceMs: 2000, random: rng(1) });
 * load.start(); await sleep(5000); await load.stop();
 * load.answered; load.errors; load.hung; checkCounts(load.ledger, finals);
 */
export class AskLoad {
  sent = 0;
  answered = 0;
  hung = 0;
  /** Errors by name. */
  readonly errors = new Map<string, number>();
  readonly ledger = new Map<string, CounterLedger>();
  #stopped = true;
  #lanes: Promise<void>[] = [];

  constructor(private readonly o: AskLoadOptions) {
    for (const k of o.keys) this.ledger.set(k, emptyLedger());
  }

  /** Start the lanes (again, after a stop). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#lanes = Array.from({ length: this.o.window }, () => this.#lane());
  }

  /** Stop sending; resolves when every ask in flight has settled or been counted as hung. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#lanes);
    this.#lanes = [];
  }

  /** Errors of every name, summed. */
  get errorCount(): number {
    let n = 0;
    for (const c of this.errors.values()) n += c;
    return n;
  }

  async #lane(): Promise<void> {
    const { keys, random } = this.o;
    const pause = this.o.pauseAfterErrorMs ?? 20;
    while (!this.#stopped) {
      const key = keys[random.int(0, keys.length - 1)]!;
      const entry = this.ledger.get(key)!;
      this.sent++;
      entry.sent++;
      const sentAt = performance.now();
      const outcome = await settleWithin(this.o.ask(key), this.o.timeoutMs + this.o.graceMs);
      if (outcome.kind === "value") {
        if (typeof outcome.value !== "number") {
          this.#error("UnexpectedAnswer", entry);
          continue;
        }
        this.answered++;
        entry.acked++;
        entry.values.push(outcome.value);
        this.o.timeline?.record();
        this.o.onAnswer?.(key, sentAt, performance.now());
      } else if (outcome.kind === "error") {
        const name = errorName(outcome.error);
        this.#error(name, entry);
        await sleep(pause);
      } else {
        this.hung++;
        entry.unknown++;
      }
    }
  }

  #error(name: string, entry: CounterLedger): void {
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
    if (NOT_APPLIED.has(name)) entry.notApplied++;
    else entry.unknown++;
  }
}

/** The outcome of `p`, or "hung" when it has not settled within `ms`. */
function settleWithin(p: Promise<unknown>, ms: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: "hung" }), ms);
    p.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: "value", value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: "error", error });
      },
    );
  });
}

/** Resolves after `ms`; rejects at once when `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

/** "AskTimeoutError 3, RemoteError 12" (largest first), or "none". */
export function formatErrors(errors: ReadonlyMap<string, number>): string {
  if (errors.size === 0) return "none";
  return [...errors.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
}
