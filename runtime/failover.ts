// Failover: when a node's heartbeat lapses, the agents it ran under its root
// supervisor are started again on the surviving nodes that host their types,
// and resume from their persisted state. Survivors race for each agent with
// compare-and-set on its registry entry, so exactly one of them adopts it.
// Agents under a supervisor agent come back with their supervisor. A node
// name taken over by a new run counts as lost too: the earlier run's claims
// are orphans. What fails is reported (once per cause) and tried next round.

import type { Clock, TimerHandle } from "./clock.js";
import { AgentExistsError, errorSummary } from "./errors.js";
import type { Membership } from "./membership.js";
import { supersededRun, type Registry, type Registration } from "./registry.js";
import { formatAgentId } from "./subjects.js";

/** Starts an orphaned agent here; rejects when another survivor won it. */
export type Adopt = (type: string, key: string, reg: Registration) => Promise<void>;

/** What failover could not do this round (it tries again next round). */
export interface FailoverFailure {
  /** Reading membership, reading the registry, or adopting one agent. */
  phase: "membership" | "registry" | "adopt";
  error: string;
  /** The agent (`type/key`) whose adoption failed. */
  agent?: string;
}

/** Agents whose adoption failures are remembered at most, so each cause is reported once. */
const MAX_REMEMBERED_FAILURES = 1024;

/** Watches membership and adopts the root-supervised agents of nodes that are gone. */
export class Failover {
  /** Live nodes at the last round, with the run that holds each name. */
  private known = new Map<string, string | undefined>();
  /** The failure last reported per phase (membership, registry) and per agent; forgotten once it goes away. */
  private readonly reported = new Map<string, string>();
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
    /** This run's instance id: claims under this node's name by other runs are orphans. */
    private readonly instance?: string,
    /** Told about each new failure. */
    private readonly onFailure: (failure: FailoverFailure) => void = () => {},
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
    let alive: Map<string, string | undefined>;
    try {
      alive = new Map((await this.membership.alive()).map((n) => [n.id, n.instance]));
      this.clearFailure("membership");
    } catch (err) {
      this.fail("membership", { phase: "membership", error: errorSummary(err) });
      return; // server unreachable: nothing can be decided now
    }
    const lost = [...this.known].filter(([id, instance]) => !alive.has(id) || alive.get(id) !== instance);
    this.known = alive;
    if (!initial && lost.length === 0 && !this.unfinished) return;
    let orphans: Array<{ type: string; key: string; reg: Registration }>;
    try {
      orphans = (await this.registry.all()).filter((e) => e.reg.supervisor === "root" && this.hosts(e.type) && this.orphaned(e.reg, alive, initial));
      this.clearFailure("registry");
    } catch (err) {
      this.fail("registry", { phase: "registry", error: errorSummary(err) });
      this.unfinished = true;
      return;
    }
    // Forget failures of agents that are no longer orphans (adopted elsewhere, stopped, or running again).
    const ids = new Set<string>(orphans.map((o) => formatAgentId(o.type, o.key)));
    for (const k of this.reported.keys()) if (k.includes("/") && !ids.has(k)) this.reported.delete(k);
    // Survivors start at different points of the list, so they do not all race for the same claims.
    const start = Math.floor(this.random() * orphans.length);
    const queue = orphans.slice(start).concat(orphans.slice(0, start));
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (let o = queue.shift(); o && !this.stopped; o = queue.shift()) {
        const agent = formatAgentId(o.type, o.key);
        try {
          await this.adopt(o.type, o.key, o.reg);
          this.clearFailure(agent);
        } catch (err) {
          // Another survivor adopting it first is the expected outcome; anything else is tried again next round.
          if (err instanceof AgentExistsError) {
            this.clearFailure(agent);
            continue;
          }
          failed++;
          this.fail(agent, { phase: "adopt", error: errorSummary(err), agent });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    this.unfinished = failed > 0;
  }

  /** Whether a registry entry is left behind by a node (or a run of a node name) that is gone. */
  private orphaned(reg: Registration, alive: Map<string, string | undefined>, initial: boolean): boolean {
    if (reg.node === this.selfId) {
      // Left under this node's own name by an earlier run of it (it crashed and came back under the same name).
      if (reg.instance !== undefined && this.instance !== undefined) return reg.instance !== this.instance;
      return initial && reg.since < this.startedAt;
    }
    return !alive.has(reg.node) || supersededRun(reg, alive.get(reg.node));
  }

  /** Report a failure unless the same one was reported last time for `what`. */
  private fail(what: string, failure: FailoverFailure): void {
    if (this.reported.get(what) === failure.error) return;
    if (!this.reported.has(what) && this.reported.size >= MAX_REMEMBERED_FAILURES) this.reported.delete(this.reported.keys().next().value!);
    this.reported.set(what, failure.error);
    try {
      this.onFailure(failure);
    } catch {
      // reporting must not stop the round
    }
  }

  private clearFailure(what: string): void {
    this.reported.delete(what);
  }
}
