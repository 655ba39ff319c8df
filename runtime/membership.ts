// Cluster membership: each node puts a heartbeat in `troupe_<ns>_nodes` every
// `heartbeatMs`; a node whose heartbeat is older than `lapseMs` counts as gone.

import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm, type KV } from "@nats-io/kv";
import type { Clock, TimerHandle } from "./clock.js";
import { decodeValue, encodeValue } from "./codec.js";
import type { Retry } from "./state-store.js";
import type { Subjects } from "./subjects.js";

/** What a node announces about itself. */
export interface NodeInfo {
  id: string;
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

  private constructor(
    private readonly kv: KV,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    readonly lapseMs: number,
  ) {}

  static async open(nc: NatsConnection, subjects: Subjects, clock: Clock, heartbeatMs: number, retry: Retry): Promise<Membership> {
    const kv = await retry("open membership bucket", () => new Kvm(nc).create(subjects.nodesBucket(), { history: 1 }));
    return new Membership(kv, clock, heartbeatMs, heartbeatMs * 3);
  }

  /** Whether a node's info is fresh. */
  isAlive(info: NodeInfo | undefined): boolean {
    return !!info && this.clock.now() - info.lastSeen <= this.lapseMs;
  }

  /** A node's last heartbeat, or undefined. */
  async get(nodeId: string): Promise<NodeInfo | undefined> {
    const e = await this.kv.get(nodeId);
    if (!e || e.operation !== "PUT") return undefined;
    try {
      return decodeValue(e.value) as NodeInfo;
    } catch {
      return undefined;
    }
  }

  /** Every node whose heartbeat is fresh. */
  async alive(): Promise<NodeInfo[]> {
    const out: NodeInfo[] = [];
    const keys = await this.kv.keys();
    for await (const k of keys) {
      const info = await this.get(k);
      if (info && this.isAlive(info)) out.push(info);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Announce this node now and every heartbeatMs; `info()` is read at each beat. */
  start(info: () => Omit<NodeInfo, "lastSeen">): Promise<void> {
    const beat = async (): Promise<void> => {
      try {
        const i = info();
        await this.kv.put(i.id, encodeValue({ ...i, lastSeen: this.clock.now() }));
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
