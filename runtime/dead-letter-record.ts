// A dead letter read back from the stream `TROUPE_<NS>_DLQ`. Whatever is in
// the stream is hostile input (anyone allowed to publish on a dead-letter
// subject can put anything there), so a stored message is decoded strictly:
// either it is a record a node wrote, checked field by field, or it is listed
// as undecodable with the reason. Decoding never throws.

import { decodeEnvelope, Kind } from "./envelope.js";
import type { DeadLetter } from "./dead-letters.js";
import { errorText } from "./errors.js";
import { formatAgentId, type Subjects } from "./subjects.js";

/** A dead letter as stored: the record a node wrote, and its place in the stream. */
export interface StoredDeadLetter extends DeadLetter {
  readonly kind: "letter";
  /** Its stream sequence: how `get`, `replay` and `delete` name it. */
  seq: number;
  /** When the stream stored it (the server's clock), ms since the epoch. */
  storedAt: number;
}

/** A message of the dead-letter stream that is not a record a node wrote. */
export interface UndecodableDeadLetter {
  readonly kind: "undecodable";
  seq: number;
  storedAt: number;
  /** The subject it was published on. */
  subject: string;
  /** Why it does not decode. */
  problem: string;
  /** Its size in bytes. */
  bytes: number;
}

/** One message of the dead-letter stream: a dead letter, or something that does not decode as one. */
export type DeadLetterEntry = StoredDeadLetter | UndecodableDeadLetter;

/** A message as the stream returns it. */
export interface StreamMessage {
  seq: number;
  subject: string;
  /** Server time of storage, ms since the epoch. */
  storedAt: number;
  data: Uint8Array;
}

/**
 * Whether the dead-lettered message never decoded, so the record holds the
 * bytes received instead of a message: its body is bytes and it has no message
 * id (a message that decoded always has one). Such a message cannot be sent again.
 */
export function isRawBody(letter: DeadLetter): letter is DeadLetter & { body: Uint8Array } {
  return letter.body instanceof Uint8Array && !letter.messageId;
}

/** Decode one stream message into a {@link DeadLetterEntry}. Never throws. */
export function decodeDeadLetter(subjects: Subjects, m: StreamMessage): DeadLetterEntry {
  const undecodable = (problem: string): UndecodableDeadLetter => ({
    kind: "undecodable",
    seq: m.seq,
    storedAt: m.storedAt,
    subject: m.subject,
    problem,
    bytes: m.data.length,
  });
  let record: unknown;
  try {
    const env = decodeEnvelope(m.data, Number.MAX_SAFE_INTEGER);
    if (env.kind !== Kind.Event) return undecodable(`not a dead-letter record (envelope kind ${env.kind})`);
    record = env.body;
  } catch (err) {
    return undecodable(errorText(err));
  }
  const problem = recordProblem(record);
  if (problem !== undefined) return undecodable(problem);
  const r = record as DeadLetter;
  const agent = subjects.parseDeadLetter(m.subject);
  if (agent === undefined) return undecodable(`subject ${m.subject} is not a dead-letter subject of namespace ${subjects.ns}`);
  const to = formatAgentId(agent.type, agent.key);
  if (r.to !== to) return undecodable(`the record names ${JSON.stringify(r.to)} but was stored under ${to}`);
  return {
    kind: "letter",
    seq: m.seq,
    storedAt: m.storedAt,
    to,
    reason: r.reason,
    messageType: r.messageType,
    sender: r.sender,
    messageId: r.messageId,
    body: r.body ?? null,
    node: r.node,
    at: r.at,
    ...(r.deliveries !== undefined ? { deliveries: r.deliveries } : {}),
  };
}

/** What is wrong with a decoded record, field by field, or undefined when it is a DeadLetter. */
function recordProblem(record: unknown): string | undefined {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return "the record is not an object";
  const r = record as Record<string, unknown>;
  for (const field of ["to", "reason", "node"] as const) {
    if (typeof r[field] !== "string") return `field "${field}" is not a string`;
  }
  for (const field of ["messageType", "sender", "messageId"] as const) {
    if (r[field] !== null && typeof r[field] !== "string") return `field "${field}" is neither a string nor null`;
  }
  if (typeof r.at !== "number" || !Number.isFinite(r.at)) return `field "at" is not a time`;
  if (r.deliveries !== undefined && (!Number.isSafeInteger(r.deliveries) || (r.deliveries as number) < 1)) {
    return `field "deliveries" is not a whole number above 0`;
  }
  return undefined;
}
