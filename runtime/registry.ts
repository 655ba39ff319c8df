// The registry: which node runs each agent (`troupe_<ns>_registry`, key
// `<type>.<key>`). A node claims an AgentId with compare-and-set before it
// starts it, so two nodes never both run one agent; a claim held by a node
// whose heartbeat lapsed may be taken over.

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm } from "@nats-io/kv";
import { listKeys } from "./memory/kv-keys.js";
import { decodeValue, encodeValue } from "./codec.js";
import { AgentExistsError } from "./errors.js";
import type { Membership } from "./membership.js";
import type { Retry } from "./state-store.js";
import { isWrongLastSequence } from "./memory/jetstream-errors.js";
import type { Subjects } from "./subjects.js";
import type { Clock } from "./clock.js";

/** A registry entry. */
export interface Registration {
  node: string;
  since: number;
  /** Id of the supervisor the agent runs under. */
  supervisor: string;
  /** What it was spawned with, so a survivor can start it again when its node is gone. */
  args?: unknown;
  restart?: string;
}

/** Claims and lookups of AgentIds. */
export class Registry {
  private constructor(
    private readonly kv: Bucket,
    private readonly subjects: Subjects,
    private readonly membership: Membership,
    private readonly clock: Clock,
    private readonly retry: Retry,
  ) {}

  static async open(nc: NatsConnection, subjects: Subjects, membership: Membership, clock: Clock, retry: Retry): Promise<Registry> {
    const kv = await retry("open registry bucket", () => new Kvm(nc).create(subjects.registryBucket(), { history: 1 }));
    if (!(kv instanceof Bucket)) throw new Error("unexpected KV implementation");
    return new Registry(kv, subjects, membership, clock, retry);
  }

  /** Where `type/key` runs, or undefined. Entries of lapsed nodes are reported as they are; check `live`. */
  async lookup(type: string, key: string): Promise<{ reg: Registration; revision: number; live: boolean } | undefined> {
    const e = await this.retry("registry lookup", () => this.kv.get(this.subjects.registryKey(type, key)));
    if (!e || e.operation !== "PUT") return undefined;
    let reg: Registration;
    try {
      reg = decodeValue(e.value) as Registration;
    } catch {
      return undefined;
    }
    const live = this.membership.isAlive(await this.membership.get(reg.node));
    return { reg, revision: e.revision, live };
  }

  /**
   * Claim `type/key` for `node`. Throws AgentExistsError when another live node holds it;
   * takes over a claim whose node is gone, or an earlier claim under this node's own name
   * (the caller makes sure it does not run the agent). Returns the claim's revision.
   */
  async claim(type: string, key: string, node: string, supervisor: string, spawn: { args?: unknown; restart?: string } = {}): Promise<number> {
    const k = this.subjects.registryKey(type, key);
    const value = encodeValue({ node, since: this.clock.now(), supervisor, ...spawn } satisfies Registration);
    try {
      return await this.retry("registry claim", () => this.kv.create(k, value));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    const held = await this.lookup(type, key);
    // A claim by this very node name that the node does not run (it crashed and came back under the
    // same name, or a release was lost) is stale; the caller checked it has no local host for the id.
    if (held && held.live && held.reg.node !== node) throw new AgentExistsError(`${type}/${key}`, held.reg.node);
    try {
      return held ? await this.kv.update(k, value, held.revision) : await this.kv.create(k, value);
    } catch (err) {
      if (isWrongLastSequence(err)) throw new AgentExistsError(`${type}/${key}`);
      throw err;
    }
  }

  /** Give up a claim made by `node` (no-op if another node holds it now). */
  async release(type: string, key: string, node: string): Promise<void> {
    try {
      const held = await this.lookup(type, key);
      if (held && held.reg.node === node) await this.kv.delete(this.subjects.registryKey(type, key), { previousSeq: held.revision });
    } catch {
      // Lost the race or the server is gone: the entry points at a node that no longer claims it.
    }
  }

  /** Every registration in the namespace. */
  async all(): Promise<Array<{ type: string; key: string; reg: Registration }>> {
    const out: Array<{ type: string; key: string; reg: Registration }> = [];
    for (const k of await listKeys(this.kv)) {
      const parts = this.subjects.parseAgentKey(k);
      if (!parts) continue;
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT") continue;
      try {
        out.push({ ...parts, reg: decodeValue(e.value) as Registration });
      } catch {
        // skip undecodable entry
      }
    }
    return out;
  }
}
