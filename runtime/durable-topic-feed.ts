// Brings one durable agent the messages of the durable topics it subscribes
// to. Each such agent has a durable consumer on the namespace's topics stream
// (named after the agent, filtered by its patterns), so what is published
// while it is stopped, restarting or moving to another node waits there.
// While an activation runs, this feed pulls from that consumer and stores
// each message in the agent's durable mailbox with the message id
// `<agent>:topic-<stream seq>`, then acks it on the topics stream. The
// mailbox's rules then apply it once. A crash between the store and the ack
// makes the topic message come again; the mailbox stream drops it as a
// duplicate within its duplicate window (2 minutes by default), not later.

import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import type { Clock } from "./clock.js";
import type { DurableSender } from "./durable/durable-sender.js";
import { MailboxFullError } from "./errors.js";
import { backoffDelay } from "./memory/retry.js";
import type { AgentId, Subjects } from "./subjects.js";
import type { DurablePatterns } from "./agent-topics.js";
import { TOPIC_MAX_AGE_MS } from "./topics-stream.js";

/**
 * Topic messages asked for at once. The consumer hands out one unacknowledged
 * message at a time (max_ack_pending 1): one left unacknowledged by a crash
 * comes again before any later one, so the order per publisher holds across
 * restarts and failover, at the price of one mailbox store per round trip.
 */
const PULL_AHEAD = 8;
/** How long one pull request lives. */
const PULL_EXPIRES_MS = 5_000;
/** A topic message pulled but neither stored nor refused within this long (its forwarder died) comes again. */
const ACK_WAIT_MS = 10_000;
/** Wait before a message whose mailbox is full is offered again. */
const FULL_MAILBOX_DELAY_MS = 1_000;

/** What a feed needs from its node and agent. */
export interface TopicFeedDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  clock: Clock;
  subjects: Subjects;
  sender: DurableSender;
  id: AgentId;
  type: string;
  key: string;
  /** A failure the feed recovers from by itself, for reporting. */
  trouble(where: string, err: unknown): void;
}

/** One activation's forwarder from its durable topics to its durable mailbox. */
export class DurableTopicFeed implements DurablePatterns {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private patterns: readonly string[] = [];
  private running: Promise<void> | undefined;
  private readonly stream: string;
  private readonly consumer: string;

  constructor(private readonly deps: TopicFeedDeps) {
    this.stream = deps.subjects.topicsStream();
    this.consumer = deps.subjects.topicConsumer(deps.type, deps.key);
  }

  /** The agent takes `patterns` now: its consumer is made or changed (or deleted, for none), then read. */
  async set(patterns: readonly string[]): Promise<void> {
    this.patterns = [...patterns];
    const { jsm } = this.deps;
    if (this.patterns.length === 0) {
      this.messages?.stop();
      await jsm.consumers.delete(this.stream, this.consumer).catch(() => false);
      return;
    }
    const filters = this.patterns.map((p) => this.deps.subjects.durableTopic(p));
    const config = {
      durable_name: this.consumer,
      filter_subjects: filters,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: 1,
      ack_wait: ACK_WAIT_MS * 1_000_000,
      // A subscriber gone longer than the stream keeps messages has no place left to hold: the
      // consumer goes, and the stream stops keeping messages for it (interest retention).
      inactive_threshold: TOPIC_MAX_AGE_MS * 1_000_000,
    };
    await jsm.consumers.add(this.stream, config).catch(async (err: unknown) => {
      // There already, with other filters (made by an earlier activation): change the filters only; its place stays.
      const info = await jsm.consumers.info(this.stream, this.consumer).catch(() => undefined);
      if (!info) throw err;
      await jsm.consumers.update(this.stream, this.consumer, { filter_subjects: filters });
    });
    if (!this.stopped) this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Stop forwarding (the activation ended); the consumer stays, holding the agent's place. */
  stop(): void {
    this.stopped = true;
    this.messages?.stop();
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped && this.patterns.length > 0; attempt++) {
      try {
        const consumer = await this.deps.js.consumers.get(this.stream, this.consumer);
        if (this.stopped) return;
        const messages = await consumer.consume({ max_messages: PULL_AHEAD, expires: PULL_EXPIRES_MS });
        this.messages = messages;
        if (this.stopped) {
          messages.stop();
          return;
        }
        attempt = 0;
        for await (const m of messages) {
          if (this.stopped) {
            // Not forwarded: it comes again at once to the next activation, wherever it runs.
            m.nak();
            return;
          }
          await this.forward(m);
        }
      } catch (err) {
        if (this.stopped) return;
        this.deps.trouble("topic consumer", err);
      }
      if (!this.stopped && this.patterns.length > 0) await this.deps.clock.sleep(backoffDelay(attempt, 50, 2000));
    }
  }

  /** Store `m` in the agent's mailbox, then ack it; a full mailbox makes it wait and come again. */
  private async forward(m: JsMsg): Promise<void> {
    const { subjects, type, key, id } = this.deps;
    const topic = m.subject.slice(subjects.durableTopic("").length);
    try {
      await this.deps.sender.store(id, subjects.mailbox(type, key), m.data, `topic-${m.seq}`, { topic });
      m.ack();
    } catch (err) {
      this.deps.trouble("topic forward", err);
      m.nak(err instanceof MailboxFullError ? FULL_MAILBOX_DELAY_MS : backoffDelay(m.info.deliveryCount, 100, 5000));
    }
  }
}
