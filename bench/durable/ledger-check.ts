// The verdict of the `durable` scenario: what each ledger says it applied
// (its committed bitmap and its count of numbers applied twice) against what
// the sender saw acknowledged. Lost = acknowledged but not applied; twice =
// applied again though applied before; a bit set for a number never sent
// would be a message nobody sent.

import { applied, type LedgerState } from "./ledger-agent.js";

/** What the sender knows of one ledger. */
export interface LedgerBook {
  /** Numbers handed out so far (0..next-1 were sent, or are being sent). */
  next: number;
  /** Tells whose store was acknowledged (the PubAck). */
  tellsAcked: Set<number>;
  /** Asks answered with their increment. */
  asksAnswered: Set<number>;
}

/** The verdict over all ledgers. */
export interface LedgerCheck {
  tellsAcked: number;
  asksAnswered: number;
  /** Sum of the ledgers' counts. */
  applied: number;
  /** Acknowledged tells whose bit is not set. */
  tellsLost: number;
  /** Answered asks whose bit is not set. */
  asksLost: number;
  /** Numbered increments applied more than once (the ledgers' own count). */
  twice: number;
  /** Bits set for numbers never handed out. */
  neverSent: number;
  /** Applied, but never acknowledged (a send that timed out or failed after it was stored: allowed). */
  appliedUnacknowledged: number;
  /** Ledgers whose count is not their bits plus their repeats (a broken record). */
  inconsistent: number;
  /** Ledgers whose state could not be read. */
  unreadable: number;
  /** A few lost numbers, for the log: `key:n`. */
  lostExamples: string[];
}

/**
 * Check every ledger's final state against its book.
 *
 * @example
 * checkLedgers(new Map([["l0", book]]), new Map([["l0", state]])) // { tellsLost: 0, twice: 0, ... }
 */
export function checkLedgers(books: ReadonlyMap<string, LedgerBook>, states: ReadonlyMap<string, LedgerState | undefined>): LedgerCheck {
  const out: LedgerCheck = {
    tellsAcked: 0,
    asksAnswered: 0,
    applied: 0,
    tellsLost: 0,
    asksLost: 0,
    twice: 0,
    neverSent: 0,
    appliedUnacknowledged: 0,
    inconsistent: 0,
    unreadable: 0,
    lostExamples: [],
  };
  for (const [key, book] of books) {
    out.tellsAcked += book.tellsAcked.size;
    out.asksAnswered += book.asksAnswered.size;
    const state = states.get(key);
    if (!state || !(state.bits instanceof Uint8Array)) {
      out.unreadable++;
      continue;
    }
    out.applied += state.count;
    out.twice += state.twice;
    const lose = (n: number): void => {
      if (out.lostExamples.length < 10) out.lostExamples.push(`${key}:${n}`);
    };
    for (const n of book.tellsAcked) if (!applied(state.bits, n)) (out.tellsLost++, lose(n));
    for (const n of book.asksAnswered) if (!applied(state.bits, n)) (out.asksLost++, lose(n));
    let set = 0;
    for (let n = 0; n < state.bits.length * 8; n++) {
      if (!applied(state.bits, n)) continue;
      set++;
      if (n >= book.next) out.neverSent++;
      else if (!book.tellsAcked.has(n) && !book.asksAnswered.has(n)) out.appliedUnacknowledged++;
    }
    if (state.count !== set + state.twice) out.inconsistent++;
  }
  return out;
}
