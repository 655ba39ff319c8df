// The versioned envelope every Troupe message travels in. On the wire it is a
// MessagePack array, so decoding is one pass and strict:
//
//   [version, kind, id, sender, trace, body]             tell, ask, event, system
//   [version, kind, id, sender, trace, body, stream]     an ask that takes chunks
//                                                        (stream: the asker's inactivity timeout, ms)
//   [version, kind, id, sender, null, chunk]             a chunk of the answer to an ask
//   [version, kind, id, sender, trace, body, error]      reply (error null when ok,
//                                                        else [name, code, message, fields?])
//
// `id` is the message id (for a reply or a chunk, the id of the ask it
// answers), `sender` an AgentId or a client name, `trace` a W3C traceparent
// or null. Chunks and the reply go to the ask's reply subject, in order; a
// chunk keeps the ask alive (its deadline starts again) without ending it.

import { getRandomValues } from "node:crypto";
import { decodeValue, encodeValue } from "./codec.js";
import { InvalidMessageError, wireError, wireFields, type WireError } from "./errors.js";

/** Envelope format version; a message with another version is rejected. */
export const ENVELOPE_VERSION = 1;

/**
 * Upper bounds of the envelope's header fields, checked on decode. A reply
 * repeats the id and names its sender, so bounding them keeps every reply,
 * and every error reply, small whatever the message was.
 */
export const EnvelopeLimits = {
  /** A message id: the runtime's are 11 to 16 characters (see nextMessageId); a caller's own ids (uuids, hashes) fit easily. */
  id: 128,
  /** A sender: an AgentId (two 128-character tokens) or a client or node name. */
  sender: 300,
  /** A W3C traceparent is 55 characters; room for a future version. */
  trace: 256,
} as const;

const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Characters of the random part of a message id: 62^10, about 2^59. */
const ID_PREFIX_LENGTH = 10;

function randomIdPrefix(): string {
  const bytes = getRandomValues(new Uint8Array(ID_PREFIX_LENGTH));
  let prefix = "";
  for (const b of bytes) prefix += ID_ALPHABET[b % ID_ALPHABET.length];
  return prefix;
}

const idPrefix = randomIdPrefix();
let idCount = 0;

/**
 * A new message id: a random part drawn once per process and a counter in
 * base 36 (`Xk3j9x0qZ2` then `0`, `1`, ... `2n9c`), unique without
 * coordination like a nuid but about half as long: the id travels in every
 * message and again in the reply to an ask, so its bytes are paid twice per ask.
 */
export function nextMessageId(): string {
  return idPrefix + (idCount++).toString(36);
}

/**
 * A caller's message id or idempotency key: 1 to EnvelopeLimits.id printable
 * ASCII characters, no spaces (it travels in the envelope and in a NATS header).
 */
export function isMessageKey(key: unknown): key is string {
  return typeof key === "string" && key.length > 0 && key.length <= EnvelopeLimits.id && /^[\x21-\x7e]+$/.test(key);
}

