// A node's core topic subscriptions: ONE NATS subscription per distinct
// pattern, counted over the agents here that take it. Each message is decoded
// and checked once, then the same decoded message goes into the mailbox of
// every matching agent (a type's schema runs once per type, not per agent).
// An agent subscribed to two overlapping patterns gets a message once: it is
// taken on the first (oldest) matching pattern's subscription and skipped on
// the others. What fails (it does not decode, is too large, is no tell, fails
// a type's schema) is dead-lettered for each agent it was for; the others and
// the node go on. Agents that subscribe to nothing cost nothing here.

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { requiresEventShape } from "./behavior.js";
import type { AgentType } from "./define-agent.js";
import { decodeEnvelope, Kind, type Envelope } from "./envelope.js";
import { errorText, InvalidMessageError } from "./errors.js";
import type { Item } from "./inbound.js";
import { sharedFlush } from "./shared-flush.js";
import type { Subjects } from "./subjects.js";
import { topicMatches } from "./topic-name.js";

/** An agent that takes topic messages: its inbox. */
export interface TopicSubscriber {
  readonly def: AgentType;
  /** A decoded, checked topic message for this agent; `bytes` is its encoded size. */
  deliverTopic(item: Item, bytes: number): void;
  /** A topic message refused for this agent: dead-letter it with why. */
  rejectTopic(data: Uint8Array, err: unknown, sender: string | null): void;
  /** A bug while delivering: fail this agent, keep the node. */
  topicError(err: unknown): void;
}

/** One pattern: its NATS subscription and the agents here that take it. */
interface Entry {
  readonly pattern: string;
  sub: Subscription | undefined;
  readonly subscribers: Set<TopicSubscriber>;
  /** The server has the subscription (flushed): only then may it be the one that delivers for overlapping patterns. */
  ready: boolean;
}

