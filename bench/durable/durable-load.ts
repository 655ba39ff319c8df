// The sender of the `durable` scenario: a steady stream of durable tells at a
// fixed rate (each with an id of its own, `t<n>`), and a few lanes of asks
// (each with an idempotency key, `a<n>`), to a set of ledgers. Every
// increment carries its number `n`, unique per ledger. A tell rejected with
// an error is not acknowledged: it is sent again with the same id until it is.
// An ask that times out or fails is sent again with the same key; when the
// answer names an earlier try than the one it answers, it came from the
// stored outcome. A send that settles neither way within its timeout plus a
// grace period is hung (it must never be).

import { AskTimeoutError, RemoteError, type AgentRef } from "../../actors/index.js";
import { errorName, sleep } from "../ask-load.js";
import type { Timeline } from "../timeline.js";
import type { LedgerBook } from "./ledger-check.js";
import type { IncReply, LedgerMsg } from "./ledger-agent.js";

export interface DurableLoadOptions {
  /** The ledgers, by key. */
  refs: ReadonlyMap<string, AgentRef<LedgerMsg>>;
  tellsPerSec: number;
  /** Tells outstanding at most (the rate is not kept beyond it). */
  tellWindow: number;
  askLanes: number;
  askTimeoutMs: number;
  /** A send not settled by its timeout plus this is hung. */
  graceMs: number;
  /** After {@link DurableLoad.stop}, how long sends still unacknowledged are tried again before they are given up. */
  settleMs: number;
  /** Counts each acknowledged increment. */
  timeline?: Timeline;
}

/** How long a tell may take before it is hung: the sender's retries take up to about 13 s when JetStream does not answer. */
const TELL_HUNG_MS = 30_000;
/** Pause before a send is tried again after an error. */
const RETRY_PAUSE_MS = 50;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { hung: true };

/** Runs the sends; see the file comment. */
export class DurableLoad {
  readonly books = new Map<string, LedgerBook>();
  tellsSent = 0;
  /** Tells sent again with the same id after an error, by error name. */
  readonly tellRetries = new Map<string, number>();
  tellsHung = 0;
  /** Tells still unacknowledged when the settling time ran out. */
  tellsGivenUp = 0;
  asksSent = 0;
  askTries = 0;
  /** Asks sent again with the same key, by the error of the try before. */
  readonly askRetries = new Map<string, number>();
  /** Retried asks whose answer was the stored outcome of an earlier try. */
  asksFromOutcome = 0;
  asksHung = 0;
  /** Asks that failed for good (RemoteError: the ledger refused it), or were given up at the end. */
  asksFailed = 0;
  asksGivenUp = 0;
  /** The first few asks given up: `key:n` with their tries and when the first was sent (ms after start). */
  readonly givenUpExamples: string[] = [];
  /** Answers that did not name the ask's own number (must be 0). */
  wrongAnswers = 0;
  #stopping = false;
  #giveUpAt = Infinity;
  #outstanding = new Set<Promise<void>>();
  #ticker: Promise<void> | undefined;
  #lanes: Promise<void>[] = [];
  #keys: string[];
  #next = 0;
  #t0 = 0;

  constructor(private readonly o: DurableLoadOptions) {
    this.#keys = [...o.refs.keys()];
    for (const k of this.#keys) this.books.set(k, { next: 0, tellsAcked: new Set(), asksAnswered: new Set() });
  }

  get tellsAcked(): number {
    let n = 0;
    for (const b of this.books.values()) n += b.tellsAcked.size;
    return n;
  }

  get asksAnswered(): number {
    let n = 0;
    for (const b of this.books.values()) n += b.asksAnswered.size;
    return n;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#ticker = this.#tick();
    for (let i = 0; i < this.o.askLanes; i++) this.#lanes.push(this.#askLane());
  }

  /** Stop sending new increments; wait for those under way (tried again for up to `settleMs`). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#giveUpAt = performance.now() + this.o.settleMs;
    await this.#ticker;
    await Promise.all(this.#lanes);
    while (this.#outstanding.size > 0) await Promise.all([...this.#outstanding]);
  }

  /** The next ledger, round robin, and a fresh number for it. */
  #take(): { key: string; n: number } {
    const key = this.#keys[this.#next++ % this.#keys.length]!;
    const book = this.books.get(key)!;
    return { key, n: book.next++ };
  }

  async #tick(): Promise<void> {
    const t0 = performance.now();
    let started = 0;
    while (!this.#stopping) {
      const due = Math.floor(((performance.now() - t0) * this.o.tellsPerSec) / 1000);
      while (started < due && this.#outstanding.size < this.o.tellWindow) {
        started++;
        const p = this.#tell().finally(() => this.#outstanding.delete(p));
        this.#outstanding.add(p);
      }
      // Behind by more than the window allows: do not build a burst to catch up.
      if (started < due) started = due;
      await sleep(5);
    }
  }

  async #tell(): Promise<void> {
    const { key, n } = this.#take();
    const ref = this.o.refs.get(key)!;
    this.tellsSent++;
    for (;;) {
      const r = await settle(ref.tell({ op: "inc", n }, { id: `t${n}` }), TELL_HUNG_MS);
      if ("hung" in r) {
        this.tellsHung++;
        return;
      }
      if (r.ok) {
        this.books.get(key)!.tellsAcked.add(n);
        this.o.timeline?.record();
        return;
      }
      if (performance.now() > this.#giveUpAt) {
        this.tellsGivenUp++;
        return;
      }
      const name = errorName(r.error);
      this.tellRetries.set(name, (this.tellRetries.get(name) ?? 0) + 1);
      await sleep(RETRY_PAUSE_MS);
    }
  }

  async #askLane(): Promise<void> {
    while (!this.#stopping) {
      const { key, n } = this.#take();
      const ref = this.o.refs.get(key)!;
      this.asksSent++;
      const firstAt = performance.now();
      for (let attempt = 1; ; attempt++) {
        this.askTries++;
        const r = await settle(ref.ask<IncReply>({ op: "inc", n, attempt }, { id: `a${n}`, timeoutMs: this.o.askTimeoutMs }), this.o.askTimeoutMs + this.o.graceMs);
        if ("hung" in r) {
          this.asksHung++;
          break;
        }
        if (r.ok) {
          if (r.value?.n !== n) this.wrongAnswers++;
          this.books.get(key)!.asksAnswered.add(n);
          if (r.value?.attempt < attempt) this.asksFromOutcome++;
          this.o.timeline?.record();
          break;
        }
        if (r.error instanceof RemoteError) {
          this.asksFailed++;
          break;
        }
        if (performance.now() > this.#giveUpAt) {
          this.asksGivenUp++;
          if (this.givenUpExamples.length < 10) this.givenUpExamples.push(`${key}:a${n} after ${attempt} tries from ${Math.round(firstAt - this.#t0)} ms`);
          break;
        }
        const name = errorName(r.error);
        this.askRetries.set(name, (this.askRetries.get(name) ?? 0) + 1);
        if (!(r.error instanceof AskTimeoutError)) await sleep(RETRY_PAUSE_MS);
      }
    }
  }
}

/** `p`'s outcome, or hung when it has not settled within `ms`. */
async function settle<T>(p: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: true }>((r) => (timer = setTimeout(() => r({ hung: true }), ms)));
  const outcome = await Promise.race([p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), hung]);
  clearTimeout(timer);
  return outcome;
}

/** The entries of a count map, `Name n, Name m`, or "none". */
export function formatCounts(m: ReadonlyMap<string, number>): string {
  return [...m.entries()].map(([k, v]) => `${k} ${v}`).join(", ") || "none";
}
