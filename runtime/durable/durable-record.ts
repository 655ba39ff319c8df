// What a durable agent stores in the state bucket: its state and its place in
// its mailbox, in one value, so one compare-and-set write commits both. The
// place is the stream sequence of the last message applied, the attempts of
// a message that keeps failing, and the outcomes of the last messages that
// came with a key, a caller's id (so a retried ask is answered and a retried
// tell skipped, not applied again, even after the stream forgot the id).
//
//   ["troupe/durable", 1, state (MessagePack bytes), seq, failing, outcomes, timers?]
//   failing:  [seq, attempts, reason] | null
//   outcomes: [[key, value, error], ...], oldest first; error null when it succeeded
//   timers:   the agent's durable timers (runtime/timer-table.ts), only when it has some
//
// The state is kept as the bytes it was encoded to, so a commit that did not
// change it copies them instead of encoding it again. A stored value that is
// not a record (the type took the core mailbox before) is taken as the state,
// at sequence 0. Anyone with access to the bucket can write it: every field
// is checked, and a malformed record is an error, never trusted.

import { decodeValue, encodeValue } from "../codec.js";
import { ErrorCode, InvalidMessageError, wireError, wireFields, type WireError } from "../errors.js";
import { decodeTimers, encodeTimers, type Timer } from "../timer-table.js";

const MARK = "troupe/durable";
const VERSION = 1;

/** Characters of a failing message's last failure kept in the record. */
export const MAX_REASON = 512;

/** Asks with an idempotency key whose outcome a durable agent remembers (the newest). */
export const OUTCOMES_KEPT = 256;

/**
 * Bytes the remembered outcomes take at most in the record (their keys and
 * encoded values): the record, state included, must stay within what the
 * server stores in one message, or every commit would fail. The oldest are
 * forgotten first; an answer larger than this is remembered as
 * {@link OUTCOME_NOT_KEPT} (the ask was applied once; a retry learns that).
 */
export const OUTCOME_BYTES_KEPT = 256 * 1024;

/** The name of the error a retried ask gets when its first answer was too large (or not encodable) to remember. */
export const OUTCOME_NOT_KEPT = "OutcomeNotKept";

/** How an ask with an idempotency key ended. */
export interface Outcome {
  value: unknown;
  error: WireError | null;
}

/** A durable agent's place in its mailbox. */
export class MailboxCursor {
  /** Stream sequence of the last message applied (0: none yet). */
  seq = 0;
  /** A message that failed and will be tried again: its sequence and how often it failed. */
  failing: { seq: number; attempts: number; reason: string } | null = null;
  private readonly outcomes = new Map<string, Outcome>();
  /** Bytes each outcome takes, and all of them (bounded by {@link OUTCOME_BYTES_KEPT}). */
  private readonly sizes = new Map<string, number>();
  private bytes = 0;

  /** The outcome of the ask with `key`, when it is one of the {@link OUTCOMES_KEPT} newest. */
  outcome(key: string): Outcome | undefined {
    return this.outcomes.get(key);
  }

  /** Remember how the ask with `key` ended; the oldest outcomes past {@link OUTCOMES_KEPT} or {@link OUTCOME_BYTES_KEPT} are forgotten. */
  remember(key: string, outcome: Outcome): void {
    this.forget(key);
    let size = key.length + outcomeSize(outcome);
    if (size > OUTCOME_BYTES_KEPT) {
      outcome = notKept(key, `its answer (${Number.isFinite(size) ? `${size} bytes` : "not encodable"}) was too large to keep`);
      size = key.length + outcomeSize(outcome);
    }
    this.outcomes.set(key, outcome);
    this.sizes.set(key, size);
    this.bytes += size;
    while (this.outcomes.size > OUTCOMES_KEPT || this.bytes > OUTCOME_BYTES_KEPT) this.forget(this.outcomes.keys().next().value!);
  }

  private forget(key: string): void {
    if (!this.outcomes.delete(key)) return;
    this.bytes -= this.sizes.get(key)!;
    this.sizes.delete(key);
  }

  /** A copy (what a commit writes must not move while the write is in flight). */
  clone(): MailboxCursor {
    const c = new MailboxCursor();
    c.seq = this.seq;
    c.failing = this.failing && { ...this.failing };
    for (const [k, o] of this.outcomes) c.outcomes.set(k, o);
    for (const [k, n] of this.sizes) c.sizes.set(k, n);
    c.bytes = this.bytes;
    return c;
  }