/** What a message is for. */
export const Kind = {
  Tell: 0,
  Ask: 1,
  Event: 2,
  System: 3,
  Reply: 4,
  /** Part of an answer, before the reply: streamed output, or a keep-alive. */
  Chunk: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** A decoded envelope. */
export interface Envelope {
  kind: Kind;
  id: string;
  sender: string | null;
  trace: string | null;
  body: unknown;
  /** Only on replies: the failure, when the ask failed. */
  error?: WireError | null;
  /** Only on asks that take chunks: the asker's inactivity timeout, in milliseconds. */
  stream?: number;
}

/** The longest inactivity timeout an ask may give (a day): past it, a stream is as good as dead. */
export const MAX_STREAM_INACTIVITY_MS = 24 * 60 * 60_000;

/**
 * Whether the raw bytes on a reply subject are a chunk, not the reply: a
 * chunk's envelope starts with a 6-element array, the version, then
 * {@link Kind.Chunk}. Three byte reads, so the ask path does not decode twice.
 */
export function isChunk(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[2] === Kind.Chunk && bytes[0] === 0x96 && bytes[1] === ENVELOPE_VERSION;
}

/** Encode an envelope; throws InvalidMessageError if the body cannot be encoded or is too large. */
export function encodeEnvelope(
  kind: Kind,
  id: string,
  sender: string | null,
  trace: string | null,
  body: unknown,
  maxBytes: number,
  stream?: number,
): Uint8Array {
  const bytes = encodeValue(
    stream === undefined ? [ENVELOPE_VERSION, kind, id, sender, trace, body] : [ENVELOPE_VERSION, kind, id, sender, trace, body, stream],
  );
  if (bytes.length > maxBytes) {
    throw new InvalidMessageError(`message is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  }
  return bytes;
}

/** Encode a chunk of the answer to the ask with id `inReplyTo`. */
export function encodeChunk(inReplyTo: string, sender: string | null, chunk: unknown, maxBytes: number): Uint8Array {
  const bytes = encodeValue([ENVELOPE_VERSION, Kind.Chunk, inReplyTo, sender, null, chunk]);
  if (bytes.length > maxBytes) {
    throw new InvalidMessageError(`chunk is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  }
  return bytes;
}

/** Encode a reply to the ask with id `inReplyTo`: a value, or an error. */
export function encodeReply(
  inReplyTo: string,
  sender: string | null,
  body: unknown,
  error: WireError | null,
  maxBytes: number,
): Uint8Array {
  const bytes = encodeValue([
    ENVELOPE_VERSION,
    Kind.Reply,
    inReplyTo,
    sender,
    null,
    error ? null : body,
    error ? (error.fields ? [error.name, error.code, error.message, error.fields] : [error.name, error.code, error.message]) : null,
  ]);
  if (bytes.length > maxBytes) {
    throw new InvalidMessageError(`reply is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  }
  return bytes;
}

/**
 * Whether `bytes` start as the runtime encodes an event (a 6- or 7-element array, version 1,
 * kind Event), without decoding: a door that refuses a message sent to it this way publishes
 * no event about it (an event delivered back into it would make one more, and so on).
 */
export function isEventEnvelope(bytes: Uint8Array): boolean {
  return (bytes[0] === 0x96 || bytes[0] === 0x97) && bytes[1] === ENVELOPE_VERSION && bytes[2] === Kind.Event;
}

/** Decode and check an envelope; throws InvalidMessageError saying what is wrong. */
export function decodeEnvelope(bytes: Uint8Array, maxBytes: number): Envelope {
  if (bytes.length > maxBytes) {
    throw new InvalidMessageError(`message is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  }
  const raw = decodeValue(bytes);
  if (!Array.isArray(raw) || raw.length < 6) throw new InvalidMessageError("not a Troupe envelope");
  const [version, kind, id, sender, trace, body] = raw as unknown[];
  if (version !== ENVELOPE_VERSION) {
    throw new InvalidMessageError(`unsupported envelope version ${String(version)} (expected ${ENVELOPE_VERSION})`);
  }
  if (typeof kind !== "number" || kind < Kind.Tell || kind > Kind.Chunk || !Number.isInteger(kind)) {
    throw new InvalidMessageError(`unknown message kind ${String(kind)}`);
  }
  if (typeof id !== "string") throw new InvalidMessageError("message id is missing");
  if (id.length > EnvelopeLimits.id) throw new InvalidMessageError(`message id is ${id.length} characters, over the ${EnvelopeLimits.id}-character limit`);
  if (sender !== null && typeof sender !== "string") throw new InvalidMessageError("sender is not a string");
  if (sender !== null && sender.length > EnvelopeLimits.sender) {
    throw new InvalidMessageError(`sender is ${sender.length} characters, over the ${EnvelopeLimits.sender}-character limit`);
  }
  if (trace !== null && typeof trace !== "string") throw new InvalidMessageError("trace context is not a string");
  if (trace !== null && trace.length > EnvelopeLimits.trace) {
    throw new InvalidMessageError(`trace context is ${trace.length} characters, over the ${EnvelopeLimits.trace}-character limit`);
  }
  const env: Envelope = { kind: kind as Kind, id, sender, trace, body };
  if (kind === Kind.Ask && raw.length > 6 && raw[6] !== null) {
    const stream = raw[6];
    if (typeof stream !== "number" || !Number.isInteger(stream) || stream < 1 || stream > MAX_STREAM_INACTIVITY_MS) {
      throw new InvalidMessageError(`an ask's stream inactivity timeout must be 1 to ${MAX_STREAM_INACTIVITY_MS} ms`);
    }
    env.stream = stream;
  }
  if (kind === Kind.Reply) {
    const error = raw[6];
    if (error !== null && error !== undefined) {
      if (!Array.isArray(error) || error.length < 3 || error.length > 4 || !error.slice(0, 3).every((f) => typeof f === "string")) {
        throw new InvalidMessageError("malformed error in reply");
      }
      const fields = error[3];
      if (fields !== undefined && (fields === null || typeof fields !== "object" || Array.isArray(fields))) {
        throw new InvalidMessageError("malformed error fields in reply");
      }
      env.error = wireError(error[0] as string, error[1] as string, error[2] as string, fields ? wireFields(fields as object) : undefined);
    } else {
      env.error = null;
    }
  }
  return env;
}
