// A reference to an agent anywhere in the namespace: its address and the two
// ways to reach it. Refs are cheap values; making one never spawns anything.

import type { AgentId } from "./subjects.js";

/** Options of one ask. */
export interface AskOptions {
  /** Reject with AskTimeoutError after this many milliseconds. Default: the node's `askTimeoutMs` (5000). */
  timeoutMs?: number;
}

/** A handle on an agent, local or remote. */
export interface AgentRef<Msg = unknown, Reply = unknown> {
  /** `type/key`. */
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  /**
   * Send without waiting for an answer: core NATS, at most once, ordered per
   * sender and receiver. Rejects with InvalidMessageError if `msg` cannot be sent.
   */
  tell(msg: Msg): Promise<void>;
  /**
   * Send and wait for the answer (the return value of the agent's `receive`).
   * Rejects with AgentNotFoundError, AskTimeoutError, RemoteError or InvalidMessageError.
   */
  ask<R = Reply>(msg: Msg, opts?: AskOptions): Promise<R>;
}
