// One agent's topic subscriptions, across its activations on this node: what
// its type declares (`defineAgent({ subscribe })`) and what it changed at run
// time (`ctx.subscribe` / `ctx.unsubscribe`), which is stored (see
// runtime/subscription-store.ts) so a restart, a passivation or a failover to
// another node keeps it. Core patterns go to the agent's inbox (the node holds
// one NATS subscription per pattern); durable ones to its durable topic feed.
// An agent whose type declares nothing reads one KV entry when it first
// starts on a node, and nothing more.

import type { AgentInbox } from "./agent-inbox.js";
import type { AgentType } from "./define-agent.js";
import { subscriptionOf, type Topic, type TopicSubscription } from "./define-topic.js";
import { InvalidConfigError } from "./errors.js";
import { MailboxKind } from "./mailbox-kind.js";
import { emptyRecord, type SubscriptionRecord, type SubscriptionStore } from "./subscription-store.js";

/** Where an agent's durable topic patterns go: its durable topic feed. */
export interface DurablePatterns {
  /** The agent's durable patterns are these now (an empty list: none). */
  set(patterns: readonly string[]): Promise<void>;
}

/** The topic subscriptions of one agent on this node. */
export class AgentTopics {
  private record: SubscriptionRecord | undefined;
  private loading: Promise<void> | undefined;
  /** Saves, one after another. */
  private saving: Promise<void> = Promise.resolve();
  private readonly declared: readonly TopicSubscription[];

  constructor(
    private readonly def: AgentType,
    private readonly key: string,
    private readonly inbox: AgentInbox,
    private readonly store: SubscriptionStore | undefined,
    /** Set once the agent has a durable topic feed. */
    public durable: DurablePatterns | undefined = undefined,
  ) {
    this.declared = def.subscribe ?? [];
  }

  /** Once per host: the type's subscriptions and the stored run-time ones, taken. */
  load(): Promise<void> {
    // A failed read (JetStream away) is tried again by the next start.
    return (this.loading ??= this.loadOnce().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    }));
  }

  private async loadOnce(): Promise<void> {
    this.record = this.store ? await this.store.load(this.def.type, this.key) : emptyRecord();
    await Promise.all(this.corePatterns().map((p) => this.inbox.addTopic(p)));
  }

  /** The durable patterns the agent takes now. */
  durablePatterns(): string[] {
    const r = this.record ?? emptyRecord();
    const out = new Set(this.declared.filter((s) => s.durable && !r.left.includes(s.pattern)).map((s) => s.pattern));
    for (const p of r.durable) out.add(p);
    return [...out];
  }

  private corePatterns(): string[] {
    const r = this.record ?? emptyRecord();
    const out = new Set(this.declared.filter((s) => !s.durable && !r.left.includes(s.pattern)).map((s) => s.pattern));
    for (const p of r.core) out.add(p);
    return [...out];
  }

  /** ctx.subscribe: take `topic` from now on, kept across restarts and failover; resolves once stored and subscribed. */
  async subscribe(topic: Topic): Promise<void> {
    const s = subscriptionOf(topic);
    if (this.def.requireVerifiedSender) {
      throw new InvalidConfigError("subscribe", `agent type ${this.def.type} takes only messages whose sender is proven (requireVerifiedSender), and topic messages carry no proof`);
    }
    if (s.durable && this.def.mailbox !== MailboxKind.Durable) {
      throw new InvalidConfigError("subscribe", `durable topic ${s.pattern}: agent type ${this.def.type} needs mailbox: "durable" to take durable topics`);
    }
    await this.load();
    const r = this.record!;
    const declared = this.declared.some((d) => d.pattern === s.pattern && d.durable === s.durable);
    const list = s.durable ? r.durable : r.core;
    if (declared) r.left = r.left.filter((p) => p !== s.pattern);
    else if (!list.includes(s.pattern)) list.push(s.pattern);
    await this.save();
    if (s.durable) await this.durable?.set(this.durablePatterns());
    else await this.inbox.addTopic(s.pattern);
  }

  /** ctx.unsubscribe: no longer take `pattern` (core or durable); resolves once stored. */
  async unsubscribe(topic: Topic): Promise<void> {
    const { pattern } = subscriptionOf(topic);
    await this.load();
    const r = this.record!;
    r.core = r.core.filter((p) => p !== pattern);
    const wasDurable = r.durable.includes(pattern) || this.declared.some((d) => d.durable && d.pattern === pattern);
    r.durable = r.durable.filter((p) => p !== pattern);
    if (this.declared.some((d) => d.pattern === pattern) && !r.left.includes(pattern)) r.left.push(pattern);
    await this.save();
    this.inbox.removeTopic(pattern);
    if (wasDurable) await this.durable?.set(this.durablePatterns());
  }

  private save(): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    const record = { core: [...this.record!.core], durable: [...this.record!.durable], left: [...this.record!.left] };
    const next = this.saving.catch(() => {}).then(() => store.save(this.def.type, this.key, record));
    this.saving = next;
    return next;
  }
}
