// Brings one activation the messages of its durable mailbox, in stream order,
// from the first one after its committed place. Each activation opens its own
// ordered consumer (ephemeral, in stream order by construction, gone with the
// activation), so a restart, a respawn or an adoption elsewhere continues
// from the place the state records, never from where a consumer was left;
// a stale activation's consumer dies with it. What a commit covers is then
// removed from the stream (the mailbox's "ack"), so the mailbox's limit
// counts only what is still to be applied.

import type { Consumer, JetStreamClient, JetStreamManager, JsMsg, ConsumerMessages } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { Clock, TimerHandle } from "../clock.js";
import { backoffDelay } from "../memory/retry.js";
import { DurableHeader } from "./durable-sender.js";

/** A message of a durable mailbox, as the feed hands it on. */
export interface DurableDelivery {
  data: Uint8Array;
  seq: number;
  /** The `Troupe-Reply` header: the inbox of an ask (unchecked). */
  reply: string | undefined;
  /** The `Troupe-Key` header: an ask's idempotency key (unchecked). */
  key: string | undefined;
}

/** Messages the consumer holds for the feed at most (pulled ahead of the agent). */
const PULL_AHEAD = 256;
/**
 * How long one pull request lives. After a reconnect nats.js checks the
 * consumer, and when that check fails (JetStream not ready yet after a server
 * restart) it waits this long before pulling again: with its default (30 s)
 * a mailbox stood still for 30-45 s after every server restart. An idle
 * mailbox renews its pull this often.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * How long a consumer may deliver nothing while messages wait for it before
 * it is opened again. On a cluster whose server died, nats.js 3.4 was seen to
 * stop delivering without ever reporting it (or reporting missed heartbeats
 * without end); this check does not rely on its status events.
 */
const STALL_CHECK_MS = 3_000;

/** What a feed needs from its node and agent. */
export interface FeedDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  clock: Clock;
  stream: string;
  /** The agent's mailbox subject. */
  subject: string;
  /** Take a message; resolves when there is room for the next (the agent's mailbox is not over its mark). */
  deliver(d: DurableDelivery): Promise<void>;
  /** A failure the feed recovers from by itself (it opens its consumer again), for reporting. */
  trouble(where: string, err: unknown): void;
}

/** One activation's reader of its durable mailbox. */
export class DurableFeed {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  /** The last sequence handed on: a reopened consumer starts after it. */
  private delivered: number;
  /** The sequence the stream was last purged through, and the highest one asked for. */
  private purged = 0;
  private wanted = 0;
  private purging: Promise<void> | undefined;
  /** Handing a message on (waiting for the agent to make room): not a stall. */
  private handing = false;
  private watchdog: TimerHandle | undefined;

  constructor(
    private readonly deps: FeedDeps,
    after: number,
  ) {
    this.delivered = after;
  }

  /** Start reading after the committed place (first removing what it covers); runs until {@link stop}. */
  start(): void {
    this.purgeThrough(this.delivered);
    void this.run();
  }

  /** Stop reading; what was pulled but not handed on is read again by the next activation. */
  stop(): void {
    this.stopped = true;
    this.messages?.stop();
    if (this.watchdog) this.deps.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** A commit covering everything through `seq` landed: remove it from the stream (best effort; a later commit or activation repeats it). */
  purgeThrough(seq: number): void {
    if (seq > this.wanted) this.wanted = seq;
    if (this.wanted <= this.purged || this.purging) return;
    // One purge at a time; one asked for meanwhile runs when it is done, so the last commit's is never skipped.
    const through = this.wanted;
    const { jsm, stream, subject } = this.deps;
    let again = false;
    this.purging = jsm.streams
      .purge(stream, { filter: subject, seq: through + 1 })
      .then(
        () => {
          if (through > this.purged) this.purged = through;
          again = this.wanted > this.purged;
        },
        // Not again at once: JetStream may be down; the next commit, or the next activation, asks again.
        (err: unknown) => this.deps.trouble("mailbox purge", err),
      )
      .finally(() => {
        this.purging = undefined;
        if (again && !this.stopped) this.purgeThrough(this.wanted);
      });
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const consumer = await this.deps.js.consumers.get(this.deps.stream, {
          filter_subjects: [this.deps.subject],
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.delivered + 1,
        });
        if (this.stopped) return;
        const messages = await consumer.consume({ max_messages: PULL_AHEAD, expires: PULL_EXPIRES_MS });
        this.messages = messages;
        if (this.stopped) {
          messages.stop();
          return;
        }
        attempt = 0;
        void this.reopenOnRecreate(messages);
        this.watch(consumer, messages, this.delivered);
        for await (const m of messages) {
          if (this.stopped) return;
          if (m.seq <= this.delivered) continue;
          this.delivered = m.seq;
          this.handing = true;
          await this.deps.deliver(toDelivery(m));
          this.handing = false;
        }
      } catch (err) {
        if (this.stopped) return;
        this.deps.trouble("mailbox consumer", err);
      }
      if (!this.stopped) await this.deps.clock.sleep(backoffDelay(attempt, 50, 2000));
    }
  }

  /**
   * Every STALL_CHECK_MS: when `messages` delivered nothing since the last
   * check, is not waiting for the agent to make room, and the consumer says
   * messages wait (or cannot say: it is gone), stop it; {@link run} opens a
   * fresh one after the last message handed on.
   */
  private watch(consumer: Consumer, messages: ConsumerMessages, seen: number): void {
    if (this.watchdog) this.deps.clock.clearTimeout(this.watchdog);
    this.watchdog = this.deps.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.stopped || this.messages !== messages) return;
      if (this.delivered !== seen || this.handing) return this.watch(consumer, messages, this.delivered);
      consumer.info(false).then(
        (info) => {
          if (this.stopped || this.messages !== messages) return;
          if (info.num_pending > 0 && this.delivered === seen) {
            this.deps.trouble("mailbox consumer", new Error(`delivered nothing for ${STALL_CHECK_MS} ms while ${info.num_pending} messages wait: opening it again`));
            messages.stop();
          } else {
            this.watch(consumer, messages, this.delivered);
          }
        },
        () => {
          if (!this.stopped && this.messages === messages) messages.stop();
        },
      );
    }, STALL_CHECK_MS);
  }

  /**
   * nats.js (3.4) recreates an ordered consumer after the server restarted,
   * but still counts the old pull's undelivered messages as outstanding, so
   * its new pull asks for only the rest of the old batch and then stalls until
   * two idle heartbeats are missed (30 s): the mailbox would not drain. Stop
   * it instead; {@link run} opens a fresh one after the last message handed on.
   */
  private async reopenOnRecreate(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === "ordered_consumer_recreated") {
        messages.stop();
        return;
      }
    }
  }
}

function toDelivery(m: JsMsg): DurableDelivery {
  let reply: string | undefined;
  let key: string | undefined;
  try {
    reply = m.headers?.get(DurableHeader.Reply) || undefined;
    key = m.headers?.get(DurableHeader.Key) || undefined;
  } catch {
    // Malformed headers: no reply, no key; the envelope is checked as usual.
  }
  return { data: m.data, seq: m.seq, reply, key };
}
