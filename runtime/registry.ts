// The registry: which node runs each agent (`troupe_<ns>_registry`, key
// `<type>.<key>`). A node claims an AgentId with compare-and-set before it
// starts it, so two nodes never both run one agent; a claim held by a node
// whose heartbeat lapsed, or by an earlier run of a node name, may be taken
// over. Entries are checked field by field; malformed ones are reported and
// skipped.

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm, type KvEntry } from "@nats-io/kv";
import { listKeys } from "./memory/kv-keys.js";
import { encodeValue } from "./codec.js";
import { decodeRegistration, type Registration } from "./cluster-entry.js";
import { ClusterBucket, type InvalidEntries } from "./invalid-entries.js";
import { AgentExistsError, InternalError } from "./errors.js";
import type { Membership } from "./membership.js";
import type { Retry } from "./state-store.js";
import { isWrongLastSequence } from "./memory/jetstream-errors.js";
import { formatAgentId, type Subjects } from "./subjects.js";
import type { Clock } from "./clock.js";
import { PipelinedDeletes } from "./pipelined-deletes.js";

/** How long the release of a claim waits for JetStream's ack. */
const RELEASE_TIMEOUT_MS = 5000;

export type { Registration } from "./cluster-entry.js";

/** Claims and lookups of AgentIds. */
export class Registry {
  /**
   * The revision of each claim this registry made and still holds, by type
   * then key: its release is one compare-and-set delete, no read. An entry
   * goes with its release.
   */
  private readonly held = new Map<string, Map<string, number>>();

  private constructor(
    private readonly kv: Bucket,
    private readonly subjects: Subjects,
    private readonly membership: Membership,
    private readonly clock: Clock,
    private readonly retry: Retry,
    private readonly invalid: InvalidEntries,
    /** Releases of this registry's own claims, pipelined (a node's registry; a client's claims nothing). */
    private readonly deletes?: PipelinedDeletes,
  ) {}

  static async open(nc: NatsConnection, subjects: Subjects, membership: Membership, clock: Clock, retry: Retry, invalid: InvalidEntries, replicas = 1): Promise<Registry> {
    const kv = await retry("open registry bucket", () => new Kvm(nc).create(subjects.registryBucket(), { history: 1, replicas }));
    if (!(kv instanceof Bucket)) throw new InternalError("the KV client returned an unexpected bucket implementation");
    return new Registry(kv, subjects, membership, clock, retry, invalid, new PipelinedDeletes(nc, kv, clock, RELEASE_TIMEOUT_MS));
  }

  /** The registry over a bucket the caller opened (a client, which never creates buckets). */
  static fromBucket(kv: Bucket, subjects: Subjects, membership: Membership, clock: Clock, retry: Retry, invalid: InvalidEntries): Registry {
    return new Registry(kv, subjects, membership, clock, retry, invalid);
  }

  /**
   * Where `type/key` runs, or undefined (no entry, or a malformed one, which is reported).
   * Entries of lapsed nodes are reported as they are; check `live`, which is true only
   * while the run of the node that made the claim is alive.
   */
  async lookup(type: string, key: string): Promise<{ reg: Registration; revision: number; live: boolean } | undefined> {
    const held = await this.read(type, key);
    return held?.reg ? { reg: held.reg, revision: held.revision, live: held.live } : undefined;
  }

  /** The entry of `type/key`: its revision, and its claim unless the entry is malformed. */
  private async read(type: string, key: string): Promise<{ reg?: Registration; revision: number; live: boolean } | undefined> {
    const k = this.subjects.registryKey(type, key);
    const e = await this.retry("registry lookup", () => this.kv.get(k));
    const reg = this.check(k, e);
    if (!e || e.operation !== "PUT") return undefined;
    if (!reg) return { revision: e.revision, live: false };
    const info = await this.membership.get(reg.node);
    const live = this.membership.isAlive(info) && !supersededRun(reg, info?.instance);
    return { reg, revision: e.revision, live };
  }

  private check(k: string, e: KvEntry | null): Registration | undefined {
    if (!e || e.operation !== "PUT") {
      this.invalid.forget(ClusterBucket.Registry, k);
      return undefined;
    }
    const checked = decodeRegistration(e.value);
    if (!checked.ok) {
      this.invalid.report({ bucket: ClusterBucket.Registry, key: k, revision: e.revision, reason: checked.reason });
      return undefined;
    }
    this.invalid.forget(ClusterBucket.Registry, k);
    return checked.value;
  }

