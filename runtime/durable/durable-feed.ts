// Brings one activation the messages of its durable mailbox, in stream order,
// from the first one after its committed place. Each activation opens its own
// ordered consumer (ephemeral, in stream order by construction, gone with the
// activation), so a restart, a respawn or an adoption elsewhere continues
// from the place the state records, never from where a consumer was left;
// a stale activation's consumer dies with it. What a commit covers is then
// removed from the stream (the mailbox's "ack"), so the mailbox's limit
// counts only what is still to be applied.
//
// An ordered consumer lives on one server (nats.js makes it R1, in memory).
// When that server dies the consumer is gone, but nats.js 3.4 recreates it
// only when the server says "consumer not found", which a cluster does not
// say: its meta leader still answers for the consumer from its assignment
// (nothing pending) or not at all. So the feed judges for itself, never from
// the consumer's own account: it opens a fresh consumer after its last
// delivered message when the consumer's server falls silent (no message, no
// heartbeat, no pull expiry), when nats.js reports missed heartbeats or a
// consumer that is not there, and when the stream holds messages for the
// mailbox past the last one delivered while nothing is delivered.

import type { ConsumerMessages, ConsumerNotification, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { Clock, TimerHandle } from "../clock.js";
import { backoffDelay } from "../memory/retry.js";
import { DurableHeader } from "./durable-sender.js";
import { ProofHeader } from "../auth/sender-proof.js";

/** A message of a durable mailbox, as the feed hands it on. */
export interface DurableDelivery {
  data: Uint8Array;
  seq: number;
  /** The `Troupe-Reply` header: the inbox of an ask (unchecked). */
  reply: string | undefined;
  /** The `Troupe-Key` header: an ask's idempotency key (unchecked). */
  key: string | undefined;
  /** The `Troupe-Signer` and `Troupe-Sig` headers: the proof of its sender, when it carries one (unchecked). */
  signer?: string;
  signature?: string;
  /** The `Troupe-Topic` header: the durable topic it was published on (unchecked). */
  topic?: string;
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

/** The server's idle heartbeat on a waiting pull (nats.js's default for a pull that lives {@link PULL_EXPIRES_MS}). */
const HEARTBEAT_MS = PULL_EXPIRES_MS / 2;
/** How often the feed looks at its consumer. */
const CHECK_MS = 3_000;
/**
 * Silence from the consumer's server this long (three heartbeats, and longer
 * than a pull lives) means the consumer is gone: open a fresh one.
 */
const SILENT_MS = 3 * HEARTBEAT_MS;
/** Longest wait between two looks at the stream while the mailbox is idle (the first is after {@link CHECK_MS}). */
const STREAM_CHECK_MAX_MS = 30_000;

/** What the consumer's status stream says about it: it is heard from, it is gone, or neither. */
const StatusMeaning = { Heard: "heard", Gone: "gone", Other: "other" } as const;
type StatusMeaning = (typeof StatusMeaning)[keyof typeof StatusMeaning];

/** One clause per status nats.js reports. */
function meaningOf(s: ConsumerNotification): StatusMeaning {
  switch (s.type) {
    case "heartbeat":
    case "discard":
    case "debug":
    case "exceeded_limits":
    case "flow_control":
    case "consumer_pinned":
    case "consumer_unpinned":
      return StatusMeaning.Heard;
    case "heartbeats_missed":
    case "no_responders":
    case "consumer_not_found":
    case "consumer_deleted":
    case "stream_not_found":
    // nats.js recreated it but still counts the old pull's messages as outstanding, and stalls (see below).
    case "ordered_consumer_recreated":
      return StatusMeaning.Gone;
    default:
      return StatusMeaning.Other;
  }
}

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
  /** When the current consumer's server last said anything (a message or a status), on the clock. */
  private lastHeard = 0;
  /** The stream's last sequence for the mailbox at the last look, when it was past what was delivered. */
  private waitingSeq = 0;
  /** When to look at the stream next, and the wait after that (doubling while the mailbox is idle). */
  private nextStreamCheck = 0;
  private streamCheckMs = CHECK_MS;

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
        this.heard();
        this.resetStreamCheck();
        void this.listen(messages);
        this.watch(messages, this.delivered);
        for await (const m of messages) {
          if (this.stopped) return;
          this.heard();
          if (m.seq <= this.delivered) continue;
          this.delivered = m.seq;
          this.resetStreamCheck();
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

  private heard(): void {
    this.lastHeard = this.deps.clock.now();
  }

  private resetStreamCheck(): void {
    this.waitingSeq = 0;
    this.streamCheckMs = CHECK_MS;
    this.nextStreamCheck = this.deps.clock.now() + CHECK_MS;
  }

  /** Stop `messages` and say why; {@link run} opens a fresh consumer after the last message handed on. */
  private reopen(messages: ConsumerMessages, why: string): void {
    if (this.stopped || this.messages !== messages) return;
    this.deps.trouble("mailbox consumer", new Error(`${why}: opening it again`));
    this.messages = undefined;
    messages.stop();
  }

  /** Follow what nats.js says about `messages`: any word from the server is a sign of life; a consumer that is gone is replaced. */
  private async listen(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      const meaning = meaningOf(s);
      if (meaning === StatusMeaning.Heard) this.heard();
      else if (meaning === StatusMeaning.Gone) return this.reopen(messages, `its consumer reported ${s.type}`);
    }
  }

  /**
   * Every CHECK_MS while `messages` is current: replace the consumer when its
   * server fell silent; else, when nothing was delivered since the last check
   * and the feed is not waiting for the agent, look at the stream (less often
   * while the mailbox stays idle) and replace it when a message waited past
   * the last one delivered through a whole check.
   */
  private watch(messages: ConsumerMessages, seen: number): void {
    if (this.watchdog) this.deps.clock.clearTimeout(this.watchdog);
    this.watchdog = this.deps.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.stopped || this.messages !== messages) return;
      const now = this.deps.clock.now();
      const silent = now - this.lastHeard;
      if (silent >= SILENT_MS) return this.reopen(messages, `heard nothing from its consumer's server for ${silent} ms`);
      if (this.delivered !== seen || this.handing || now < this.nextStreamCheck) return this.watch(messages, this.delivered);
      void this.lastInStream().then((last) => {
        if (this.stopped || this.messages !== messages) return;
        if (this.delivered === seen && last !== undefined && this.waitingSeq > this.delivered && !this.handing) {
          return this.reopen(messages, `delivered nothing while message ${this.waitingSeq} of the mailbox waited`);
        }
        this.waitingSeq = last !== undefined && last > this.delivered ? last : 0;
        if (this.waitingSeq === 0) this.streamCheckMs = Math.min(this.streamCheckMs * 2, STREAM_CHECK_MAX_MS);
        this.nextStreamCheck = this.deps.clock.now() + (this.waitingSeq > 0 ? CHECK_MS : this.streamCheckMs);
        this.watch(messages, this.delivered);
      });
    }, CHECK_MS);
  }

  /** The stream's last sequence for the mailbox; 0 when it holds none; undefined when the stream cannot say now (it is electing). */
  private async lastInStream(): Promise<number | undefined> {
    try {
      const m = await this.deps.jsm.streams.getMessage(this.deps.stream, { last_by_subj: this.deps.subject });
      return m?.seq ?? 0;
    } catch {
      return undefined;
    }
  }
}

function toDelivery(m: JsMsg): DurableDelivery {
  let reply: string | undefined;
  let key: string | undefined;
  let signer: string | undefined;
  let signature: string | undefined;
  let topic: string | undefined;
  try {
    topic = m.headers?.get(DurableHeader.Topic) || undefined;
    reply = m.headers?.get(DurableHeader.Reply) || undefined;
    key = m.headers?.get(DurableHeader.Key) || undefined;
    signer = m.headers?.get(ProofHeader.Signer) || undefined;
    signature = m.headers?.get(ProofHeader.Signature) || undefined;
  } catch {
    // Malformed headers: no reply, no key, no proof; the envelope is checked as usual.
  }
  return { data: m.data, seq: m.seq, reply, key, signer, signature, topic };
}
