// Cluster membership: each node puts a heartbeat in `troupe_<ns>_nodes` every
// `heartbeatMs`. Whether another node is gone is judged on this node's own
// clock: its heartbeat entry's revision has not moved for `lapseMs` while we
// watched. Until we have watched that long, the heartbeat's own timestamp
// decides, with a wide margin for clock skew between hosts.

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm } from "@nats-io/kv";
import { listKeys } from "./memory/kv-keys.js";
import type { Clock, TimerHandle } from "./clock.js";
import { decodeValue, encodeValue } from "./codec.js";
import type { Retry } from "./state-store.js";
import type { Subjects } from "./subjects.js";

/** Allowance for clock skew between hosts when a heartbeat's own timestamp is all we have. */
const SKEW_MARGIN_MS = 30_000;

/** What a node announces about itself. */
export interface NodeInfo {
  id: string;
  /** Revision of the heartbeat entry this was read from. */
  revision?: number;
  /** Agent types it hosts. */
  types: string[];
  startedAt: number;
  lastSeen: number;
  pid: number;
  host: string;
  agents: number;
}

/** This node's heartbeat, and a view of the others. */
export class Membership {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Per node: the heartbeat revision we last saw and when (our clock) it changed. */
  private readonly observed = new Map<string, { revision: number; since: number }>();
  private lastBeat: number | undefined;

  private constructor(
    private readonly kv: Bucket,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    readonly lapseMs: number,
  ) {}

  static async open(nc: NatsConnection, subjects: Subjects, clock: Clock, heartbeatMs: number, retry: Retry): Promise<Membership> {
    const kv = await retry("open membership bucket", () => new Kvm(nc).create(subjects.nodesBucket(), { history: 1 }));
    if (!(kv instanceof Bucket)) throw new Error("unexpected KV implementation");
    return new Membership(kv, clock, heartbeatMs, heartbeatMs * 3);
  }

  /**
   * Whether a node counts as alive. Dead when its entry is missing, when we saw
   * the entry's revision stand still for `lapseMs` of our own time, or (before
   * we have watched that long) when its heartbeat timestamp is older than
   * `lapseMs` plus a margin for clock skew.
   */
  isAlive(info: NodeInfo | undefined): boolean {
    if (!info) return false;
    const now = this.clock.now();
    const revision = info.revision ?? -1;
    const seen = this.observed.get(info.id);
    if (seen && seen.revision !== revision) {
      this.observed.set(info.id, { revision, since: now });
      return true; // it wrote a heartbeat since we last looked
    }
    if (!seen) this.observed.set(info.id, { revision, since: now });
    else if (now - seen.since > this.lapseMs) return false; // stood still while we watched
    return now - info.lastSeen <= this.lapseMs + SKEW_MARGIN_MS;
  }

  /** A node's last heartbeat, or undefined. */
  async get(nodeId: string): Promise<NodeInfo | undefined> {
    const e = await this.kv.get(nodeId);
    if (!e || e.operation !== "PUT") return undefined;
    try {
      return { ...(decodeValue(e.value) as NodeInfo), revision: e.revision };
    } catch {
      return undefined;
    }
  }

  /** Every node whose heartbeat is fresh. */
  async alive(): Promise<NodeInfo[]> {
    const out: NodeInfo[] = [];
    for (const k of await listKeys(this.kv)) {
      const info = await this.get(k);
      if (info && this.isAlive(info)) out.push(info);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Announce this node now and every heartbeatMs; `info()` is read at each beat.
   * `onGap` is called when a beat lands more than `lapseMs` after the previous one.
   */
  start(info: () => Omit<NodeInfo, "lastSeen">, onGap?: () => void): Promise<void> {
    const beat = async (): Promise<void> => {
      try {
        const i = info();
        await this.kv.put(i.id, encodeValue({ ...i, lastSeen: this.clock.now() }));
        const now = this.clock.now();
        // Our own heartbeat stood still long enough for others to count us gone (a stall, an outage):
        // they may have adopted our agents.
        if (this.lastBeat !== undefined && now - this.lastBeat > this.lapseMs) onGap?.();
        this.lastBeat = now;
      } catch {
        // Missed beat (server restarting): the next one tries again.
      }
    };
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = this.clock.setTimeout(() => void beat().finally(loop), this.heartbeatMs);
    };
    return beat().finally(loop);
  }

  /** Stop beating and remove this node's entry. */
  async leave(nodeId: string): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    try {
      await this.kv.delete(nodeId);
    } catch {
      // Server gone: the entry lapses by itself.
    }
  }
}
