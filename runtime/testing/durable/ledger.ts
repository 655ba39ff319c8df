// The durable agent of the durable-mailbox failure tests: a ledger that keeps
// the id of every message it applied, in order, in its persisted state, so a
// test reads from the state itself which messages were applied and how often.
// `ms` makes a receive take that long; `poison` changes the state, then throws.

import { defineAgent, type AgentType } from "../../define-agent.js";

/** What the ledger takes. */
export type LedgerMsg =
  | { op: "add"; id: string; ms?: number }
  | { op: "poison"; id: string }
  | { op: "get" };

/** The ledger's state. */
export interface LedgerState {
  applied: string[];
}

/**
 * The `ledger` agent type; `applied` hears each id as it is applied (before
 * it is committed).
 */
export function ledgerAgent(o: { type?: string; maxDeliver?: number; applied?: (id: string) => void } = {}): AgentType {
  return defineAgent({
    type: o.type ?? "ledger",
    mailbox: "durable",
    maxDeliver: o.maxDeliver,
    state: (): LedgerState => ({ applied: [] }),
    receive(msg: LedgerMsg, ctx) {
      const state = ctx.state as LedgerState;
      switch (msg.op) {
        case "get":
          return state;
        case "poison":
          state.applied.push(msg.id);
          throw new Error(`poisoned by ${msg.id}`);
        case "add": {
          state.applied.push(msg.id);
          o.applied?.(msg.id);
          if (msg.ms) return new Promise((resolve) => setTimeout(() => resolve(state.applied.length), msg.ms));
          return state.applied.length;
        }
      }
    },
  });
}

/** Ids that occur more than once in `ids`. */
export function twice(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}
