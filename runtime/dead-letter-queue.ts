// The namespace's dead letters as a client acts on them: list, read, send
// again, delete and purge the messages of the stream `TROUPE_<NS>_DLQ`. It
// reads with single-message requests (no consumer) and creates nothing: a
// namespace whose stream does not exist is a NamespaceNotFoundError.

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager, type JetStreamManager, type MsgRequest, type StoredMsg } from "@nats-io/jetstream";
import type { Clock } from "./clock.js";
import { decodeDeadLetter, isRawBody, type DeadLetterEntry, type StreamMessage } from "./dead-letter-record.js";
import {
  DeadLetterNotFoundError,
  DeadLetterNotReplayableError,
  InvalidArgumentError,
  JetStreamNotEnabledError,
  NamespaceNotFoundError,
} from "./errors.js";
import { isStreamNotFound } from "./memory/jetstream-errors.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import { agentId, parseAgentId, type AgentId, type Subjects } from "./subjects.js";

/** How many dead letters {@link DeadLetterQueue.list} returns when no limit is given. */
export const DEFAULT_DEAD_LETTER_LIMIT = 50;

/** Options of {@link DeadLetterQueue.list}. */
export interface DeadLetterListOptions {
  /** Only the dead letters of this agent (`type/key`). */
  agent?: string;
  /** At most this many, the newest. Default {@link DEFAULT_DEAD_LETTER_LIMIT}. */
  limit?: number;
}

/** The newest dead letters, oldest first, and how many more the stream holds. */
export interface DeadLetterList {
  letters: DeadLetterEntry[];
  /** How many the stream holds (for the agent, when one was given). */
  total: number;
  /** How many older ones were left out by the limit. */
  more: number;
}

/** Options of {@link DeadLetterQueue.replay}. */
export interface ReplayOptions {
  /** Send it to this agent (`type/key`) instead of the one it was for. */
  to?: string;
  /** Keep the dead letter after sending it. Default: it is deleted. */
  keep?: boolean;
}

/** What a replay sent. */
export interface Replayed {
  seq: number;
  /** The agent the message was for. */
  from: AgentId;
  /** The agent it was sent to now. */
  to: AgentId;
  /** Whether the dead letter is still in the stream. */
  kept: boolean;
}

/** Sends a message body as a tell; rejects when it cannot be sent (the agent does not run, the connection is closed). */
export type Resend = (to: AgentId, body: unknown) => Promise<void>;

/**
 * The dead letters of one namespace. Made by the light client
 * (`client.deadLetters`); every method may throw NamespaceNotFoundError when
 * the stream does not exist, and JetStreamNotEnabledError.
 *
 * @example
 * const { letters, more } = await client.deadLetters.list({ agent: "counter/c1", limit: 10 });
 * for (const l of letters) if (l.kind === "letter") await client.deadLetters.replay(l.seq);
 */
