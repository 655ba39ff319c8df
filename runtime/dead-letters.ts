// Dead letters: messages that could not be handled, with the reason, published
// to `troupe.<ns>.dlq.<type>.<key>` and kept by the stream `TROUPE_<NS>_DLQ`.
// A node does not start when that stream can be neither found nor created.

import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import { encodeEnvelope, Kind } from "./envelope.js";
import { errorText, InvalidConfigError } from "./errors.js";
import type { Clock } from "./clock.js";
import { formatAgentId, type Subjects } from "./subjects.js";

/** What a dead letter records. */
export interface DeadLetter {
  /** AgentId the message was for. */
  to: string;
  reason: string;
  /** The `type` field of the message, when it had one. */
  messageType: string | null;
  sender: string | null;
  messageId: string | null;
  /** The message body, when it decoded; else the raw bytes. */
  body: unknown;
  node: string;
  at: number;
  /**
   * How many times the message was delivered before it was given up, when the
   * mailbox counts deliveries (a durable mailbox's poison message); absent otherwise.
   */
  deliveries?: number;
}

/**
 * Make sure the dead-letter stream exists (kept 7 days, at most 100k messages
 * and 256 MiB, the oldest dropped first: a flood of garbage cannot fill the server's disk).
 * An existing stream is left as it is.
 *
 * @throws InvalidConfigError when the stream neither exists nor can be created
 *   (its subjects overlap another stream's, the account's limits are reached,
 *   no permission): dead letters would otherwise be lost without a word.
 */
export async function ensureDeadLetterStream(nc: NatsConnection, subjects: Subjects, replicas = 1): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = subjects.deadLetterStream();
  const exists = (): Promise<boolean> =>
    jsm.streams.info(name).then(
      () => true,
      () => false,
    );
  if (await exists()) return;
  try {
    await jsm.streams.add({
      name,
      subjects: [subjects.allDeadLetters()],
      max_age: 7 * 24 * 3600 * 1_000_000_000,
      max_msgs: 100_000,
      max_bytes: DEAD_LETTER_STREAM_BYTES,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
    });
  } catch (err) {
    // Another node created it at the same moment: fine.
    if (await exists()) return;
    const why = errorText(err);
    throw new InvalidConfigError("dead-letter stream", `${name} (subjects ${subjects.allDeadLetters()}) could not be created: ${why}`);
  }
}

/** Bytes the dead-letter stream keeps at most. */
export const DEAD_LETTER_STREAM_BYTES = 256 * 1024 * 1024;

/** Publishes dead letters for one node. Never throws into the caller. */
export class DeadLetters {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly nodeId: string,
    private readonly clock: Clock,
  ) {}

  publish(type: string, key: string, letter: Omit<DeadLetter, "to" | "node" | "at">): void {
    const full: DeadLetter = { ...letter, to: formatAgentId(type, key), node: this.nodeId, at: this.clock.now() };
    try {
      this.nc.publish(
        this.subjects.deadLetter(type, key),
        encodeEnvelope(Kind.Event, nuid.next(), this.nodeId, null, full, Number.MAX_SAFE_INTEGER),
      );
    } catch {
      // The body may not encode (it never decoded): keep the reason at least.
      try {
        this.nc.publish(
          this.subjects.deadLetter(type, key),
          encodeEnvelope(Kind.Event, nuid.next(), this.nodeId, null, { ...full, body: null }, Number.MAX_SAFE_INTEGER),
        );
      } catch {
        // Connection closed: nothing more can be done here.
      }
    }
  }
}
