// A durable agent's place in its mailbox during one activation: what it has
// applied (the live cursor), what the last landed commit wrote (so a failure
// can go back to it), and what to do with each message the feed brings:
// apply it, skip it (applied before), answer it from a stored outcome, wait
// before trying it again, or give it up to the dead letters.

import { encodeValue } from "../codec.js";
import type { WireError } from "../errors.js";
import { encodeDurableRecord, MailboxCursor, MAX_REASON, type DurableRecord, type Outcome } from "./durable-record.js";
import type { Timer } from "../timer-table.js";

/** First wait before a message that failed is tried again; doubled per try, at most {@link RETRY_MAX_MS}. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 5000;

/** What to do with a message from the durable mailbox, before its receive runs. */
export type Admission =
  | { action: "apply" }
  /** Applied before (its sequence is at or below the cursor). */
  | { action: "skip" }
  /** An ask whose key was answered before: send this outcome, apply nothing. */
  | { action: "answer"; outcome: Outcome }
  /** It failed before: wait this long, then apply it. */
  | { action: "retry"; delayMs: number; attempts: number }
  /** It failed `attempts` times, the most allowed: dead-letter it and go on. */
  | { action: "give_up"; attempts: number; reason: string };

/** One activation's view of its durable mailbox position. */
export class DurableState {
  /** What has been applied in memory (committed or not). */
  readonly cursor: MailboxCursor;
  /** The state's bytes as last encoded; encoded again only when the state changed. */
  private stateBytes: Uint8Array | undefined;
  private stateChanged = true;
  /** What the last landed commit wrote, and what the commit in flight is writing. */
  private committed: { stateBytes: Uint8Array | undefined; cursor: MailboxCursor; timers: readonly Timer[] };
  private writing: { stateBytes: Uint8Array; cursor: MailboxCursor; timers: readonly Timer[] } | undefined;
  /** The first message done with since the last encode, and the first one the commit in flight covers. */
  private firstDone: number | undefined;
  private writingFirst: number | undefined;

  constructor(
    stored: DurableRecord | undefined,
    private readonly maxDeliver: number,
  ) {
    this.cursor = stored ? stored.cursor : new MailboxCursor();
    // A value stored before the type was durable is the state itself: its bytes are what a rollback goes back to.
    this.stateBytes = stored ? (stored.stateBytes ?? encodeValue(stored.state)) : undefined;
    this.stateChanged = this.stateBytes === undefined;
    this.committed = { stateBytes: this.stateBytes, cursor: this.cursor.clone(), timers: stored ? stored.timers : [] };
  }

  /** The sequence of the last message applied and committed: the feed starts after it. */
  get committedSeq(): number {
    return this.committed.cursor.seq;
  }

  /** What to do with message `seq` (with idempotency key `key`, for an ask). */
  admit(seq: number, key: string | undefined): Admission {
    if (seq <= this.cursor.seq) return { action: "skip" };
    if (key !== undefined) {
      const outcome = this.cursor.outcome(key);
      if (outcome) return { action: "answer", outcome };
    }
    const failing = this.cursor.failing;
    if (failing && failing.seq === seq) {
      if (failing.attempts >= this.maxDeliver) return { action: "give_up", attempts: failing.attempts, reason: failing.reason };
      return { action: "retry", delayMs: Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failing.attempts - 1)), attempts: failing.attempts };
    }
    return { action: "apply" };
  }

  /** Message `seq` is done with (applied, answered from an outcome, skipped as bad, or given up): the cursor moves past it. */
  done(seq: number, key?: string, outcome?: Outcome): void {
    this.firstDone ??= seq;
    if (seq > this.cursor.seq) this.cursor.seq = seq;
    if (this.cursor.failing && this.cursor.failing.seq <= seq) this.cursor.failing = null;
    if (key !== undefined && outcome) this.cursor.remember(key, outcome);
  }

  /** The agent's own state changed: the next commit encodes it again. */
  stateChange(): void {
    this.stateChanged = true;
  }

  /** The record to commit now: the state (encoded only if it changed), a copy of the cursor, and the timers (a snapshot). */
  encode(persistable: () => unknown, timers: readonly Timer[] = []): Uint8Array {
    if (this.stateChanged || this.stateBytes === undefined) {
      this.stateBytes = encodeValue(persistable());
      this.stateChanged = false;
    }
    this.writing = { stateBytes: this.stateBytes, cursor: this.cursor.clone(), timers };
    this.writingFirst = this.firstDone;
    this.firstDone = undefined;
    return encodeDurableRecord(this.writing.stateBytes, this.writing.cursor, timers);
  }

  /** The commit of the last {@link encode} landed: returns the sequence it covers (the mailbox may drop what is at or below it). */
  landed(): number {
    if (this.writing) this.committed = this.writing;
    this.writing = undefined;
    this.writingFirst = undefined;
    return this.committed.cursor.seq;
  }

  /**
   * The first message whose commit has not landed: the one a commit that
   * cannot be written (or encoded) is blamed on, so it is tried again alone
   * and dead-lettered in the end, instead of failing every activation.
   */
  get firstUnlanded(): number | undefined {
    return this.writingFirst ?? this.firstDone;
  }

  /** The last landed commit with `timers` instead of its own (a timer's message failed: its attempt is counted, nothing else kept). */
  committedWith(timers: readonly Timer[]): Uint8Array {
    return encodeDurableRecord(this.committed.stateBytes!, this.committed.cursor.clone(), timers);
  }

  /**
   * The record that goes back to the last landed commit, with message `seq`
   * marked as failed once more: what a failing message may have half-changed
   * is not kept, and the messages applied since that commit come again.
   * The timers go back to that commit too (a timer fired since then fires again).
   */
  rollback(seq: number, reason: string): Uint8Array {
    const cursor = this.committed.cursor.clone();
    const before = cursor.failing && cursor.failing.seq === seq ? cursor.failing.attempts : 0;
    cursor.failing = { seq, attempts: before + 1, reason: reason.slice(0, MAX_REASON) };
    // The activation's start made a baseline (see the host), so there always are committed bytes.
    return encodeDurableRecord(this.committed.stateBytes!, cursor, this.committed.timers);
  }
}

/** An outcome to remember for an ask. */
export function outcomeOf(value: unknown, error: WireError | null): Outcome {
  return error ? { value: null, error } : { value, error: null };
}
