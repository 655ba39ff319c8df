// An agent's durable timers (ctx.schedule / ctx.cancel): what a timer is, how
// a `when` becomes a first due time, how a recurring one moves on after it
// fired, and how the table is encoded into (and checked out of) the agent's
// persisted state record. Everything read from the bucket is hostile: a
// malformed entry is an InvalidMessageError, never trusted.
//
//   timers: [[name, kind, due, every | null, cron | null, tz | null, msg (MessagePack bytes), attempts], ...]
//
// A recurring timer that missed several due times (nothing ran) fires once,
// then goes on with its schedule: the next due time after now (an `every`
// timer keeps its phase: due + k * every).

import { Cron } from "croner";
import { decodeValue, encodeValue } from "./codec.js";
import { InvalidArgumentError, InvalidMessageError, errorText } from "./errors.js";
import { validateToken } from "./subjects.js";

/** How a timer comes due. */
export const TimerKind = { At: "at", Every: "every", Cron: "cron" } as const;
export type TimerKind = (typeof TimerKind)[keyof typeof TimerKind];

/** When a timer fires: once at a time, once after a delay, every `every` ms, or on a cron schedule. */
export type TimerWhen =
  | { at: Date | number }
  | { afterMs: number }
  | { every: number; startAt?: Date | number; afterMs?: number }
  | { cron: string; tz?: string };

/** A timer as `ctx.timers()` lists it. */
export interface TimerInfo {
  name: string;
  kind: TimerKind;
  /** When it fires next (epoch ms). */
  due: number;
  /** Times its message failed (its receive threw); dead-lettered at the type's maxDeliver. */
  attempts: number;
}

/** One timer. Immutable: a change makes a new one. */
export interface Timer {
  readonly name: string;
  readonly kind: TimerKind;
  readonly due: number;
  readonly every: number | null;
  readonly cron: string | null;
  readonly tz: string | null;
  /** The message, encoded once when scheduled. */
  readonly msg: Uint8Array;
  readonly attempts: number;
}

/** Timers one agent may hold at once. */
export const MAX_TIMERS = 1024;

/** The longest cron expression and time zone name kept. */
const MAX_CRON = 256;
const MAX_TZ = 64;

/**
 * Check a schedule and make its timer, due first as `when` says from `now`.
 * Throws InvalidArgumentError naming what is wrong (the name, the `when`, the cron expression, the message).
 */
export function makeTimer(name: string, when: TimerWhen, msg: unknown, now: number, maxMessageBytes: number): Timer {
  validateToken("timer name", name);
  if (when === null || typeof when !== "object") throw new InvalidArgumentError("when", "when is one of { at }, { afterMs }, { every, startAt?, afterMs? }, { cron, tz? }");
  const keys = Object.keys(when);
  const allowed = (...names: string[]) => {
    const extra = keys.filter((k) => !names.includes(k));
    if (extra.length > 0) throw new InvalidArgumentError("when", `unexpected field ${JSON.stringify(extra[0])} in when`);
  };
  const bytes = encodeMessage(msg, maxMessageBytes);
  const w = when as Record<string, unknown>;
  if ("cron" in w) {
    allowed("cron", "tz");
    const cron = w.cron;
    const tz = w.tz ?? null;
    if (typeof cron !== "string" || cron.length > MAX_CRON) throw new InvalidArgumentError("cron", `cron is a string of at most ${MAX_CRON} characters`);
    if (tz !== null && (typeof tz !== "string" || tz.length > MAX_TZ)) throw new InvalidArgumentError("tz", `tz is an IANA time zone name of at most ${MAX_TZ} characters`);
    const due = nextCron(cron, tz, now, (why) => new InvalidArgumentError("cron", `invalid cron schedule ${JSON.stringify(cron)}${tz ? ` in ${tz}` : ""}: ${why}`));
    return { name, kind: TimerKind.Cron, due, every: null, cron, tz, msg: bytes, attempts: 0 };
  }
  if ("every" in w) {
    allowed("every", "startAt", "afterMs");
    const every = w.every;
    if (!isPositiveMs(every)) throw new InvalidArgumentError("every", "every is a whole number of milliseconds, at least 1");
    if (w.startAt !== undefined && w.afterMs !== undefined) throw new InvalidArgumentError("when", "give startAt or afterMs, not both");
    const due = inRange(w.startAt !== undefined ? epochMs("startAt", w.startAt) : now + (w.afterMs !== undefined ? delayMs(w.afterMs) : (every as number)));
    return { name, kind: TimerKind.Every, due, every: every as number, cron: null, tz: null, msg: bytes, attempts: 0 };
  }
  if ("at" in w) {
    allowed("at");
    return { name, kind: TimerKind.At, due: inRange(epochMs("at", w.at)), every: null, cron: null, tz: null, msg: bytes, attempts: 0 };
  }
  if ("afterMs" in w) {
    allowed("afterMs");
    return { name, kind: TimerKind.At, due: inRange(now + delayMs(w.afterMs)), every: null, cron: null, tz: null, msg: bytes, attempts: 0 };
  }
  throw new InvalidArgumentError("when", "when is one of { at }, { afterMs }, { every, startAt?, afterMs? }, { cron, tz? }");
}

