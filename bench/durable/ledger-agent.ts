// The agent of the `durable` scenario: `bench-ledger`, a persisted counter
// with a durable mailbox that can prove what it applied. Every increment
// carries a number unique per ledger (`n`); the state keeps a bitmap of the
// numbers applied, so an acknowledged increment missing from it was lost, and
// an increment whose bit was already set was applied twice (counted in the
// committed state itself, so the proof survives crashes and failover).
// `add` counts without a number, for the throughput measurement.

import { defineAgent, type AgentType } from "../../actors/index.js";

/** How many twice-applied numbers a ledger lists (it counts them all). */
export const TWICE_LISTED = 32;

/** A ledger's state: what it applied. */
export interface LedgerState {
  /** Increments applied (numbered or not). */
  count: number;
  /** Numbered increments whose number was already applied. */
  twice: number;
  /** The first {@link TWICE_LISTED} numbers applied twice. */
  twiceNs: number[];
  /** Bit `n` set: increment `n` was applied. */
  bits: Uint8Array;
}

/** What a ledger takes. `attempt` is the sender's try of an ask, echoed in the answer. */
export type LedgerMsg =
  | { op: "inc"; n: number; attempt?: number }
  | { op: "add" }
  | { op: "get" }
  /** Answers at once: an ask stored behind everything sent before it is answered when the mailbox has drained through it. */
  | { op: "probe" };

/** The answer to `inc`: the number, the try it answers (a lower try than sent: a stored outcome), the count then. */
export interface IncReply {
  n: number;
  attempt: number;
  count: number;
}

export const LEDGER_TYPE = "bench-ledger";

/** A durable, persisted ledger (see the file comment). */
export const ledgerAgent: AgentType = defineAgent<LedgerState, LedgerMsg, IncReply | LedgerState | number | null>({
  type: LEDGER_TYPE,
  mailbox: "durable",
  state: () => ({ count: 0, twice: 0, twiceNs: [], bits: new Uint8Array(0) }),
  receive(msg, ctx) {
    const s = ctx.state;
    switch (msg.op) {
      case "inc": {
        let bits = s.bits;
        const byte = msg.n >>> 3;
        if (byte >= bits.length) {
          const grown = new Uint8Array(Math.max(byte + 1, bits.length * 2, 64));
          grown.set(bits);
          s.bits = bits = grown;
        }
        const mask = 1 << (msg.n & 7);
        if (bits[byte]! & mask) {
          s.twice++;
          if (s.twiceNs.length < TWICE_LISTED) s.twiceNs.push(msg.n);
        } else {
          bits[byte] = bits[byte]! | mask;
        }
        s.count++;
        return { n: msg.n, attempt: msg.attempt ?? 0, count: s.count };
      }
      case "add":
        s.count++;
        return null;
      case "get":
        return s;
      case "probe":
        return s.count;
    }
  },
});

/** Whether increment `n` is applied in `bits`. */
export function applied(bits: Uint8Array, n: number): boolean {
  const byte = n >>> 3;
  return byte < bits.length && (bits[byte]! & (1 << (n & 7))) !== 0;
}
