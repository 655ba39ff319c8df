// The members of one pool (a type and a name) as one process sees them: how
// many are in use, which were brought up, and each one's load. Shared by every
// Pool object of that type and name in the process (node.pool, ctx.pool), so
// the load a caller counts is the whole process's.
//
// A member's load: the asks this process has in flight to it (and when the
// oldest was sent), and the queue its node last reported (mailbox depth plus
// the message in hand, every ~100 ms), moved by what this process sent and got
// answered since. A worker stuck on a slow message looks loaded at once: the
// age of the oldest ask in flight to it counts.

import type { Clock } from "./clock.js";
import { AgentExistsError } from "./errors.js";
import { decodeLoadReport, type PoolLoadReport } from "./pool-load-report.js";
import { poolMemberKey } from "./pool-member.js";
import { formatAgentId } from "./subjects.js";

/** What a pool needs from the node or client it runs in. */
export interface PoolEnv {
  readonly clock: Clock;
  readonly random: () => number;
  /** Whether agents of `type` are activated on demand (else they must be spawned). */
  onDemand(type: string): Promise<boolean>;
  /** Make sure an on-demand agent runs. */
  activate(id: string): Promise<unknown>;
  /** Spawn an agent (AgentExistsError when it runs already). */
  spawn(type: string, key: string): Promise<unknown>;
  /** Subscribe to `subject`; returns the unsubscribe. */
  subscribe(subject: string, callback: (data: Uint8Array) => void): () => void;
  /** The subject a pool's load reports come on. */
  loadSubject(type: string, name: string): string;
}

/** Weight of a new sample in the service-time average. */
const EWMA_ALPHA = 0.1;
/** Service time assumed before any sample, and the least one used (ms). */
const MIN_SERVICE_MS = 1;

/** One member's load as this process knows it. */
class MemberLoad {
  /** Asks in flight from this process: token -> when sent, oldest first. */
  readonly inflight = new Map<number, number>();
  /** The queue its node last reported. */
  reported = 0;
  /** The node that reported it. */
  reportedBy: string | undefined = undefined;
  /** Messages sent minus answers received since that report. */
  delta = 0;
  /** Messages it handled, by the last report. */
  handled = 0;

  /** Messages ahead of a new one: the larger of what this process has in flight and what its node reported (moved by what happened since). */
  queue(): number {
    return Math.max(this.inflight.size, this.reported + this.delta, 0);
  }
}

export class PoolMembers {
  /** Members in use: indices 0 .. size-1. */
  size = 0;
  /** Load reports that did not decode. */
  badReports = 0;
  private readonly loads: MemberLoad[] = [];
  /** Members brought up (or being brought up) by this process. Deleted on failure, so a later use tries again. */
  private readonly ensured = new Map<number, Promise<void>>();
  /** Members being brought up now: a message for one waits for it. */
  private readonly coming = new Map<number, Promise<void>>();
  /** The largest `min` whose members are all up. */
  private readyFor = 0;
  /** The bringing up of the first `readyingFor` members, while it lasts. */
  private readying: Promise<void> | undefined;
  private readyingFor = 0;
  private onDemand: Promise<boolean> | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Largest `max` of the pools using these members: reports never make the pool larger. */
  private maxDeclared = 0;
  private token = 0;
  /** Average service time (ms) of asks sent to a member with nothing else in flight from here. */
  serviceMs = MIN_SERVICE_MS;

  constructor(
    readonly type: string,
    readonly name: string,
    private readonly env: PoolEnv,
  ) {}

  key(index: number): string {
    return poolMemberKey(this.name, index);
  }

  load(index: number): MemberLoad {
    let l = this.loads[index];
    if (!l) this.loads[index] = l = new MemberLoad();
    return l;
  }

  /**
   * Bring up the first `min` members (on first use), and listen to load reports.
   * Undefined when there is nothing to wait for (the message path's common case).
   */
  ready(min: number, max: number): Promise<void> | undefined {
    if (max > this.maxDeclared) this.maxDeclared = max;
    if (min <= this.readyFor) return undefined;
    if (this.readying && min <= this.readyingFor) return this.readying;
    this.unsubscribe ??= this.env.subscribe(this.env.loadSubject(this.type, this.name), (data) => this.onReport(data));
    const ups: Promise<void>[] = [];
    for (let i = 0; i < min; i++) ups.push(this.ensure(i));
    if (this.size < min) this.size = min;
    const readying: Promise<void> = Promise.all(ups).then(
      () => {
        if (this.readying === readying) this.readying = undefined;
        this.readyFor = Math.max(this.readyFor, min);
      },
      (err: unknown) => {
        if (this.readying === readying) this.readying = undefined;
        throw err;
      },
    );
    this.readying = readying;
    this.readyingFor = min;
    return readying;
  }

