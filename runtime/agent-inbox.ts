// An agent's inbox: its subscription, the checks at its door, and its
// mailbox. What arrives is handled at once when the activation is idle, or
// its bytes wait in the mailbox (bounded by count, bytes and the node's
// budget); a message that cannot be taken is refused, never dropped unseen.
// The inbox outlives activations: a restart keeps the subscription and what
// waits for the next one. For a type that accepts only verified senders the
// proof of each message's sender is checked at the door, before it is queued
// (a durable message's when the feed brings it).

import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { DeadLetters } from "./dead-letters.js";
import type { AgentType } from "./define-agent.js";
import { AgentStoppedError, errorText, InvalidMessageError, MailboxFullError, toWireError, TroupeError, UnverifiedSenderError } from "./errors.js";
import type { EventPublisher } from "./events.js";
import { Inbound } from "./inbound.js";
import { Mailbox, type MailboxBudget, type MailboxRefusal } from "./mailbox.js";
import type { Messenger } from "./messenger.js";
import { isReplySubject, replySubjectProblem, type AgentId } from "./subjects.js";
import { EnvelopeLimits, isMessageKey } from "./envelope.js";
import type { DurableDelivery } from "./durable/durable-feed.js";
import type { TurnBudget } from "./turn-budget.js";
import { sharedFlush } from "./shared-flush.js";
import { ProofHeader, type SenderVerifier } from "./auth/sender-proof.js";
import { envelopeSender } from "./envelope-sender.js";
import type { Item } from "./inbound.js";
import { MAX_TOPIC_LENGTH } from "./topic-name.js";
import type { TopicRouter, TopicSubscriber } from "./topic-router.js";

/**
 * A message waiting in the mailbox: its bytes, decoded only when its turn
 * comes, so the mailbox's byte bounds count what it really holds (a decoded
 * body can be many times its encoded size).
 */
export interface Queued {
  data: Uint8Array;
  reply: string | undefined;
  /** From a durable mailbox: its stream sequence, and an ask's idempotency key. */
  seq?: number;
  key?: string;
  /**
   * Why a durable message is refused when its turn comes (its headers are
   * wrong, or its sender is not proven), and the inbox that hears it; the
   * mailbox moves past it.
   */
  problem?: { error: TroupeError; reply: string | undefined };
  /** A topic message, decoded once by the node for all its subscribers (`data` is then empty). */
  item?: Item;
  /** A durable message forwarded from a durable topic: the topic's name. */
  topic?: string;
}

const NO_BYTES = new Uint8Array(0);

/** Durable messages waiting in the mailbox before the feed waits for the agent to catch up. */
export const DURABLE_HIGH_WATER = 512;

/** Bytes of durable messages waiting in the mailbox before the feed waits (they count toward the node's mailbox budget too). */
export const DURABLE_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Where the inbox delivers: the agent's current activation. */
export interface InboxTarget {
  /** Handling, with nothing in flight and nothing waiting. */
  readonly idle: boolean;
  /** Handle a message now (only when idle). */
  handleNow(data: Uint8Array, reply: string | undefined): void;
  /** Handle a message decoded already (a topic message) now (only when idle). */
  handleItem(item: Item): void;
  /** Drain the mailbox, unless a drain is at work or it does not handle now. */
  kick(): void;
}

/** What an inbox needs from its node. */
export interface InboxEnv {
  nc: NatsConnection;
  messenger: Messenger;
  events: EventPublisher;
  deadLetters: DeadLetters;
  maxMessageBytes: number;
  /** The bytes all mailboxes of the node may hold together. */
  mailboxBudget: MailboxBudget;
  /** The node's message handling per turn of the event loop, shared by all its agents. */
  turns: TurnBudget;
  /** Checks senders' proofs for types that accept only verified senders (absent: the node has no credentials, and refuses them all). */
  verifier?: SenderVerifier;
  /** The node's core topic subscriptions (absent: topics are not used here, as in some tests). */
  topics?: TopicRouter;
}

/** What the inbox reports to its host. */
export interface InboxOwner {
  /** The activation to deliver to; there is one from the first start on. */
  target(): InboxTarget | undefined;
  /** A bug in the host while taking a message: fail the agent, keep the node. */
  internalError(where: string, err: unknown): void;
  /** The server closed the subscription (a permissions violation, say). */
  subscriptionLost(err: Error): void;
}

/** One agent's subscription, intake checks and mailbox. */
export class AgentInbox implements TopicSubscriber {
  readonly mailbox: Mailbox<Queued>;
  /** Decodes and checks what arrives; counts and reports what it refuses. */
  readonly inbound: Inbound;
  private sub: Subscription | undefined;
  /** Durable messages in the mailbox. */
  private durableWaiting = 0;
  private durableBytes = 0;
  /** The feed waiting for room (fewer than DURABLE_HIGH_WATER durable messages waiting). */
  private room: (() => void) | undefined;
  /** Only for a type that accepts only verified senders: its durable mailbox's subject, which a durable message's proof covers. */
  private readonly verifiedMailbox: string | undefined;
  /** The core topic patterns it takes; registered with the node's router while the inbox listens. Made on first use. */
  private topics: Set<string> | undefined;

