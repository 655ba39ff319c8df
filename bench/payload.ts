// The message every throughput variant sends: a MessagePack map
// `{ op, n, pad }` of exactly 128 bytes, whatever `n` is, so Troupe, raw
// nats.js and Moleculer carry the same user message.

import { encode } from "@msgpack/msgpack";

/** The encoded size of every {@link payload}, in bytes (MessagePack). */
export const PAYLOAD_BYTES = 128;

/** A benchmark message: an operation, a sequence number to check the answer by, and padding. */
export interface Payload {
  op: string;
  n: number;
  pad: string;
}

const pads = new Map<string, string>();

/** MessagePack spends 1, 2, 3, 5 or 9 bytes on an integer, by its range: the class of `n`. */
function sizeClass(n: number): number {
  if (!Number.isInteger(n) || n < 0) return 9;
  if (n < 128) return 1;
  if (n < 256) return 2;
  if (n < 65_536) return 3;
  if (n < 2 ** 32) return 5;
  return 9;
}

/**
 * `{ op, n, pad }` padded so that its MessagePack encoding is {@link PAYLOAD_BYTES}
 * long. The padding is worked out once per `op` and size class of `n`.
 *
 * @example
 * encode(payload("echo", 70_000)).length // 128
 */
export function payload(op: string, n: number): Payload {
  const key = `${op}:${sizeClass(n)}`;
  let pad = pads.get(key);
  if (pad === undefined) {
    const base = encode({ op, n, pad: "" }).length; // with a 1-byte string header
    let len = PAYLOAD_BYTES - base;
    if (len > 31) len -= 1; // past 31 characters the string header takes 2 bytes
    if (len < 0 || len > 255) throw new RangeError(`no padding makes {op: ${JSON.stringify(op)}} ${PAYLOAD_BYTES} bytes`);
    pad = "x".repeat(len);
    pads.set(key, pad);
  }
  return { op, n, pad };
}
