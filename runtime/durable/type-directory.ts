// Which mailbox each agent type takes, and whether its agents are activated
// on demand, as every node and client of the namespace sees it: the KV bucket
// `troupe_<ns>_types`, key `<type>`, value `{ mailbox: "core" | "durable",
// activation?: "on-demand", verified?: true }` (`verified`: its agents accept
// only verified senders, so senders sign what they send it). A node writes the types it hosts when it
// starts; a sender looks a type up once, then keeps the answer true through
// the bucket's watch. An entry outlives the nodes that wrote it, so a message
// for a durable agent whose node just died still goes to its durable mailbox.
// A type nobody wrote takes the core mailbox. Entries are checked, never
// trusted: a malformed one counts as core and is reported.

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm, KvWatchInclude, type KvEntry, type KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import { decodeValue, encodeValue } from "../codec.js";
import { InternalError } from "../errors.js";
import { openExistingKv } from "../memory/kv-existing.js";
import type { Retry } from "../state-store.js";
import type { Subjects } from "../subjects.js";
import { MailboxKind } from "../mailbox-kind.js";

export { MailboxKind };

/** How messages reach the agents of a type. */
export interface TypeRoute {
  readonly mailbox: MailboxKind;
  /** Its agents are activated by the first message (virtual agents): a send that finds nobody activates one. */
  readonly onDemand: boolean;
  /**
   * Its agents accept only verified senders: messages to it carry a proof of
   * their sender (see auth/sender-proof.ts). Only the sender's side reads it;
   * the receiving node checks every message whatever a route says.
   */
  readonly verified: boolean;
}

/** A type nobody wrote: the core mailbox, activated by spawn only, no proof of senders. */
export const CORE_ROUTE: TypeRoute = Object.freeze({ mailbox: MailboxKind.Core, onDemand: false, verified: false });

function routeKey(r: TypeRoute): string {
  return `${r.mailbox}${r.onDemand ? "/on-demand" : ""}${r.verified ? "/verified" : ""}`;
}

/** Where a sender learns the mailbox of a type. */
export class TypeDirectory {
  private readonly known = new Map<string, TypeRoute>();
  private readonly lookups = new Map<string, Promise<TypeRoute>>();
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  private opening: Promise<void> | undefined;

  private constructor(
    private kv: Bucket | undefined,
    private readonly open: () => Promise<Bucket | undefined>,
    private readonly retry: Retry,
    private readonly onInvalid: (key: string, revision: number, reason: string) => void,
  ) {}

  /** A node's directory: the bucket is created when missing. */
  static async create(
    nc: NatsConnection,
    subjects: Subjects,
    retry: Retry,
    onInvalid: (key: string, revision: number, reason: string) => void,
    replicas = 1,
  ): Promise<TypeDirectory> {
    const kvm = new Kvm(nc);
    const kv = await retry("open types bucket", () => kvm.create(subjects.typesBucket(), { history: 1, replicas }));
    if (!(kv instanceof Bucket)) throw new InternalError("the KV client returned an unexpected bucket implementation");
    const dir = new TypeDirectory(kv, async () => kv, retry, onInvalid);
    await dir.follow();
    return dir;
  }

  /**
   * A client's directory: the bucket is opened when first needed and never
   * created; while it does not exist, every type takes the core mailbox.
   */
  static existing(nc: NatsConnection, subjects: Subjects, retry: Retry, onInvalid: (key: string, revision: number, reason: string) => void): TypeDirectory {
    const kvm = new Kvm(nc);
    return new TypeDirectory(undefined, () => retry("open types bucket", () => openExistingKv(kvm, subjects.typesBucket())), retry, onInvalid);
  }

