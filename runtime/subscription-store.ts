// Where agents' run-time topic subscriptions are kept, so they outlive an
// activation: KV bucket `troupe_<ns>_subs`, key `<type>.<key>`. A record
// says which patterns the agent subscribed to beyond its type's (core and
// durable) and which of its type's it left. Read once when the agent starts
// on a node (a restart keeps them in memory), written on each change by the
// one activation that runs it. An entry goes when nothing is left in it.

import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm, type KV } from "@nats-io/kv";
import { decodeValue, encodeValue } from "./codec.js";
import type { Retry } from "./state-store.js";
import type { Clock } from "./clock.js";
import { KeyDirectory } from "./key-directory.js";
import type { Subjects } from "./subjects.js";
import { validateTopicPattern } from "./topic-name.js";

/** An agent's run-time changes to its subscriptions. */
export interface SubscriptionRecord {
  /** Core patterns it subscribed to. */
  core: string[];
  /** Durable patterns it subscribed to. */
  durable: string[];
  /** Patterns of its type's `subscribe` it left. */
  left: string[];
}

/** An empty record. */
export function emptyRecord(): SubscriptionRecord {
  return { core: [], durable: [], left: [] };
}

/** Agents' run-time subscriptions in the namespace's subs bucket. */
export class SubscriptionStore {
  /** Which agents of this node's types have a record: the others' starts read nothing. */
  private directory: KeyDirectory | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly subjects: Subjects,
    private readonly retry: Retry,
  ) {}

  static async open(nc: NatsConnection, subjects: Subjects, retry: Retry, replicas = 1): Promise<SubscriptionStore> {
    const kv = await retry("open subscriptions bucket", () => new Kvm(nc).create(subjects.subsBucket(), { history: 1, replicas }));
    return new SubscriptionStore(kv, subjects, retry);
  }

  /**
   * Follow which agents of `types` have a record, so that starting one that has
   * none (most agents) costs no request. Until this runs, every load reads.
   */
  follow(types: readonly string[], clock: Clock, trouble: (err: unknown) => void): Promise<void> {
    this.directory = new KeyDirectory(this.kv, types.map((t) => this.subjects.subsKey(t, ">")), clock, trouble);
    return this.directory.start();
  }

  /** Stop following. */
  async close(): Promise<void> {
    await this.directory?.stop();
  }

  /** Whether `type/key` may have a record: false only when it is known to have none. */
  mayHave(type: string, key: string): boolean {
    return this.directory?.mayHave(this.subjects.subsKey(type, key)) ?? true;
  }

  /** The record of `type/key`; a malformed one (written by someone else) counts as empty. */
  async load(type: string, key: string): Promise<SubscriptionRecord> {
    const k = this.subjects.subsKey(type, key);
    const e = await this.retry("load subscriptions", () => this.kv.get(k));
    if (!e || e.operation !== "PUT") return emptyRecord();
    try {
      return checkRecord(decodeValue(e.value));
    } catch {
      return emptyRecord();
    }
  }

  /** Store the record of `type/key` (deleted when empty). */
  async save(type: string, key: string, record: SubscriptionRecord): Promise<void> {
    const k = this.subjects.subsKey(type, key);
    if (record.core.length === 0 && record.durable.length === 0 && record.left.length === 0) {
      await this.retry("save subscriptions", () => this.kv.delete(k));
      this.directory?.noted(k, false);
      return;
    }
    this.directory?.noted(k, true);
    await this.retry("save subscriptions", () => this.kv.put(k, encodeValue(record)));
  }
}

function checkRecord(v: unknown): SubscriptionRecord {
  const r = v as Partial<SubscriptionRecord> | null;
  const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((p): p is string => typeof p === "string").map(validateTopicPattern) : []);
  return { core: list(r?.core), durable: list(r?.durable), left: list(r?.left) };
}
