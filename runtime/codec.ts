// MessagePack, the one payload format on the wire and in memory. One reusable
// encoder and decoder per process (both are synchronous, so sharing is safe);
// every failure comes back as an InvalidMessageError that says what was wrong.
//
// Values that MessagePack would flatten into something else are refused, not
// sent: a Map, Set or Promise would otherwise arrive as `{}`, an Error without
// its message, a Float64Array as a Uint8Array of its bytes. Dates travel as
// MessagePack timestamps and come back as Dates. Instances of other classes
// travel as their own enumerable fields (their prototype is not sent).

import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { errorText, InvalidMessageError } from "./errors.js";

/** Default upper bound of an encoded message, in bytes (the dev server's max_payload is 1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The extension hook sees every object before it is encoded; it encodes none
 * itself and only refuses the ones that would lose their content.
 */
const refuseLossy = new ExtensionCodec();
refuseLossy.register({
  type: 0,
  encode(input: unknown): null {
    const lossy = lossyKind(input);
    if (lossy) throw new InvalidMessageError(`${lossy} cannot be encoded faithfully; send plain data (objects, arrays, strings, numbers, booleans, null, Uint8Array, Date)`);
    return null;
  },
  decode: () => {
    throw new InvalidMessageError("extension type 0 is not used by Troupe");
  },
});

/** The name of a value MessagePack would not carry faithfully, or undefined. */
function lossyKind(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return typeof v === "function" ? "a function" : undefined;
  const proto: unknown = Object.getPrototypeOf(v);
  // Plain objects and arrays, the common case, cost one look at their prototype.
  if (proto === Object.prototype || proto === null) {
    // Decoding refuses this key (it would set the prototype), so a value holding it could never be read back.
    if (Object.prototype.hasOwnProperty.call(v, "__proto__")) return 'an object with its own "__proto__" key';
    return typeof (v as { then?: unknown }).then === "function" ? "a Promise (await it first)" : undefined;
  }
  if (proto === Array.prototype || v instanceof Uint8Array || v instanceof Date) return undefined;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} (send a Uint8Array of its bytes, or an array of numbers)`;
  if (v instanceof Map) return "a Map";
  if (v instanceof Set) return "a Set";
  if (v instanceof WeakMap || v instanceof WeakSet) return "a WeakMap or WeakSet";
  if (typeof (v as { then?: unknown }).then === "function") return "a Promise (await it first)";
  if (v instanceof Error) return "an Error";
  if (v instanceof RegExp) return "a RegExp";
  if (v instanceof ArrayBuffer) return "an ArrayBuffer (wrap it in a Uint8Array)";
  return undefined;
}

const encoder = new Encoder({ ignoreUndefined: true, extensionCodec: refuseLossy });
const decoder = new Decoder({ extensionCodec: refuseLossy });

/** Encode a value as MessagePack; throws InvalidMessageError if it cannot be encoded faithfully. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return encoder.encode(value);
  } catch (err) {
    if (err instanceof InvalidMessageError) throw err;
    throw new InvalidMessageError(`cannot be encoded as MessagePack (${errorText(err)})`, { cause: err });
  }
}

/** Decode MessagePack bytes; throws InvalidMessageError if they do not decode. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    if (err instanceof InvalidMessageError) throw err;
    throw new InvalidMessageError(`does not decode as MessagePack (${errorText(err)})`, { cause: err });
  }
}
