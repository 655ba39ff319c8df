// A node's side of least-loaded routing: every REPORT_MS it reads the queue
// (mailbox depth plus the message in hand) and handled count of the pool
// members it hosts, and publishes one report per pool that changed on
// `troupe.<ns>.pool.<type>.<name>.load` (and every REFRESH_MS even unchanged,
// for callers that just started listening). Only agents whose key is a pool
// member's (`<name>-<i>`) are read; the message path pays nothing.

import type { NatsConnection } from "@nats-io/nats-core";
import type { Clock, TimerHandle } from "./clock.js";
import { encodeLoadReport, type MemberLoadReport } from "./pool-load-report.js";
import { parsePoolMember } from "./pool-member.js";
import type { Subjects } from "./subjects.js";

/** How often a node reads its pool members' load. */
export const REPORT_MS = 100;
/** An unchanged report is sent again this often. */
export const REFRESH_MS = 1000;

/** What the reporter reads of a hosted agent. */
export interface ReportedMember {
  readonly type: string;
  readonly key: string;
  /** Running with nothing in hand and nothing waiting. */
  readonly idle: boolean;
  info(): { mailbox: number; handled: number };
}

interface Sent {
  signature: string;
  at: number;
}

export class PoolLoadReporter {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** The last report sent per pool subject; a pool whose members are all gone gets one empty report, then is forgotten. */
  private readonly sent = new Map<string, Sent>();

  constructor(
    private readonly nodeId: string,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
    private readonly members: () => Iterable<ReportedMember>,
  ) {}

  start(): void {
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      try {
        this.report();
      } catch {
        // A report is best effort: a closed connection or a bad member is skipped, never thrown into a timer.
      }
      this.arm();
    }, REPORT_MS);
  }

  /** Read the members and publish what changed (exposed for tests). */
  report(): void {
    const pools = new Map<string, MemberLoadReport[]>();
    for (const m of this.members()) {
      const p = parsePoolMember(m.key);
      if (!p) continue;
      const subject = this.subjects.poolLoad(m.type, p.name);
      const info = m.info();
      let list = pools.get(subject);
      if (!list) pools.set(subject, (list = []));
      list.push({ index: p.index, queue: info.mailbox + (m.idle ? 0 : 1), handled: info.handled });
    }
    const now = this.clock.now();
    for (const [subject, members] of pools) this.publish(subject, members, now);
    for (const subject of [...this.sent.keys()]) {
      if (pools.has(subject)) continue;
      this.publish(subject, [], now);
      this.sent.delete(subject);
    }
  }

  private publish(subject: string, members: MemberLoadReport[], now: number): void {
    members.sort((a, b) => a.index - b.index);
    const signature = members.map((m) => `${m.index}:${m.queue}:${m.handled}`).join(",");
    const last = this.sent.get(subject);
    if (last && last.signature === signature && now - last.at < REFRESH_MS) return;
    if (this.nc.isClosed()) return;
    this.nc.publish(subject, encodeLoadReport({ node: this.nodeId, members }));
    this.sent.set(subject, { signature, at: now });
  }
}
