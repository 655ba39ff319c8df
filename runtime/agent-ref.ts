// A reference to an agent anywhere in the namespace: its address and the two
// ways to reach it. Refs are cheap values; making one never spawns anything.

import type { ChunkStream } from "./chunk-stream.js";
import type { AgentId } from "./subjects.js";

/** Options of one ask. */
export interface AskOptions {
  /** Reject with AskTimeoutError after this many milliseconds. Default: the node's `askTimeoutMs` (5000). */
  timeoutMs?: number;
  /**
   * An idempotency key (1-128 printable characters). To an agent with a
   * durable mailbox, a second ask with the same key is answered with the
   * outcome of the first instead of being applied again, so an ask that timed
   * out can be retried safely. To an agent with a core mailbox it is the
   * message's id: a model agent takes it as the request's id, and answers a
   * second ask with the same id from its journal (the stored outcome, or the
   * request resumed where it stopped).
   */
  id?: string;
}

/** Options of one stream. */
export interface StreamOptions {
  /**
   * Fail with AskTimeoutError when nothing (no chunk, no reply) arrives for
   * this long; each chunk starts it again, so a long answer that keeps
   * streaming never times out. Default: the node's `askTimeoutMs` (5000).
   */
  inactivityMs?: number;
  /** The message's id, as for {@link AskOptions.id}. */
  id?: string;
}

/** What a model agent answers to an approve or a deny. */
export interface ApprovalAnswer {
  approval: string;
  decision: "approved" | "denied";
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
  /**
   * Send and take the answer in parts: the chunks the agent sends with
   * `ctx.emit(chunk)` as they come, then a `done` chunk with its reply. The
   * iterator throws the ask's typed error instead (AskTimeoutError when
   * nothing arrived for `inactivityMs`).
   *
   * @example
   * for await (const chunk of ref.stream({ prompt: "Summarise my orders" })) {
   *   if (chunk.type === "text") process.stdout.write(chunk.delta);
   * }
   */
  stream<R = Reply>(msg: Msg, opts?: StreamOptions): ChunkStream<R>;
  /** Approve a model agent's tool call that waits for a person (the `id` of its approval chunk). Rejects with ApprovalNotFoundError when it waits for no such approval. */
  approve(approvalId: string, opts?: AskOptions): Promise<ApprovalAnswer>;
  /** Deny it: the model is told the call was denied, with `reason`. */
  deny(approvalId: string, reason?: string, opts?: AskOptions): Promise<ApprovalAnswer>;
}

/** The message an approve or a deny sends to a model agent. */
export interface ApprovalDecision {
  approval: string;
  decision: "approve" | "deny";
  reason?: string;
}

/** The message of an approve or a deny. */
export function approvalDecision(approvalId: string, decision: "approve" | "deny", reason?: string): ApprovalDecision {
  return reason === undefined ? { approval: approvalId, decision } : { approval: approvalId, decision, reason };
}