  constructor(
    private readonly id: AgentId,
    key: string,
    readonly def: AgentType,
    private readonly subject: string,
    private readonly env: InboxEnv,
    private readonly owner: InboxOwner,
  ) {
    this.mailbox = new Mailbox(def.mailboxCapacity, def.mailboxBytes, env.mailboxBudget);
    this.inbound = new Inbound(id, key, def, env);
    this.verifiedMailbox = def.requireVerifiedSender ? env.messenger.subjects.mailbox(def.type, key) : undefined;
  }

  /**
   * Subscribe, unless subscribed; flushed, so messages sent after this reach
   * it. Subscriptions made together (many spawns at once) share one flush.
   */
  async open(): Promise<void> {
    if (this.sub) return;
    const sub = this.env.nc.subscribe(this.subject, {
      callback: (err, msg) => (err ? this.failed(sub, err) : this.onMessage(msg)),
    });
    this.sub = sub;
    if (this.topics !== undefined && this.topics.size > 0) await this.listenTopics();
    await sharedFlush(this.env.nc);
  }

  // ---- topics ----------------------------------------------------------------

  /** The core topic patterns it takes now. */
  topicPatterns(): string[] {
    return this.topics === undefined ? [] : [...this.topics];
  }

  /** Take core topic `pattern` (checked) from now on, and after restarts; resolves once the server knows (when listening). */
  async addTopic(pattern: string): Promise<void> {
    this.topics ??= new Set();
    if (this.topics.has(pattern)) return;
    this.topics.add(pattern);
    if (this.sub && this.env.topics) await this.env.topics.add(pattern, this);
  }

  /** No longer take core topic `pattern`. */
  removeTopic(pattern: string): void {
    if (!this.topics?.delete(pattern)) return;
    this.env.topics?.remove(pattern, this);
  }

  private async listenTopics(): Promise<void> {
    const router = this.env.topics;
    if (router && this.topics) await Promise.all([...this.topics].map((p) => router.add(p, this)));
  }

  private unlistenTopics(): void {
    const router = this.env.topics;
    if (router && this.topics) for (const p of this.topics) router.remove(p, this);
  }

  /** A topic message, decoded and checked once by the node: handled now when idle, else it waits in the mailbox. */
  deliverTopic(item: Item, bytes: number): void {
    const target = this.owner.target();
    if (target === undefined) return;
    if (target.idle && this.env.turns.take()) {
      target.handleItem(item);
      return;
    }
    const refused = this.mailbox.offer({ data: NO_BYTES, reply: undefined, item }, bytes);
    if (refused) {
      this.inbound.refuseItem(item, new MailboxFullError(this.id, this.refusal(refused), refused));
      return;
    }
    target.kick();
  }

  /** A topic message the node refused for this agent: counted, reported, dead-lettered. */
  rejectTopic(data: Uint8Array, err: unknown, sender: string | null): void {
    this.inbound.reject(data, undefined, err, sender);
  }

  topicError(err: unknown): void {
    this.owner.internalError("topic", err);
  }

  /** Stop listening, but take every message already on its way (the subscription is drained, not dropped). */
  async pause(): Promise<void> {
    const sub = this.sub;
    if (!sub) return;
    this.sub = undefined;
    this.unlistenTopics();
    try {
      await sub.drain();
    } catch {
      // closed connection: nothing else can reach us anyway
    }
  }

  /**
   * Unsubscribe (flushed, so the server knows; closings at once share one
   * flush), then answer what still waits: asks get AgentStoppedError(`why`),
   * tells are dead-lettered.
   */
  async close(why: string): Promise<void> {
    if (this.sub) {
      this.sub.unsubscribe();
      this.sub = undefined;
      this.unlistenTopics();
      try {
        await sharedFlush(this.env.nc);
      } catch {
        // closed connection: nothing else can reach us anyway
      }
    }
    // Durable messages stay stored in their stream for the agent's next start.
    this.dropDurable();
    if (this.mailbox.size === 0) return;
    const gone = new AgentStoppedError(this.id, why);
    for (const queued of this.mailbox.takeAll()) {
      if (queued.reply !== undefined) this.env.messenger.reply(queued.reply, "", this.id, null, toWireError(gone));
      else if (queued.item !== undefined) this.inbound.deadLetter(queued.item, `agent ${why} before handling it`);
      else this.inbound.deadLetterWaiting(queued.data, `agent ${why} before handling it`);
    }
  }

