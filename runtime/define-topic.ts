// defineTopic: a topic's name and whether it is durable. A plain string is a
// core topic (at most once, fire-and-forget); a topic made here with
// `durable: true` is stored in JetStream, so a subscriber that was down gets
// what it missed. Publish, subscribe and defineAgent's `subscribe` take either.

import { InvalidArgumentError, InvalidConfigError } from "./errors.js";
import { validateTopicName, validateTopicPattern } from "./topic-name.js";

/** A topic made by {@link defineTopic}. */
export interface TopicDef {
  readonly kind: "topic";
  /** Its name (to publish on) or a pattern (`orders.*`, `orders.>`, to subscribe with). */
  readonly name: string;
  /** Stored in JetStream: subscribers (with a durable mailbox) get what they missed, each message applied once. */
  readonly durable: boolean;
}

/** A topic as the API takes it: a name or pattern (core), or a {@link TopicDef}. */
export type Topic = string | TopicDef;

/** A checked subscription: its pattern, and whether it is to a durable topic. */
export interface TopicSubscription {
  readonly pattern: string;
  readonly durable: boolean;
}

/**
 * Define a topic. `name` is dot-separated tokens; it may be a subscription
 * pattern (`*` one token, `>` the rest) for subscribing, but a topic published
 * on has a full name.
 *
 * @example
 * const orders = defineTopic({ name: "orders.placed", durable: true });
 * await node.publish(orders, { id: "o1" });
 */
export function defineTopic(options: { name: string; durable?: boolean }): TopicDef {
  if (options === null || typeof options !== "object") throw new InvalidConfigError("topic", "defineTopic takes { name, durable? }");
  try {
    validateTopicPattern(options.name);
  } catch (err) {
    throw new InvalidConfigError("name", (err as Error).message);
  }
  if (options.durable !== undefined && typeof options.durable !== "boolean") {
    throw new InvalidConfigError("durable", `must be true or false, got ${JSON.stringify(options.durable)}`);
  }
  return Object.freeze({ kind: "topic" as const, name: options.name, durable: options.durable ?? false });
}

/** The topic to publish on: its full name (no wildcards) and whether it is durable. */
export function publishTarget(topic: Topic): TopicSubscription & { name: string } {
  const t = asTopic(topic);
  return { name: validateTopicName(t.name), pattern: t.name, durable: t.durable };
}

/** The subscription a topic or pattern stands for. */
export function subscriptionOf(topic: Topic): TopicSubscription {
  const t = asTopic(topic);
  return { pattern: validateTopicPattern(t.name), durable: t.durable };
}

function asTopic(topic: Topic): { name: string; durable: boolean } {
  if (typeof topic === "string") return { name: topic, durable: false };
  if (topic !== null && typeof topic === "object" && (topic as TopicDef).kind === "topic") return topic;
  throw new InvalidArgumentError("topic", `invalid topic ${JSON.stringify(topic)}: give a name ("orders.placed") or a topic from defineTopic`);
}

/** Check defineAgent's `subscribe`: a list of topics or patterns; durable ones need a durable mailbox. */
export function checkSubscribe(subscribe: unknown, mailbox: string): { subscribe?: readonly TopicSubscription[] } {
  if (subscribe === undefined) return {};
  if (!Array.isArray(subscribe)) throw new InvalidConfigError("subscribe", 'must be a list of topics or patterns, like ["orders.*"]');
  const out: TopicSubscription[] = [];
  subscribe.forEach((t: unknown, i) => {
    let s: TopicSubscription;
    try {
      s = subscriptionOf(t as Topic);
    } catch (err) {
      throw new InvalidConfigError(`subscribe[${i}]`, (err as Error).message);
    }
    if (s.durable && mailbox !== "durable") {
      throw new InvalidConfigError(`subscribe[${i}]`, `durable topic ${s.pattern} needs mailbox: "durable" (each message is applied once through the durable mailbox)`);
    }
    if (!out.some((o) => o.pattern === s.pattern && o.durable === s.durable)) out.push(s);
  });
  return out.length === 0 ? {} : { subscribe: Object.freeze(out) };
}