  /** @internal for encoding */
  entries(): IterableIterator<[string, Outcome]> {
    return this.outcomes.entries();
  }
}

/** Encode a durable record: the state's bytes, the cursor, and the timers when there are any. */
export function encodeDurableRecord(state: Uint8Array, cursor: MailboxCursor, timers?: readonly Timer[]): Uint8Array {
  const outcomes: unknown[] = [];
  for (const [key, o] of cursor.entries()) {
    outcomes.push([key, o.error ? null : o.value, o.error ? [o.error.name, o.error.code, o.error.message, o.error.fields ?? null] : null]);
  }
  const failing = cursor.failing ? [cursor.failing.seq, cursor.failing.attempts, cursor.failing.reason] : null;
  if (timers !== undefined && timers.length > 0) return encodeValue([MARK, VERSION, state, cursor.seq, failing, outcomes, encodeTimers(timers)]);
  return encodeValue([MARK, VERSION, state, cursor.seq, failing, outcomes]);
}

/** What was stored: the state (decoded) and the cursor. */
export interface DurableRecord {
  state: unknown;
  /** The state's bytes as stored (undefined for a value written before the type was durable). */
  stateBytes: Uint8Array | undefined;
  cursor: MailboxCursor;
  /** The agent's timers (none when the record has no timers element). */
  timers: Timer[];
}

/** Decode what the state bucket holds for a durable agent; throws InvalidMessageError when it is a malformed record. */
export function decodeDurableRecord(bytes: Uint8Array): DurableRecord {
  const raw = decodeValue(bytes);
  const cursor = new MailboxCursor();
  if (!Array.isArray(raw) || raw[0] !== MARK) return { state: raw, stateBytes: undefined, cursor, timers: [] };
  const bad = (what: string): never => {
    throw new InvalidMessageError(`the stored durable record ${what}`);
  };
  if (raw[1] !== VERSION) bad(`has version ${String(raw[1])}, not ${VERSION}`);
  if (raw.length !== 6 && raw.length !== 7) bad(`has ${raw.length} fields, not 6 or 7`);
  const [, , state, seq, failing, outcomes, timers] = raw as unknown[];
  if (!(state instanceof Uint8Array)) bad("has no state bytes");
  if (!isSeq(seq)) bad("has no valid sequence");
  cursor.seq = seq as number;
  if (failing !== null) {
    const f = failing as unknown[];
    if (!Array.isArray(f) || f.length !== 3 || !isSeq(f[0]) || !isSeq(f[1]) || typeof f[2] !== "string" || f[2].length > MAX_REASON) bad("has a malformed failing entry");
    cursor.failing = { seq: f[0] as number, attempts: f[1] as number, reason: f[2] as string };
  }
  if (!Array.isArray(outcomes) || outcomes.length > OUTCOMES_KEPT) bad("has malformed outcomes");
  for (const o of outcomes as unknown[]) {
    if (!Array.isArray(o) || o.length !== 3 || typeof o[0] !== "string") bad("has a malformed outcome");
    const [key, value, error] = o as [string, unknown, unknown];
    cursor.remember(key, { value, error: error === null ? null : checkError(error, bad) });
  }
  return { state: decodeValue(state as Uint8Array), stateBytes: state as Uint8Array, cursor, timers: timers === undefined ? [] : decodeTimers(timers) };
}

/** Bytes an outcome takes in the record (Infinity when its value cannot be encoded). */
function outcomeSize(o: Outcome): number {
  if (o.error) return o.error.name.length + o.error.code.length + o.error.message.length + (o.error.fields ? JSON.stringify(o.error.fields).length : 0);
  try {
    return encodeValue(o.value).length;
  } catch {
    return Infinity;
  }
}

/** The outcome a retried ask gets when the first one's answer could not be remembered. */
function notKept(key: string, why: string): Outcome {
  const message = `the ask with key ${JSON.stringify(key)} was applied once, but ${why}`;
  return { value: null, error: wireError(OUTCOME_NOT_KEPT, ErrorCode.Remote, message) };
}

function isSeq(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function checkError(e: unknown, bad: (what: string) => never): WireError {
  if (!Array.isArray(e) || e.length !== 4 || !e.slice(0, 3).every((f) => typeof f === "string")) bad("has a malformed error outcome");
  const [name, code, message, fields] = e as [string, string, string, unknown];
  if (fields !== null && (typeof fields !== "object" || Array.isArray(fields))) bad("has malformed error fields");
  return wireError(name, code, message, fields ? wireFields(fields as object) : undefined);
}
