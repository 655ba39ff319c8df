// Passivation of idle on-demand agents. A sweep runs every quarter of the
// shortest idle timeout: an agent that handled nothing since the sweep that
// first saw it quiet, and has been quiet for its type's `idleTimeoutMs`, is
// passivated (state committed, removed from memory, registry claim released).
// It comes back on its next message. So an agent goes between
// `idleTimeoutMs` and about 1.5 x `idleTimeoutMs` after its last message,
// later when very many go idle together (64 are passivated at a time).
//
// The sweep reads a counter per agent instead of arming a timer per message:
// the message path pays nothing for passivation.

import type { AgentHost } from "./agent-host.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { AgentId } from "./subjects.js";

/** Agents passivated at once by one sweep. */
const PASSIVATION_CONCURRENCY = 64;

/** The shortest sweep period, whatever the idle timeout. */
const MIN_SWEEP_MS = 10;

/** What the passivator needs from its node. */
export interface PassivationEnv {
  /** The agents that may be passivated now, with their type's idle timeout. */
  candidates(): Iterable<{ host: AgentHost; idleTimeoutMs: number }>;
  /** Passivate `host`, quiet for `idleMs` (it may find the agent busy again and leave it). */
  passivate(host: AgentHost, idleMs: number): Promise<void>;
}

/** Finds idle on-demand agents and passivates them. */
export class Passivator {
  /** Per agent, its activity counter when last seen and since when it has not moved. Weak: a gone host takes its entry along. */
  private readonly quiet = new WeakMap<AgentHost, { activity: number; since: number }>();
  /** Passivations in flight, by agent: an activation of the same id waits for its end. Deleted when each settles. */
  private readonly inFlight = new Map<AgentId, Promise<void>>();
  private timer: TimerHandle | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;
  private readonly periodMs: number;

  constructor(
    private readonly clock: Clock,
    shortestIdleMs: number,
    private readonly env: PassivationEnv,
  ) {
    this.periodMs = Math.max(MIN_SWEEP_MS, Math.floor(shortestIdleMs / 4));
  }

  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(this.tick, this.periodMs);
  }

  /** Resolves once no passivation of `id` is in flight here. */
  async settled(id: AgentId): Promise<void> {
    await this.inFlight.get(id);
  }

  /** Stop sweeping; resolves when the sweep at work (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = undefined;
      this.start();
    });
  };

  /** One sweep: passivate every agent quiet for its idle timeout, a bounded number at a time. */
  private async sweep(): Promise<void> {
    const now = this.clock.now();
    const due: Array<{ host: AgentHost; idleMs: number }> = [];
    for (const { host, idleTimeoutMs } of this.env.candidates()) {
      const activity = host.activity;
      const seen = this.quiet.get(host);
      if (seen === undefined || seen.activity !== activity || !host.idle) {
        this.quiet.set(host, { activity, since: now });
      } else if (now - seen.since >= idleTimeoutMs) {
        due.push({ host, idleMs: now - seen.since });
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) {
        const { host, idleMs } = due[next++]!;
        const passivating = this.env.passivate(host, idleMs).catch(() => {
          // Reported by the stop itself (supervisor_error); the agent stays, and is tried again next sweep.
        });
        this.inFlight.set(host.id, passivating);
        await passivating;
        this.inFlight.delete(host.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PASSIVATION_CONCURRENCY, due.length) }, worker));
  }
}