  /** While member `index` is being brought up: resolves once it is (a message for it waits). */
  whenUp(index: number): Promise<void> | undefined {
    return this.coming.get(index);
  }

  /** When every member in use (of at most `max`) is busy, bring up the next one; resolves once it takes messages. */
  grow(max: number): Promise<void> | undefined {
    if (this.size >= max) return undefined;
    for (let i = 0; i < this.size; i++) if (this.load(i).queue() === 0) return undefined;
    const index = this.size++;
    return this.ensure(index).catch((err: unknown) => {
      // It did not come up: the pool stays as large as it was (a later busy moment tries again).
      if (this.size === index + 1) this.size = index;
      throw err;
    });
  }

  /** Note an ask sent to member `index`; call the returned function when it settles. */
  sent(index: number): (ok: boolean) => void {
    const l = this.load(index);
    const token = ++this.token;
    const at = this.env.clock.now();
    const alone = l.inflight.size === 0;
    l.inflight.set(token, at);
    l.delta++;
    return (ok) => {
      if (!l.inflight.delete(token)) return;
      l.delta--;
      if (ok && alone) this.serviceMs = Math.max(MIN_SERVICE_MS, this.serviceMs + EWMA_ALPHA * (this.env.clock.now() - at - this.serviceMs));
    };
  }

  /** Note a tell sent to member `index`. */
  told(index: number): void {
    this.load(index).delta++;
  }

  /** The time a new message would wait at member `index` (ms): its queue times the service time, plus the age of the oldest ask in flight there. */
  cost(index: number, now: number): number {
    const l = this.load(index);
    let age = 0;
    for (const sentAt of l.inflight.values()) {
      age = now - sentAt;
      break;
    }
    return l.queue() * this.serviceMs + age;
  }

  /** Messages each member handled, by the last reports (for a summary). */
  handled(): number[] {
    return Array.from({ length: this.size }, (_, i) => this.load(i).handled);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /**
   * Member `index` is gone for good (an ask found no such agent: its supervisor
   * gave up on it, or someone stopped it): bring it up again; messages for it
   * wait meanwhile.
   */
  lost(index: number): void {
    if (this.coming.has(index)) return;
    this.ensured.delete(index);
    this.ensure(index).catch(() => {});
  }

  private ensure(index: number): Promise<void> {
    let up = this.ensured.get(index);
    if (!up) {
      const coming = this.bringUp(index);
      up = coming;
      this.ensured.set(index, coming);
      this.coming.set(index, coming);
      coming.then(
        () => this.coming.delete(index),
        () => {
          this.coming.delete(index);
          this.ensured.delete(index);
        },
      );
    }
    return up;
  }

  private async bringUp(index: number): Promise<void> {
    const key = this.key(index);
    this.onDemand ??= this.env.onDemand(this.type);
    let onDemand: boolean;
    try {
      onDemand = await this.onDemand;
    } catch (err) {
      this.onDemand = undefined;
      throw err;
    }
    if (onDemand) {
      await this.env.activate(formatAgentId(this.type, key));
      return;
    }
    try {
      await this.env.spawn(this.type, key);
    } catch (err) {
      if (!(err instanceof AgentExistsError)) throw err;
    }
  }

  /** A load report from a node; never throws (it runs in a NATS callback). */
  private onReport(data: Uint8Array): void {
    const report = decodeLoadReport(data);
    if (!report) {
      this.badReports++;
      return;
    }
    this.apply(report);
  }

  /** Take a report: its members' queues replace what we knew; members it reported before and not now are gone from that node. */
  apply(report: PoolLoadReport): void {
    const listed = new Set<number>();
    for (const m of report.members) {
      if (m.index >= Math.max(this.maxDeclared, 1)) continue;
      listed.add(m.index);
      const l = this.load(m.index);
      l.reported = m.queue;
      l.reportedBy = report.node;
      l.delta = 0;
      l.handled = m.handled;
      // A member another process brought up is one of ours too.
      if (m.index >= this.size) this.size = m.index + 1;
    }
    for (let i = 0; i < this.loads.length; i++) {
      const l = this.loads[i];
      if (l && l.reportedBy === report.node && !listed.has(i)) {
        l.reported = 0;
        l.reportedBy = undefined;
        l.delta = 0;
      }
    }
  }
}