/** The core topic subscriptions of one node. */
export class TopicRouter {
  private readonly entries = new Map<string, Entry>();
  private readonly prefix: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly maxMessageBytes: number,
  ) {
    this.prefix = subjects.topicPrefix();
  }

  /** Distinct patterns with a NATS subscription here. */
  get patterns(): number {
    return this.entries.size;
  }

  /** `subscriber` takes `pattern` (checked) from now on; resolves once the server knows. */
  async add(pattern: string, subscriber: TopicSubscriber): Promise<void> {
    let entry = this.entries.get(pattern);
    if (entry) {
      entry.subscribers.add(subscriber);
      if (entry.ready) return;
    } else {
      const made: Entry = { pattern, sub: undefined, subscribers: new Set([subscriber]), ready: false };
      entry = made;
      this.entries.set(pattern, made);
      made.sub = this.nc.subscribe(this.subjects.topic(pattern), {
        callback: (err, msg) => {
          if (!err) this.onMessage(made, msg);
        },
      });
    }
    try {
      await sharedFlush(this.nc);
    } catch {
      // closed connection: nothing reaches anyone anyway
    }
    entry.ready = true;
  }

  /** `subscriber` no longer takes `pattern`; the last one out unsubscribes. */
  remove(pattern: string, subscriber: TopicSubscriber): void {
    const entry = this.entries.get(pattern);
    if (!entry || !entry.subscribers.delete(subscriber) || entry.subscribers.size > 0) return;
    this.entries.delete(pattern);
    try {
      entry.sub?.unsubscribe();
    } catch {
      // closed connection
    }
  }

  /** The subscription's callback: nothing from the wire throws out of it. */
  private onMessage(entry: Entry, msg: Msg): void {
    let subscribers: Iterable<TopicSubscriber> = entry.subscribers;
    if (this.entries.size > 1) {
      const found = this.matching(entry, msg.subject.slice(this.prefix.length));
      if (found === undefined) return; // another pattern's subscription delivers it
      subscribers = found;
    }
    let env: Envelope;
    try {
      env = decodeEnvelope(msg.data, this.maxMessageBytes);
      if (env.kind !== Kind.Tell) throw new InvalidMessageError("a topic takes tells only");
    } catch (err) {
      // One dead letter for the node, not one per subscriber: a garbage publish costs one write.
      this.refuseOnce(subscribers, msg, err, null);
      return;
    }
    const topic = msg.subject.slice(this.prefix.length);
    const bytes = msg.data.length;
    const plain: Item = { kind: Kind.Tell, id: env.id, sender: env.sender, trace: env.trace, body: env.body, reply: undefined, topic };
    // A schema runs once per type: subscribers of one type mostly come together.
    let lastDef: AgentType | undefined;
    let lastItem: Item | undefined;
    let lastError: unknown;
    for (const s of subscribers) {
      const def = s.def;
      let item: Item | undefined = plain;
      if (def.parse !== undefined || requiresEventShape(def)) {
        if (def !== lastDef) {
          lastDef = def;
          lastError = undefined;
          lastItem = undefined;
          try {
            lastItem = { ...plain, body: checkBody(def, env.body) };
          } catch (err) {
            lastError = err;
          }
        }
        item = lastItem;
      }
      if (item === undefined) {
        // Once per type: the first of its subscribers here dead-letters it, for all of them.
        if (lastError !== REFUSED) {
          this.refuseOnce(sameType(subscribers, def), msg, lastError, env.sender);
          lastError = REFUSED;
        }
        continue;
      }
      try {
        s.deliverTopic(item, bytes);
      } catch (err) {
        s.topicError(err);
      }
    }
  }

  /**
   * The agents to deliver a message on `topic` to, when it came on `entry`'s
   * subscription and that is the oldest ready pattern matching it (else
   * undefined: that one delivers). An agent on several matching patterns is in it once.
   */
  private matching(entry: Entry, topic: string): Set<TopicSubscriber> | Iterable<TopicSubscriber> | undefined {
    let first: Entry | undefined;
    let union: Set<TopicSubscriber> | undefined;
    for (const e of this.entries.values()) {
      if (!topicMatches(e.pattern, topic)) continue;
      if (first === undefined) {
        // Not yet known to the server: it delivers nothing yet, so it cannot be the one that delivers.
        if (!e.ready && e !== entry) continue;
        if (e !== entry) return undefined;
        first = e;
        continue;
      }
      union ??= new Set(first.subscribers);
      for (const s of e.subscribers) union.add(s);
    }
    return union ?? entry.subscribers;
  }

  /** Dead-letter a refused message once, with the first of `subscribers`, saying how many it was meant for. */
  private refuseOnce(subscribers: Iterable<TopicSubscriber>, msg: Msg, err: unknown, sender: string | null): void {
    let first: TopicSubscriber | undefined;
    let n = 0;
    for (const s of subscribers) {
      first ??= s;
      n++;
    }
    if (first === undefined) return;
    const reason = err instanceof InvalidMessageError ? err.reason : errorText(err);
    const why = n === 1 ? err : new InvalidMessageError(`${reason} (on topic ${msg.subject.slice(this.prefix.length)}, meant for ${n} subscribers on this node; dead-lettered once)`);
    this.refuse(first, msg.data, why, sender);
  }

  private refuse(s: TopicSubscriber, data: Uint8Array, err: unknown, sender: string | null): void {
    try {
      s.rejectTopic(data, err, sender);
    } catch (e) {
      s.topicError(e);
    }
  }

  /** Drop every subscription (the node closes). */
  close(): void {
    for (const e of this.entries.values()) {
      try {
        e.sub?.unsubscribe();
      } catch {
        // closed connection
      }
    }
    this.entries.clear();
  }
}

/** A topic message's body checked by a type: an XState agent's event shape, then its schema. */
function checkBody(def: AgentType, body: unknown): unknown {
  if (requiresEventShape(def) && (body === null || typeof body !== "object" || typeof (body as { type?: unknown }).type !== "string")) {
    throw new InvalidMessageError(`a message for an XState agent of ${def.type} must be an object with a string "type"`);
  }
  if (!def.parse) return body;
  try {
    return def.parse(body);
  } catch (err) {
    const why = err instanceof InvalidMessageError ? err.reason : errorText(err);
    throw new InvalidMessageError(`rejected by the schema of ${def.type}: ${why}`, { cause: err });
  }
}

/** Marks a type whose refusal was dead-lettered already (in one message's delivery). */
const REFUSED = Symbol("refused");

/** The subscribers of type `def` among `subscribers`. */
function* sameType(subscribers: Iterable<TopicSubscriber>, def: AgentType): Iterable<TopicSubscriber> {
  for (const s of subscribers) if (s.def === def) yield s;
}
