// Publishing on topics. A core topic is a tell on `troupe.<ns>.topic.<name>`,
// queued with the sender's other tells (so in order with them) and handed to
// NATS at the end of the turn: at most once. A durable topic is stored in the
// namespace's topics stream (`troupe.<ns>.dtopic.<name>`) with a message id
// (the duplicate window drops a retry); the publish resolves once stored.

import type { JetStreamClient } from "@nats-io/jetstream";
import { encodeEnvelope, Kind, nextMessageId } from "./envelope.js";
import type { Clock } from "./clock.js";
import { errorText, TopicUnavailableError } from "./errors.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import type { Messenger } from "./messenger.js";
import type { Subjects } from "./subjects.js";
import { publishTarget, type Topic } from "./define-topic.js";

/** Publishes on topics for a node, its agents, or a client. */
export class TopicPublisher {
  constructor(
    private readonly messenger: Messenger,
    private readonly subjects: Subjects,
    private readonly maxMessageBytes: number,
    /** JetStream, for durable topics (absent: they are refused). */
    private readonly js: JetStreamClient | undefined,
    private readonly clock: Clock,
  ) {}

  /**
   * Publish `msg` on `topic` as `sender`. Throws InvalidArgumentError for a bad
   * name, InvalidMessageError for a message too large or not encodable.
   */
  async publish(topic: Topic, msg: unknown, sender: string | null, id?: string): Promise<void> {
    const t = publishTarget(topic);
    if (!t.durable) {
      this.messenger.tell(this.subjects.topic(t.name), msg, sender, id);
      return;
    }
    const js = this.js;
    if (!js) throw new TopicUnavailableError(t.name, "no JetStream here");
    const msgId = id ?? nextMessageId();
    const payload = encodeEnvelope(Kind.Tell, msgId, sender, null, msg, this.maxMessageBytes);
    // Queued core tells of this sender go first: order is kept.
    this.messenger.flushTells();
    const subject = this.subjects.durableTopic(t.name);
    try {
      await withJetStreamRetry("publish", () => js.publish(subject, payload, { msgID: msgId, timeout: 5000 }), { clock: this.clock, ...DEFAULT_RETRY });
    } catch (err) {
      throw new TopicUnavailableError(t.name, errorText(err), { cause: err });
    }
  }
}
