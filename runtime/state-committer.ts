// Group commit of one activation's persisted state. After each message the
// host says whether the state may have changed (without encoding it); answers
// to asks wait while a change is uncommitted. One commit is in flight at a
// time and handling goes on meanwhile; each commit encodes the state once,
// writes it with compare-and-set on the revision last written (unless it
// equals what is stored), then releases the answers that reveal it. A write
// that loses compare-and-set means a newer activation owns the state: fenced.

import { InvalidArgumentError as NatsInvalidArgumentError } from "@nats-io/nats-core";
import { AgentFencedError, errorText, InvalidMessageError, OutcomeUnknownError, StateConflictError, type WireError } from "./errors.js";
import type { StateStore } from "./state-store.js";
import { agentFailure } from "./wire-error.js";

/** An answer waiting for the commit of the state it reveals. */
export interface PendingAnswer {
  reply: string;
  id: string;
  value: unknown;
  error: WireError | null;
  /** The ask came from a durable mailbox: if this commit is given up, the ask comes again and is answered then. */
  durable: boolean;
}

/** What the committer needs from its activation. */
export interface CommitterHost {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly store: StateStore;
  /** Encode the current state (throws when it cannot be encoded). */
  encodeState(): Uint8Array;
  /** Send an answer (or a failure) to an ask. */
  answer(reply: string, id: string, value: unknown, error: WireError | null): void;
  /** Whether the activation still handles messages (a commit left over after it ended starts no new round). */
  isActive(): boolean;
  /** A write lost compare-and-set: a newer activation owns the state. */
  fenced(revision: number): void;
  /** The state could not be written (or encoded), for `err`; the activation fails with `reason`. */
  failed(reason: string, err: unknown): void;
  /** A bug inside the commit loop itself. */
  internalError(err: unknown): void;
  /** A commit landed (or had nothing new to write): what {@link encodeState} returned last is stored. */
  landed?(): void;
}

/** Answered asks at most waiting for one commit; past it the drain waits for the commit. */
export const MAX_ANSWERS_PER_COMMIT = 1024;

/** Commits one activation's state and holds the answers that wait for it. */
export class StateCommitter {
  /** The state as last committed (or loaded): a commit whose encoding equals it writes nothing. */
  private committed: Uint8Array | undefined;
  /** A message (or onStart) may have changed the state since the last commit began. */
  private dirty = false;
  private revision = 0;
  private waiting: PendingAnswer[] = [];
  private inFlight: Promise<void> | undefined;
  /** Another activation owns the state: nothing more is written, and what waits is answered with AgentFencedError. */
  private fencedOff = false;

  constructor(private readonly host: CommitterHost) {}

  /** Start from what is stored: its revision and bytes (the baseline: only a change is written). */
  reset(revision: number, baseline: Uint8Array | undefined): void {
    this.revision = revision;
    this.committed = baseline;
    this.dirty = false;
    this.waiting = [];
    this.fencedOff = false;
  }

  /** The bytes last committed (or loaded as the baseline). */
  get lastCommitted(): Uint8Array | undefined {
    return this.committed;
  }

  /** The revision last read or written. */
  get lastRevision(): number {
    return this.revision;
  }

  /** The state may have changed: the next commit writes it (see {@link answer} and {@link flush}). */
  changed(): void {
    if (!this.fencedOff) this.dirty = true;
  }

  /** Start a commit if a change waits for one (after a tell, or onStart, that changed the state). */
  flush(): void {
    if (this.dirty) this.schedule();
  }

  /** Whether a change or an answer waits for a commit. */
  get pending(): boolean {
    return this.dirty || this.waiting.length > 0 || this.inFlight !== undefined;
  }

  /**
   * Another activation owns the state now (the registry fenced this one):
   * write nothing more, and answer every ask still waiting for a commit with
   * AgentFencedError. A write already in flight finishes; its answers tell
   * what it did.
   */
  fence(): void {
    this.fencedOff = true;
    this.dirty = false;
    this.refuse(this.waiting);
    this.waiting = [];
  }

  /**
   * Answer with AgentFencedError what waited for a commit this activation
   * will never make. Not an ask from a durable mailbox: the activation that
   * owns the state applies it (or did) and answers it.
   */
  private refuse(answers: PendingAnswer[]): void {
    const failure = agentFailure(new AgentFencedError(this.host.id));
    for (const a of answers) if (!a.durable) this.host.answer(a.reply, a.id, null, failure);
  }

  /**
   * Answer an ask (with `value`, or `error`) now, or after the commit of what
   * was handled before it when one is pending. `durable`: it came from a
   * durable mailbox (see {@link replace}).
   */
  answer(reply: string, id: string, value: unknown, error: WireError | null = null, durable = false): void {
    if (this.fencedOff) {
      this.refuse([{ reply, id, value, error, durable }]);
      return;
    }
    if (!this.pending) {
      this.host.answer(reply, id, value, error);
      return;
    }
    this.waiting.push({ reply, id, value, error, durable });
    this.schedule();
  }

