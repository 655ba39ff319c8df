// The state of the persisted agents in the throughput scenario: a
// conversation history, as an AI agent keeps one, of a chosen encoded size.

import { encode } from "@msgpack/msgpack";

/** One turn of the conversation. */
export interface Turn {
  role: "user" | "assistant";
  content: string;
}

export interface HistoryState {
  turns: Turn[];
}

/** Characters of content per turn before the last (about 500 bytes a turn). */
const TURN_CHARS = 480;

/**
 * A history whose MessagePack encoding is `bytes` long (to within a few bytes
 * for sizes under 40): full turns of about 500 bytes, then one shorter turn.
 *
 * @example
 * encode(historyOfSize(50 * 1024)).length // 51200
 */
export function historyOfSize(bytes: number): HistoryState {
  const turns: Turn[] = [];
  const state: HistoryState = { turns };
  const text = (len: number, i: number): string => `${i}:`.padEnd(Math.max(0, len), "lorem ipsum dolor sit amet ");
  for (let i = 0; ; i++) {
    const role = i % 2 === 0 ? "user" : "assistant";
    turns.push({ role, content: "" });
    const empty = encode(state).length;
    const room = bytes - empty;
    if (room <= 0) {
      turns.pop();
      break;
    }
    if (room > TURN_CHARS + 16) {
      turns[i] = { role, content: text(TURN_CHARS, i) };
      continue;
    }
    // The last turn: find the content length that lands on `bytes` (string headers grow at 32 and 256).
    for (let len = room; len >= 0; len--) {
      turns[i] = { role, content: text(len, i).slice(0, len) };
      if (encode(state).length <= bytes) break;
    }
    break;
  }
  return state;
}