  /** Write the route of each type this node hosts (only where it differs from what is stored). */
  async register(types: ReadonlyArray<{ type: string } & TypeRoute>): Promise<void> {
    const kv = this.kv!;
    for (const t of types) {
      const route: TypeRoute = { mailbox: t.mailbox, onDemand: t.onDemand, verified: t.verified };
      const stored = await this.retry("read type", () => kv.get(t.type));
      if (stored && stored.operation === "PUT" && routeKey(this.check(stored)) === routeKey(route)) continue;
      const value = {
        mailbox: route.mailbox,
        ...(route.onDemand ? { activation: "on-demand" } : {}),
        ...(route.verified ? { verified: true } : {}),
      };
      await this.retry("register type", () => kv.put(t.type, encodeValue(value)));
      this.known.set(t.type, route);
    }
  }

  /** The route of `type` when already known here (no I/O): the hot path of every send. */
  routeOf(type: string): TypeRoute | undefined {
    return this.known.get(type);
  }

  /** The route of `type`, read from the bucket the first time and then kept by the watch. */
  lookup(type: string): Promise<TypeRoute> {
    const known = this.known.get(type);
    if (known) return Promise.resolve(known);
    let pending = this.lookups.get(type);
    if (!pending) {
      pending = this.read(type).finally(() => this.lookups.delete(type));
      this.lookups.set(type, pending);
    }
    return pending;
  }

  /** Stop watching. */
  close(): void {
    this.watch?.stop();
    this.watch = undefined;
  }

  private async read(type: string): Promise<TypeRoute> {
    if (!this.kv) {
      // One opening at a time: concurrent first lookups share it (and its one watch).
      this.opening ??= this.openAndFollow().finally(() => (this.opening = undefined));
      await this.opening;
      // No bucket yet (no node of this version ran here): core, and look again next time.
      if (!this.kv) return CORE_ROUTE;
    }
    const kv = this.kv;
    const entry = await this.retry("read type", () => kv.get(type));
    const route = entry && entry.operation === "PUT" ? this.check(entry) : CORE_ROUTE;
    // The watch may have told us meanwhile; what it said is newer.
    if (!this.known.has(type)) this.known.set(type, route);
    return this.known.get(type)!;
  }

  private async openAndFollow(): Promise<void> {
    const kv = await this.open();
    if (!kv || this.kv) return;
    this.kv = kv;
    await this.follow();
  }

  /** Follow every change of the bucket from now on, so what is known stays true. */
  private async follow(): Promise<void> {
    const watch = await this.kv!.watch({ include: KvWatchInclude.UpdatesOnly });
    this.watch = watch;
    void (async () => {
      for await (const e of watch) {
        if (e.operation === "PUT") this.known.set(e.key, this.check(e));
        else this.known.delete(e.key);
      }
    })().catch(() => {
      // The watch ended with its connection; what is known stays as it was.
    });
  }

  private check(e: KvEntry | KvWatchEntry): TypeRoute {
    let v: unknown;
    try {
      v = decodeValue(e.value);
    } catch {
      this.onInvalid(e.key, e.revision, "does not decode as MessagePack");
      return CORE_ROUTE;
    }
    const { mailbox, activation, verified } = (v ?? {}) as { mailbox?: unknown; activation?: unknown; verified?: unknown };
    // Signing what needs no proof costs time only; not signing what needs one is refused: when in doubt, sign.
    if (verified !== undefined && typeof verified !== "boolean") {
      this.onInvalid(e.key, e.revision, `has verified ${JSON.stringify(verified)?.slice(0, 40)}, not true or false`);
    }
    const signed = verified !== undefined && verified !== false;
    if (mailbox !== MailboxKind.Core && mailbox !== MailboxKind.Durable) {
      this.onInvalid(e.key, e.revision, `has mailbox ${JSON.stringify(mailbox)?.slice(0, 40)}, not "core" or "durable"`);
      return signed ? { ...CORE_ROUTE, verified: true } : CORE_ROUTE;
    }
    if (activation !== undefined && activation !== "on-demand") {
      this.onInvalid(e.key, e.revision, `has activation ${JSON.stringify(activation)?.slice(0, 40)}, not "on-demand"`);
      return { mailbox, onDemand: false, verified: signed };
    }
    return { mailbox, onDemand: activation === "on-demand", verified: signed };
  }
}