export class DeadLetterQueue {
  private readonly stream: string;
  private manager: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
    private readonly servers: string,
    private readonly resend: Resend,
    private readonly assertOpen: () => void,
  ) {
    this.stream = subjects.deadLetterStream();
  }

  /**
   * The newest `limit` dead letters (of `agent`, when given), oldest first.
   * Walks back from the end of the stream in growing windows, so a long
   * stream costs about as many requests as letters returned.
   */
  async list(options: DeadLetterListOptions = {}): Promise<DeadLetterList> {
    const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidArgumentError("limit", `limit must be a whole number above 0, got ${limit}`);
    const filter = this.filter(options.agent);
    const { first, last, total } = await this.bounds(options.agent === undefined ? undefined : filter);
    if (total === 0) return { letters: [], total: 0, more: 0 };
    let found: StreamMessage[] = [];
    let end = last;
    let span = total <= limit ? last - first + 1 : limit;
    while (found.length < Math.min(limit, total) && end >= first) {
      const start = Math.max(first, end - span + 1);
      const window: StreamMessage[] = [];
      for await (const m of this.walk(filter, start, end)) window.push(m);
      found = window.concat(found);
      end = start - 1;
      span *= 4;
    }
    const letters = found.slice(-limit).map((m) => decodeDeadLetter(this.subjects, m));
    return { letters, total, more: Math.max(0, total - letters.length) };
  }

  /**
   * Every dead letter (of `agent`, when given) stored when the call began,
   * oldest first. Letters stored while it runs are left for the next call,
   * so replaying each one cannot loop on a message that fails again.
   */
  async *scan(options: { agent?: string } = {}): AsyncGenerator<DeadLetterEntry> {
    const filter = this.filter(options.agent);
    const { first, last, total } = await this.bounds(undefined);
    if (total === 0) return;
    for await (const m of this.walk(filter, first, last)) yield decodeDeadLetter(this.subjects, m);
  }

  /**
   * The dead letter with stream sequence `seq`.
   *
   * @throws DeadLetterNotFoundError when there is none
   */
  async get(seq: number): Promise<DeadLetterEntry> {
    checkSeq(seq);
    const m = await this.call("get", (jsm) => jsm.streams.getMessage(this.stream, { seq }));
    if (m === null) throw new DeadLetterNotFoundError(seq, this.stream);
    return decodeDeadLetter(this.subjects, streamMessage(m));
  }

  /**
   * Delete the dead letter with stream sequence `seq`.
   *
   * @throws DeadLetterNotFoundError when there is none
   */
  async delete(seq: number): Promise<void> {
    checkSeq(seq);
    try {
      await this.call("delete", (jsm) => jsm.streams.deleteMessage(this.stream, seq));
    } catch (err) {
      // The server words "no such message" several ways (by code and status): look instead.
      if (err instanceof NamespaceNotFoundError) throw err;
      const there = await this.call("get", (jsm) => jsm.streams.getMessage(this.stream, { seq }));
      if (there === null) throw new DeadLetterNotFoundError(seq, this.stream);
      throw err;
    }
  }

  /** Delete every dead letter, or every one of `agent`; returns how many were deleted. */
  async purge(options: { agent?: string } = {}): Promise<number> {
    const filter = options.agent === undefined ? undefined : this.filter(options.agent);
    const r = await this.call("purge", (jsm) => jsm.streams.purge(this.stream, filter === undefined ? undefined : { filter }));
    return r.purged;
  }

  /**
   * Send the message of dead letter `seq` again, as a tell from this client,
   * to the agent it was for or to `options.to`; then delete the dead letter
   * unless `options.keep`. When the send fails the dead letter stays.
   *
   * @throws DeadLetterNotFoundError, DeadLetterNotReplayableError (the record
   *   does not decode, or the message never did), AgentNotFoundError (the
   *   target does not run)
   */
  async replay(seq: number, options: ReplayOptions = {}): Promise<Replayed> {
    const target = options.to === undefined ? undefined : toAgentId(options.to);
    const entry = await this.get(seq);
    if (entry.kind === "undecodable") throw new DeadLetterNotReplayableError(seq, `the stored record does not decode (${entry.problem})`);
    if (isRawBody(entry)) {
      throw new DeadLetterNotReplayableError(seq, "the message never decoded; the record holds only the bytes received");
    }
    const from = entry.to as AgentId;
    const to = target ?? from;
    await this.resend(to, entry.body);
    if (!options.keep) {
      // Removed meanwhile (a replay elsewhere, a purge): it is gone either way.
      await this.delete(seq).catch((err: unknown) => {
        if (!(err instanceof DeadLetterNotFoundError)) throw err;
      });
    }
    return { seq, from, to, kept: options.keep === true };
  }

  /** The subject filter of one agent's dead letters, or of all. */
  private filter(agent: string | undefined): string {
    if (agent === undefined) return this.subjects.allDeadLetters();
    const p = parseAgentId(agent);
    return this.subjects.deadLetter(p.type, p.key);
  }

  /** The stream's first and last sequence, and how many messages match `filter` (all, when undefined). */
  private async bounds(filter: string | undefined): Promise<{ first: number; last: number; total: number }> {
    const info = await this.call("info", (jsm) => jsm.streams.info(this.stream, filter === undefined ? {} : { subjects_filter: filter }));
    const s = info.state;
    const total = filter === undefined ? s.messages : (s.subjects?.[filter] ?? 0);
    return { first: s.first_seq, last: s.last_seq, total };
  }

  /** The messages matching `filter` with sequences from `start` to `end`, one request each. */
  private async *walk(filter: string, start: number, end: number): AsyncGenerator<StreamMessage> {
    let seq = start;
    while (seq <= end) {
      // The server's message-get takes `next_by_subj` beside `seq`; the client's type lists only one form.
      const query = { seq, next_by_subj: filter } as unknown as MsgRequest;
      const m = await this.call("read", (jsm) => jsm.streams.getMessage(this.stream, query));
      if (m === null || m.seq > end) return;
      yield streamMessage(m);
      seq = m.seq + 1;
    }
  }

  /** One JetStream call: retried through elections, with a missing stream reported as a missing namespace. */
  private async call<T>(operation: string, fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (!(this.nc.info as { jetstream?: boolean } | undefined)?.jetstream) throw new JetStreamNotEnabledError(this.servers);
    const jsm = await (this.manager ??= jetstreamManager(this.nc, { checkAPI: false }));
    try {
      return await withJetStreamRetry(`dead letters: ${operation}`, () => fn(jsm), { clock: this.clock, ...DEFAULT_RETRY });
    } catch (err) {
      if (isStreamNotFound(err)) throw new NamespaceNotFoundError(this.subjects.ns, { cause: err });
      throw err;
    }
  }
}

function streamMessage(m: StoredMsg): StreamMessage {
  return { seq: m.seq, subject: m.subject, storedAt: m.time.getTime(), data: m.data };
}

function checkSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new InvalidArgumentError("seq", `a dead letter's sequence is a whole number above 0, got ${seq}`);
}

function toAgentId(id: string): AgentId {
  const p = parseAgentId(id);
  return agentId(p.type, p.key);
}
