// Failover: when a node's heartbeat lapses, the agents it ran under its root
// supervisor are started again on the surviving nodes that host their types,
// and resume from their persisted state. Survivors race for each agent with
// compare-and-set on its registry entry, so exactly one of them adopts it.
// Agents under a supervisor agent come back with their supervisor.

import type { Clock, TimerHandle } from "./clock.js";
import { AgentExistsError } from "./errors.js";
import type { Membership } from "./membership.js";
import type { Registry, Registration } from "./registry.js";

/** Starts an orphaned agent here; rejects when another survivor won it. */
export type Adopt = (type: string, key: string, reg: Registration) => Promise<void>;

/** Watches membership and adopts the root-supervised agents of nodes that are gone. */
export class Failover {
  private known = new Set<string>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private scanning: Promise<void> | undefined;
  /** Some orphan could not be adopted for a passing reason: scan again next round. */
  private unfinished = false;

  constructor(
    private readonly selfId: string,
    private readonly membership: Membership,
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly hosts: (type: string) => boolean,
    private readonly adopt: Adopt,
    /** When this node started: its own claims made since then are its current run's, not orphans. */
    private readonly startedAt: number,
    private readonly random: () => number = Math.random,
    private readonly concurrency = 4,
  ) {}

  /** Check now (adopting what nodes that are already gone left behind), then every interval. */
  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = this.clock.setTimeout(() => void this.check().finally(loop), this.intervalMs);
    };
    void this.check(true).finally(loop);
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    return this.scanning ?? Promise.resolve();
  }

  /** One round: which nodes are alive now, and adopt from those that went away. */
  check(initial = false): Promise<void> {
    this.scanning ??= this.round(initial).finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async round(initial: boolean): Promise<void> {
    let alive: Set<string>;
    try {
      alive = new Set((await this.membership.alive()).map((n) => n.id));
    } catch {
      return; // server unreachable: nothing can be decided now
    }
    const lost = [...this.known].filter((id) => !alive.has(id));
    this.known = alive;
    if (!initial && lost.length === 0 && !this.unfinished) return;
    let orphans: Array<{ type: string; key: string; reg: Registration }>;
    try {
      orphans = (await this.registry.all()).filter(
        (e) =>
          e.reg.supervisor === "root" &&
          this.hosts(e.type) &&
          // Agents of nodes that are gone; on the first round also those left under this node's own
          // name by an earlier run of it (it crashed and came back under the same name).
          ((!alive.has(e.reg.node) && e.reg.node !== this.selfId) ||
            (initial && e.reg.node === this.selfId && e.reg.since < this.startedAt)),
      );
    } catch {
      this.unfinished = true;
      return;
    }
    // Survivors start at different points of the list, so they do not all race for the same claims.
    const start = Math.floor(this.random() * orphans.length);
    const queue = orphans.slice(start).concat(orphans.slice(0, start));
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (let o = queue.shift(); o && !this.stopped; o = queue.shift()) {
        try {
          await this.adopt(o.type, o.key, o.reg);
        } catch (err) {
          // Another survivor adopting it first is the expected outcome; anything else is tried again next round.
          if (!(err instanceof AgentExistsError)) failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    this.unfinished = failed > 0;
  }
}