  /**
   * Give up what was handled since the last commit and write what `make` returns instead
   * (a durable agent going back to its last commit after a failure). Answers
   * waiting for the given-up commit: an ask from a durable mailbox comes again
   * and is answered then; any other gets `failure`. Waits for the commit in
   * flight first; a write that loses compare-and-set is fenced as usual.
   */
  async replace(make: () => Uint8Array, failure: WireError): Promise<void> {
    const dropped = this.waiting;
    this.waiting = [];
    this.dirty = false;
    for (const a of dropped) if (!a.durable) this.host.answer(a.reply, a.id, null, failure);
    // What replaces it is made once the commit in flight landed: it goes back to that commit, not before it.
    if (this.inFlight) await this.inFlight;
    if (this.fencedOff) return;
    const bytes = make();
    if (sameBytes(bytes, this.committed)) return;
    try {
      this.revision = await this.host.store.save(this.host.type, this.host.key, bytes, this.revision);
      this.committed = bytes;
    } catch (err) {
      this.fail(err, []);
    }
  }

  /** Whether so many answers wait for the commit in flight that handling should wait for it too. */
  get mustWait(): boolean {
    return this.waiting.length >= MAX_ANSWERS_PER_COMMIT && this.inFlight !== undefined;
  }

  /** Resolves once the commit in flight is done, when {@link mustWait}; else at once. */
  async backpressure(): Promise<void> {
    if (this.mustWait) await this.inFlight;
  }

  /** Wait until everything handled so far is committed and answered (errors are reported by the loop). */
  async settle(): Promise<void> {
    while (this.pending) {
      this.schedule();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.fencedOff) return;
    this.inFlight = this.loop()
      // A bug in the loop must fail the activation, not end the process with an unhandled rejection.
      .catch((err: unknown) => this.host.internalError(err))
      .finally(() => {
        this.inFlight = undefined;
        // Something handled between the loop's last check and now left work for another round.
        if (this.host.isActive() && (this.waiting.length > 0 || this.dirty)) this.schedule();
      });
  }

  private async loop(): Promise<void> {
    while (!this.fencedOff && (this.waiting.length > 0 || this.dirty)) {
      const answers = this.waiting;
      this.waiting = [];
      if (this.dirty) {
        // Encode now, once for everything handled so far; changes made while the write is in flight dirty it again.
        this.dirty = false;
        let bytes: Uint8Array;
        try {
          bytes = this.host.encodeState();
        } catch (err) {
          this.fail(new InvalidMessageError(`the state of ${this.host.id} cannot be persisted: ${errorText(err)}`), answers);
          return;
        }
        if (!sameBytes(bytes, this.committed)) {
          try {
            this.revision = await this.host.store.save(this.host.type, this.host.key, bytes, this.revision);
            this.committed = bytes;
          } catch (err) {
            this.fail(err, answers);
            return;
          }
        }
        this.host.landed?.();
      }
      // Fenced while this write was in flight: it landed, so its answers are true.
      for (const a of answers) this.host.answer(a.reply, a.id, a.value, a.error);
    }
  }

  /**
   * The write of `answers`' changes failed. Lost compare-and-set: fenced,
   * and they learn so, unless an earlier try of that write may have landed
   * (then, as for a write that got no answer at all, they are told the
   * outcome is unknown, not that it failed). A write refused for what it
   * holds was never stored: they failed. What was handled after that write
   * began was in no write: it failed.
   */
  private fail(err: unknown, answers: PendingAnswer[]): void {
    const later = this.waiting;
    this.waiting = [];
    this.dirty = false;
    if (err instanceof StateConflictError) {
      if (err.maybeLanded) {
        const unknown = agentFailure(new OutcomeUnknownError(this.host.id, "an earlier try of the state write got no answer before another activation wrote"));
        // A durable ask comes again to the activation that owns the state, as in refuse.
        for (const a of answers) if (!a.durable) this.host.answer(a.reply, a.id, null, unknown);
      }
      this.refuse(err.maybeLanded ? later : answers.concat(later));
      this.host.fenced(this.revision);
      return;
    }
    const failure = agentFailure(err);
    const covered = neverStored(err) ? failure : agentFailure(new OutcomeUnknownError(this.host.id, errorText(err)));
    for (const a of answers) this.host.answer(a.reply, a.id, null, covered);
    for (const a of later) this.host.answer(a.reply, a.id, null, failure);
    this.host.failed(`state write failed: ${errorText(err)}`, err);
  }
}

/** A state write refused for what it holds (it cannot be encoded, or is over the server's max_payload): never stored, and trying it again cannot help. */
export function neverStored(err: unknown): boolean {
  return err instanceof InvalidMessageError || err instanceof NatsInvalidArgumentError;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}