  /**
   * Take a message from the durable mailbox: it waits in the mailbox whatever
   * its bounds (it is stored, and its sender was told so). Resolves when the
   * feed may bring the next one (fewer than DURABLE_HIGH_WATER durable messages wait).
   */
  async offerDurable(d: DurableDelivery): Promise<void> {
    let problem: Queued["problem"];
    let reply = d.reply;
    if (reply !== undefined && !isReplySubject(reply)) {
      problem = { error: new InvalidMessageError(replySubjectProblem(reply)), reply: undefined };
      reply = undefined;
    }
    if (d.key !== undefined && !isMessageKey(d.key)) {
      problem ??= { error: new InvalidMessageError(`an idempotency key must be 1-${EnvelopeLimits.id} printable characters`), reply: undefined };
    }
    if (this.verifiedMailbox !== undefined && problem === undefined) {
      const refused = this.unproven(this.verifiedMailbox, d.data, d.signer, d.signature);
      if (refused !== undefined) problem = { error: refused, reply };
    }
    // The bytes may be a view of a larger read buffer: keep a copy of exactly them.
    const topic = d.topic !== undefined && d.topic.length <= MAX_TOPIC_LENGTH ? d.topic : undefined;
    this.mailbox.push({ data: d.data.slice(), reply, seq: d.seq, key: problem ? undefined : d.key, problem, topic }, d.data.length);
    this.durableWaiting++;
    this.durableBytes += d.data.length;
    this.owner.target()?.kick();
    // Woken when the agent takes one, or its activation ends (never polled: a slow receive may take minutes).
    if (this.full()) await new Promise<void>((resolve) => (this.room = resolve));
  }

  /** A durable message of `bytes` bytes left the mailbox (handled, or dropped). */
  tookDurable(bytes: number): void {
    this.durableWaiting--;
    this.durableBytes -= bytes;
    if (!this.full()) this.freeRoom();
  }

  private full(): boolean {
    return this.durableWaiting >= DURABLE_HIGH_WATER || this.durableBytes >= DURABLE_HIGH_WATER_BYTES;
  }

  /** Drop the durable messages still waiting (their activation ended: the next one reads them again from the stream). */
  dropDurable(): void {
    if (this.durableWaiting > 0) this.mailbox.remove((q) => q.seq !== undefined);
    this.durableWaiting = 0;
    this.durableBytes = 0;
    this.freeRoom();
  }

  private freeRoom(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }

  private failed(sub: Subscription, err: Error): void {
    if (this.sub === sub) this.sub = undefined;
    this.owner.subscriptionLost(err);
  }

  /** The subscription's callback: nothing from the wire throws out of it. */
  private onMessage(msg: Msg): void {
    try {
      this.accept(msg);
    } catch (err) {
      this.owner.internalError("receive", err);
    }
  }

  /**
   * Take a message from the wire: handle it now when the activation is idle
   * (and the node's turn budget allows), else queue its bytes in the mailbox.
   */
  private accept(msg: Msg): void {
    const reply = msg.reply || undefined;
    if (reply !== undefined && !isReplySubject(reply)) {
      this.inbound.reject(msg.data, undefined, new InvalidMessageError(replySubjectProblem(reply)));
      return;
    }
    if (this.verifiedMailbox !== undefined) {
      let headers: MsgHdrs | undefined;
      try {
        headers = msg.headers;
      } catch (err) {
        this.inbound.reject(msg.data, reply, new InvalidMessageError(`malformed NATS headers (${errorText(err)})`, { cause: err }));
        return;
      }
      const refused = this.unproven(this.subject, msg.data, headers?.get(ProofHeader.Signer), headers?.get(ProofHeader.Signature));
      if (refused !== undefined) {
        this.inbound.reject(msg.data, reply, refused, refused instanceof UnverifiedSenderError ? refused.sender : null);
        return;
      }
    }
    // Subscribed by the first activation, so there always is one.
    const target = this.owner.target()!;
    if (target.idle && this.env.turns.take()) {
      target.handleNow(msg.data, reply);
      return;
    }
    // The bytes may be a view of a larger read buffer: keep a copy of exactly them.
    const refused = this.mailbox.offer({ data: msg.data.slice(), reply }, msg.data.length);
    if (refused) {
      this.inbound.reject(msg.data, reply, new MailboxFullError(this.id, this.refusal(refused), refused));
      return;
    }
    target.kick();
  }

  /**
   * Why `data`, sent to `subject` with the proof `signer` and `signature`, is
   * refused (UnverifiedSenderError, or InvalidMessageError when it is no
   * envelope); undefined when its sender is proven.
   */
  private unproven(subject: string, data: Uint8Array, signer: string | undefined, signature: string | undefined): TroupeError | undefined {
    let sender: string | null;
    try {
      sender = envelopeSender(data, this.env.maxMessageBytes);
    } catch (err) {
      return err instanceof TroupeError ? err : new InvalidMessageError(errorText(err), { cause: err });
    }
    const verifier = this.env.verifier;
    const why = verifier ? verifier.problem(subject, data, signer || undefined, signature || undefined, sender) : "this node has no credentials to check proofs with";
    return why === undefined ? undefined : new UnverifiedSenderError(this.id, sender ?? "", why);
  }

  /** Which bound a full mailbox hit, in words. */
  private refusal(bound: MailboxRefusal): string {
    switch (bound) {
      case "count":
        return `${this.mailbox.size} messages waiting, its capacity`;
      case "bytes":
        return `${this.mailbox.bytes} bytes waiting, its limit is ${this.mailbox.maxBytes}`;
      case "node":
        return `the node's mailboxes hold ${this.env.mailboxBudget.used} bytes, its limit is ${this.env.mailboxBudget.limit}`;
    }
  }
}