  /**
   * Claim `type/key` for `node`. Throws AgentExistsError when another live node holds it;
   * takes over a claim whose node is gone, or an earlier claim under this node's own name
   * (the caller makes sure it does not run the agent). Returns the claim's revision.
   */
  async claim(type: string, key: string, node: string, supervisor: string, spawn: { args?: unknown; restart?: string } = {}, takeover?: Takeover): Promise<number> {
    const k = this.subjects.registryKey(type, key);
    const value = encodeValue({ node, since: this.clock.now(), supervisor, ...spawn, instance: this.membership.instance } satisfies Registration);
    if (takeover) {
      // Handed over by a live node: its claim, exactly as it was (revision), becomes ours, or nothing happens.
      try {
        return this.hold(type, key, await this.kv.update(k, value, takeover.revision));
      } catch (err) {
        if (isWrongLastSequence(err)) throw new AgentExistsError(formatAgentId(type, key), takeover.node);
        throw err;
      }
    }
    try {
      return this.hold(type, key, await this.retry("registry claim", () => this.kv.create(k, value)));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    // A malformed entry claims nothing: it is taken over like a lapsed claim.
    const held = await this.read(type, key);
    // A claim by this very node name that the node does not run (it crashed and came back under the
    // same name, or a release was lost) is stale; the caller checked it has no local host for the id.
    if (held?.reg && held.live && held.reg.node !== node) throw new AgentExistsError(formatAgentId(type, key), held.reg.node);
    try {
      return this.hold(type, key, held ? await this.kv.update(k, value, held.revision) : await this.kv.create(k, value));
    } catch (err) {
      if (isWrongLastSequence(err)) throw new AgentExistsError(formatAgentId(type, key));
      throw err;
    }
  }

  /**
   * Give up a claim made by `node` (no-op if another node, or another run of
   * this node's name, holds it now). A claim this registry made is deleted
   * with compare-and-set on the revision it wrote: one write, no read, and
   * many releases at once share one reply subscription; the delete is
   * refused, leaving the entry alone, once another claim replaced it.
   */
  async release(type: string, key: string, node: string): Promise<void> {
    const k = this.subjects.registryKey(type, key);
    try {
      const revision = this.unhold(type, key);
      if (revision !== undefined) {
        if (this.deletes) await this.deletes.delete(k, revision);
        else await this.kv.delete(k, { previousSeq: revision });
        return;
      }
      const held = await this.lookup(type, key);
      if (held && held.reg.node === node && !supersededRun(held.reg, this.membership.instance)) await this.kv.delete(k, { previousSeq: held.revision });
    } catch {
      // Lost the race or the server is gone: the entry points at a node that no longer claims it.
    }
  }

  /** Remember the revision of a claim just made; returns it. */
  private hold(type: string, key: string, revision: number): number {
    let keys = this.held.get(type);
    if (!keys) this.held.set(type, (keys = new Map()));
    keys.set(key, revision);
    return revision;
  }

  /** Forget a claim being released; its revision, if this registry made it. */
  private unhold(type: string, key: string): number | undefined {
    const keys = this.held.get(type);
    const revision = keys?.get(key);
    if (revision === undefined) return undefined;
    keys!.delete(key);
    if (keys!.size === 0) this.held.delete(type);
    return revision;
  }

  /** Stop releasing in pipeline (the node closed): its reply subscription goes with it. */
  close(): void {
    this.deletes?.close();
  }

  /** Every registration in the namespace. */
  async all(): Promise<Array<{ type: string; key: string; reg: Registration }>> {
    const out: Array<{ type: string; key: string; reg: Registration }> = [];
    for (const k of await listKeys(this.kv)) {
      const parts = this.subjects.parseAgentKey(k);
      if (!parts) continue;
      const reg = this.check(k, await this.kv.get(k));
      if (reg) out.push({ ...parts, reg });
    }
    return out;
  }
}

/** A claim handed over by the live node that holds it: that node, and the claim's revision when it let go of the agent. */
export interface Takeover {
  node: string;
  revision: number;
}

/** Whether `reg` was made by another run of its node name than `instance` (the run holding the name now). */
export function supersededRun(reg: Registration, instance: string | undefined): boolean {
  return reg.instance !== undefined && instance !== undefined && reg.instance !== instance;
}
