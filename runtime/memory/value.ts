// Memory values: MessagePack through the runtime's codec, with the errors a
// memory caller expects. `undefined` is not a value (a missing key reads as
// undefined), an oversized value is refused before anything is written, so is
// one that would not decode again (an object key "__proto__"), and stored bytes
// that do not decode name the key they belong to.

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
  if (mayNotReadBack(bytes)) {
    try {
      decodeValue(bytes);
    } catch (err) {
      throw new InvalidArgumentError(
        "value",
        `value for "${key}" could be stored but not read back (${(err as Error).message}): an object key "__proto__" is not allowed`,
      );
    }
  }
  return bytes;
}

/** The MessagePack string "__proto__" (fixstr of 9 bytes), a map key the decoder refuses. */
const PROTO_KEY = Buffer.from([0xa9, ...Buffer.from("__proto__", "latin1")]);

/** True when the bytes hold "__proto__", so the value must be checked to decode before it is stored. */
function mayNotReadBack(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(PROTO_KEY);
}

/** Decode the stored bytes of `key`; throws ValueDecodeError naming the key. */
export function decodeMemoryValue(key: string, bytes: Uint8Array): unknown {
  try {
    return decodeValue(bytes);
  } catch (err) {
    throw new ValueDecodeError(key, { cause: err });
  }
}
