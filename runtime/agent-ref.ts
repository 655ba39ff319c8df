// A reference to an agent anywhere in the namespace: its address and the two
// ways to reach it. Refs are cheap values; making one never spawns anything.

import type { AgentId } from "./subjects.js";

/** Options of one ask. */
export interface AskOptions {
  /** Reject with AskTimeoutError after this many milliseconds. Default: the node's `askTimeoutMs` (5000). */
  timeoutMs?: number;
  /**
   * An idempotency key (1-128 printable characters), for an agent with a
   * durable mailbox: a second ask with the same key is answered with the
   * outcome of the first instead of being applied again, so an ask that timed
   * out can be retried safely. Ignored by an agent with a core mailbox.
   */
  id?: string;
}

/** Options of one tell. */
export interface TellOptions {
  /**
   * The message's id (1-128 printable characters). To an agent with a durable
   * mailbox, a tell sent again with the same id within the mailbox's duplicate
   * window (2 minutes by default) is stored once. Default: a fresh id.
   */
  id?: string;
}

/** A handle on an agent, local or remote. */
export interface AgentRef<Msg = unknown, Reply = unknown> {
  /** `type/key`. */
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  /**
   * Send without waiting for an answer. To an agent with a core mailbox: core
   * NATS, at most once, ordered per sender and receiver; resolves once queued.
   * To an agent with a durable mailbox: resolves once JetStream stored it
   * (then it is applied exactly once), or rejects with MailboxFullError or
   * MailboxUnavailableError. Rejects with InvalidMessageError if `msg` cannot be sent.
   */
  tell(msg: Msg, opts?: TellOptions): Promise<void>;
  /**
   * Send and wait for the answer (the return value of the agent's `receive`).
   * Rejects with AgentNotFoundError, AskTimeoutError, RemoteError or InvalidMessageError.
   */
  ask<R = Reply>(msg: Msg, opts?: AskOptions): Promise<R>;
}
