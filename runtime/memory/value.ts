// Memory values: MessagePack through the runtime's codec, with the errors a
// memory caller expects. `undefined` is not a value (a missing key reads as
// undefined), an oversized value is refused before anything is written, so is
// one the codec refuses (a Map, or an object key "__proto__" that would not
// decode again), and stored bytes that do not decode name the key they belong to.

import { decodeValue, encodeValue } from "../codec.js";
import { InvalidArgumentError, ValueDecodeError, ValueTooLargeError } from "../errors.js";

/** Encode a value for `key`; throws InvalidArgumentError (undefined, not encodable) or ValueTooLargeError. */
export function encodeMemoryValue(key: string, value: unknown, maxBytes: number): Uint8Array {
  if (value === undefined) {
    throw new InvalidArgumentError("value", `cannot store undefined under "${key}": use delete() to remove a key, or null`);
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(value);
  } catch (err) {
    throw new InvalidArgumentError("value", `value for "${key}" cannot be encoded as MessagePack: ${(err as Error).message}`);
  }
  if (bytes.byteLength > maxBytes) throw new ValueTooLargeError(key, bytes.byteLength, maxBytes);
  return bytes;
}

/** Decode the stored bytes of `key`; throws ValueDecodeError naming the key. */
export function decodeMemoryValue(key: string, bytes: Uint8Array): unknown {
  try {
    return decodeValue(bytes);
  } catch (err) {
    throw new ValueDecodeError(key, { cause: err });
  }
}
