// The agent types the throughput scenario's Troupe process hosts, beside the
// built-in `echo` (which answers an ask with the message it got):
// `bench-tally` counts tells, `bench-history` is a persisted agent whose state
// is a conversation history of a chosen size, answering read-only asks, and
// `bench-verified-echo` is an echo that accepts only verified senders (hosted
// when the process has credentials).

import { defineAgent, type AgentType } from "../../actors/index.js";
import { historyOfSize, type HistoryState } from "./history-state.js";

/** What `bench-tally` takes: any message with `op: "inc"` counts; `{ op: "count" }` answers the count. */
export type TallyMsg = { op: "inc" } | { op: "count" };

/** Counts the tells it gets (not persisted, so no state write per message, like the raw subscriber). */
export const tally: AgentType = defineAgent<{ count: number }, TallyMsg, number | undefined>({
  type: "bench-tally",
  persist: false,
  state: () => ({ count: 0 }),
  receive(msg, ctx) {
    if (msg.op === "count") return ctx.state.count;
    ctx.state.count++;
    return undefined;
  },
});

/** What `bench-history` takes: `fill` replaces the state by a history of `bytes`; `read` answers without changing it. */
export type HistoryMsg = { op: "fill"; bytes: number } | { op: "read"; n: number };

/** The answer to `read`: the message's `n` and the number of turns kept. */
export interface HistoryReply {
  n: number;
  turns: number;
}

/** A persisted agent: its state is written to the state bucket when `fill` changes it; `read` leaves it as it is. */
export const history: AgentType = defineAgent<HistoryState, HistoryMsg, HistoryReply>({
  type: "bench-history",
  persist: true,
  state: () => ({ turns: [] }),
  receive(msg, ctx) {
    if (msg.op === "fill") ctx.state = historyOfSize(msg.bytes);
    return { n: msg.op === "read" ? msg.n : -1, turns: ctx.state.turns.length };
  },
});

/** An echo that accepts only verified senders: the same work as `echo`, plus each message's proof. */
export const verifiedEcho: AgentType = defineAgent({
  type: "bench-verified-echo",
  persist: false,
  requireVerifiedSender: true,
  receive: (msg: unknown) => msg,
});

/** Every type the Troupe responder process hosts. */
export const benchAgents: readonly AgentType[] = [tally, history];

/** The agents the Troupe responder process spawns, by key. */
export const BENCH_KEYS = {
  /** `echo/<key>`: the built-in echo, for asks. */
  echo: "e1",
  /** `bench-tally/<key>`: for tells. */
  tally: "t1",
  /** `bench-history/<key>`: filled with a 100-byte history. */
  small: "small",
  /** `bench-history/<key>`: filled with a 50 KB history. */
  large: "large",
  /** `bench-verified-echo/<key>`: for asks with a proof of their sender. */
  verified: "v1",
} as const;
