// MessagePack, the one payload format on the wire and in memory. One reusable
// encoder and decoder per process (both are synchronous, so sharing is safe);
// every failure comes back as an InvalidMessageError that says what was wrong.

import { Decoder, Encoder } from "@msgpack/msgpack";
import { InvalidMessageError } from "./errors.js";

/** Default upper bound of an encoded message, in bytes (the dev server's max_payload is 1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** Encode a value as MessagePack; throws InvalidMessageError if it cannot be encoded. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return encoder.encode(value);
  } catch (err) {
    throw new InvalidMessageError(`cannot be encoded as MessagePack (${errorText(err)})`, { cause: err });
  }
}

/** Decode MessagePack bytes; throws InvalidMessageError if they do not decode. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new InvalidMessageError(`does not decode as MessagePack (${errorText(err)})`, { cause: err });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
