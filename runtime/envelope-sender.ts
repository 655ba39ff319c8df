// The sender an encoded envelope names, read without decoding its body: the
// door of an agent that accepts only verified senders checks it against the
// proof before the message is queued. It reads the MessagePack prefix
// `[1, kind, id, sender, ...` the way the encoder writes it; anything else is
// decoded in full, so it names the sender the agent would see.

import { decodeEnvelope, EnvelopeLimits } from "./envelope.js";
import { InvalidMessageError } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Offset and length of a MessagePack string at `at`, or undefined when it is not a string. */
function stringAt(b: Uint8Array, at: number): { start: number; length: number } | undefined {
  const t = b[at];
  if (t === undefined) return undefined;
  if (t >= 0xa0 && t <= 0xbf) return { start: at + 1, length: t & 0x1f };
  if (t === 0xd9 && at + 1 < b.length) return { start: at + 2, length: b[at + 1]! };
  if (t === 0xda && at + 2 < b.length) return { start: at + 3, length: (b[at + 1]! << 8) | b[at + 2]! };
  return undefined;
}

/**
 * The `sender` of an encoded envelope (null when it names none).
 *
 * @throws InvalidMessageError when the bytes are not an envelope
 */
export function envelopeSender(bytes: Uint8Array, maxBytes: number): string | null {
  const t = bytes[0];
  // fixarray of 6 or 7 elements, version 1, kind 0-4 (positive fixints)
  if ((t === 0x96 || t === 0x97) && bytes[1] === 1 && bytes[2] !== undefined && bytes[2] <= 4 && bytes.length <= maxBytes) {
    const id = stringAt(bytes, 3);
    if (id !== undefined) {
      const at = id.start + id.length;
      if (bytes[at] === 0xc0) return null;
      const s = stringAt(bytes, at);
      // A sender over its bound is left to the full decode, which refuses it as decodeEnvelope does everywhere.
      if (s !== undefined && s.length <= EnvelopeLimits.sender && s.start + s.length <= bytes.length) {
        try {
          return utf8.decode(bytes.subarray(s.start, s.start + s.length));
        } catch {
          throw new InvalidMessageError("sender is not valid UTF-8");
        }
      }
    }
  }
  return decodeEnvelope(bytes, maxBytes).sender;
}