/** What a timer becomes once it fired at `now`: gone (one-shot), or due next on its schedule, after now. */
export function afterFiring(t: Timer, now: number): Timer | undefined {
  switch (t.kind) {
    case TimerKind.At:
      return undefined;
    case TimerKind.Every: {
      const every = t.every!;
      const steps = Math.max(1, Math.floor((now - t.due) / every) + 1);
      const due = t.due + steps * every;
      // Past the last time a Date can hold: the schedule is over.
      return due <= MAX_DUE ? { ...t, due, attempts: 0 } : undefined;
    }
    case TimerKind.Cron: {
      // Checked when scheduled (and when read back): a schedule with no run left is over.
      let due: number;
      try {
        due = nextCron(t.cron!, t.tz, Math.max(now, t.due), (why) => new Error(why));
      } catch {
        return undefined;
      }
      return { ...t, due, attempts: 0 };
    }
  }
}

/** The public view of a timer. */
export function timerInfo(t: Timer): TimerInfo {
  return { name: t.name, kind: t.kind, due: t.due, attempts: t.attempts };
}

/** The timers as the state record stores them. */
export function encodeTimers(timers: Iterable<Timer>): unknown[] {
  const out: unknown[] = [];
  for (const t of timers) out.push([t.name, t.kind, t.due, t.every, t.cron, t.tz, t.msg, t.attempts]);
  return out;
}

/** Check what a state record holds as timers; throws InvalidMessageError when it is malformed. */
export function decodeTimers(raw: unknown): Timer[] {
  const bad = (what: string): never => {
    throw new InvalidMessageError(`the stored timers ${what}`);
  };
  if (!Array.isArray(raw) || raw.length > MAX_TIMERS) bad("are not a list of at most " + MAX_TIMERS);
  const seen = new Set<string>();
  const out: Timer[] = [];
  for (const e of raw as unknown[]) {
    if (!Array.isArray(e) || e.length !== 8) bad("hold an entry that is not an 8-element list");
    const [name, kind, due, every, cron, tz, msg, attempts] = e as unknown[];
    if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(name) || seen.has(name)) bad("hold a bad or repeated name");
    seen.add(name as string);
    if (!isEpoch(due)) bad(`hold a bad due time for ${String(name)}`);
    if (!(msg instanceof Uint8Array) || !decodes(msg)) bad(`hold no decodable message for ${String(name)}`);
    if (!(typeof attempts === "number" && Number.isSafeInteger(attempts) && attempts >= 0)) bad(`hold bad attempts for ${String(name)}`);
    const base = { name: name as string, due: due as number, msg: msg as Uint8Array, attempts: attempts as number };
    if (kind === TimerKind.At && every === null && cron === null && tz === null) {
      out.push({ ...base, kind, every: null, cron: null, tz: null });
    } else if (kind === TimerKind.Every && isPositiveMs(every) && cron === null && tz === null) {
      out.push({ ...base, kind, every: every as number, cron: null, tz: null });
    } else if (kind === TimerKind.Cron && every === null && typeof cron === "string" && cron.length <= MAX_CRON && (tz === null || (typeof tz === "string" && tz.length <= MAX_TZ))) {
      // Only the pattern is checked: a schedule whose last run is the stored one has no run after it, and is over once it fires.
      checkCron(cron, tz as string | null, (why) => new InvalidMessageError(`the stored timers hold a bad cron schedule for ${String(name)}: ${why}`));
      out.push({ ...base, kind, every: null, cron, tz: tz as string | null });
    } else {
      bad(`hold a malformed schedule for ${String(name)}`);
    }
  }
  return out;
}

/** Check that a cron pattern (and time zone) parses; `fail` makes the error. */
function checkCron(pattern: string, tz: string | null, fail: (why: string) => Error): void {
  try {
    // Computing a run checks the time zone too; none left is not an error here.
    new Cron(pattern, tz ? { timezone: tz } : {}).nextRun(new Date(0));
  } catch (err) {
    throw fail(errorText(err));
  }
}

/** The next run of a cron schedule after `after` (epoch ms); `fail` makes the error for a bad schedule or one with no run left. */
function nextCron(pattern: string, tz: string | null, after: number, fail: (why: string) => Error): number {
  let next: Date | null;
  try {
    const cron = new Cron(pattern, tz ? { timezone: tz } : {});
    next = cron.nextRun(new Date(after));
  } catch (err) {
    throw fail(errorText(err));
  }
  if (next === null) throw fail("it has no run left");
  return next.getTime();
}

function encodeMessage(msg: unknown, maxBytes: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(msg);
  } catch (err) {
    throw new InvalidArgumentError("msg", `the timer's message cannot be encoded: ${errorText(err)}`);
  }
  if (bytes.length > maxBytes) throw new InvalidArgumentError("msg", `the timer's message is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  return bytes;
}

function epochMs(what: string, v: unknown): number {
  const ms = v instanceof Date ? v.getTime() : v;
  if (!isEpoch(ms)) throw new InvalidArgumentError(what, `${what} is a valid Date or epoch milliseconds (a whole number, not negative)`);
  return ms as number;
}

function delayMs(v: unknown): number {
  if (!(typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) throw new InvalidArgumentError("afterMs", "afterMs is a whole number of milliseconds, not negative");
  return v;
}

function isEpoch(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_DUE;
}

/** The latest due time: the last millisecond a Date can hold (year 275760). */
export const MAX_DUE = 8.64e15;

/** A due time a timer can have, else InvalidArgumentError. */
function inRange(due: number): number {
  if (!(due <= MAX_DUE)) throw new InvalidArgumentError("when", `the timer would be due at ${due} ms after 1970, past the last time a Date can hold (${MAX_DUE})`);
  return due;
}

function isPositiveMs(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}

function decodes(bytes: Uint8Array): boolean {
  try {
    decodeValue(bytes);
    return true;
  } catch {
    return false;
  }
}
