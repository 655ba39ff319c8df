// What a core (not durable) persisted agent stores when it has timers: its
// state and its timers in one value, so one compare-and-set write commits
// both. An agent without timers stores its state as it is, as before:
//
//   ["troupe/timers", 1, state (MessagePack bytes), timers]   (see timer-table.ts)
//
// Anyone with access to the bucket can write it: a value marked as this record
// whose fields are wrong is an InvalidMessageError, never trusted.

import { decodeValue, encodeValue } from "./codec.js";
import { InvalidMessageError } from "./errors.js";
import { decodeTimers, encodeTimers, type Timer } from "./timer-table.js";

const MARK = "troupe/timers";
const VERSION = 1;

/** Encode a core agent's state with its timers (its state alone when it has none). */
export function encodeTimerRecord(state: Uint8Array, timers: readonly Timer[]): Uint8Array {
  // A state that would read back as a record (a list starting with the mark) is wrapped even without timers.
  if (timers.length === 0 && !looksLikeRecord(state)) return state;
  return encodeValue([MARK, VERSION, state, encodeTimers(timers)]);
}

/** Whether `bytes` encode a list whose first element is the mark (only lists are decoded to tell). */
function looksLikeRecord(bytes: Uint8Array): boolean {
  const b = bytes[0];
  if (b === undefined || !((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd)) return false;
  const raw = decodeValue(bytes);
  return Array.isArray(raw) && raw[0] === MARK;
}

/** What a core agent stored: its state (decoded) and its timers (none for a plain value). */
export function decodeTimerRecord(bytes: Uint8Array): { state: unknown; timers: Timer[] } {
  const raw = decodeValue(bytes);
  if (!Array.isArray(raw) || raw[0] !== MARK) return { state: raw, timers: [] };
  if (raw.length !== 4 || raw[1] !== VERSION) throw new InvalidMessageError(`the stored timer record has version ${String(raw[1])} or ${raw.length} fields, not version ${VERSION} with 4`);
  if (!(raw[2] instanceof Uint8Array)) throw new InvalidMessageError("the stored timer record has no state bytes");
  return { state: decodeValue(raw[2]), timers: decodeTimers(raw[3]) };
}

/** The state a stored value holds, for readers (node.persistedState, agentctl state): the timer record unwrapped, anything else as it is. */
export function storedStateValue(bytes: Uint8Array): unknown {
  const raw = decodeValue(bytes);
  if (Array.isArray(raw) && raw[0] === MARK && raw[1] === VERSION && raw[2] instanceof Uint8Array) return decodeValue(raw[2]);
  return raw;
}

/** The state's bytes in what a core agent stored: inside the timer record, or the value itself. */
export function storedStateBytes(bytes: Uint8Array): Uint8Array {
  const raw = decodeValue(bytes);
  if (Array.isArray(raw) && raw[0] === MARK && raw[2] instanceof Uint8Array) return raw[2];
  return bytes;
}
