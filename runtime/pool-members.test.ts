// The load a pool sees of its members, without a server: node reports, its own
// asks in flight (the oldest one's age), growth when all are busy, on a fake clock.

import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { decodeLoadReport, encodeLoadReport } from "./pool-load-report.js";
import { PoolLoadReporter, REFRESH_MS, REPORT_MS, type ReportedMember } from "./pool-load-reporter.js";
import { PoolMembers, type PoolEnv } from "./pool-members.js";
import { Pool } from "./pool.js";
import { validatePoolOptions } from "./pool-options.js";
import type { AgentRef } from "./agent-ref.js";
import { Subjects } from "./subjects.js";

function members(clock = new FakeClock()) {
  let deliver: (data: Uint8Array) => void = () => {};
  const activated: string[] = [];
  const env: PoolEnv = {
    clock,
    random: () => 0.5,
    onDemand: async () => true,
    activate: async (id) => void activated.push(id),
    spawn: async () => undefined,
    subscribe: (_subject, cb) => {
      deliver = cb;
      return () => {};
    },
    loadSubject: (t, n) => `load.${t}.${n}`,
  };
  return { m: new PoolMembers("worker", "w", env), clock, activated, report: (data: Uint8Array) => deliver(data) };
}

describe("pool members", () => {
  it("brings the first min members up once, and listens to reports", async () => {
    const { m, activated } = members();
    await m.ready(3, 3);
    expect(m.ready(3, 3)).toBeUndefined();
    expect(activated).toEqual(["worker/w-0", "worker/w-1", "worker/w-2"]);
  });

  it("a member with an ask in flight costs more the longer it takes: a stuck one looks loaded at once", async () => {
    const { m, clock } = members();
    await m.ready(2, 2);
    m.sent(0);
    expect(m.cost(0, clock.now())).toBeGreaterThan(m.cost(1, clock.now()));
    const early = m.cost(0, clock.now());
    await clock.advance(200);
    expect(m.cost(0, clock.now())).toBeGreaterThan(early + 150);
  });

  it("takes a node's report of its members' queues, forgets members it stops reporting, and counts bad reports", async () => {
    const { m, clock, report } = members();
    await m.ready(2, 4);
    report(encodeLoadReport({ node: "a", members: [{ index: 1, queue: 5, handled: 9 }, { index: 3, queue: 0, handled: 1 }] }));
    expect(m.cost(1, clock.now())).toBeGreaterThan(m.cost(0, clock.now()));
    // A member another process brought up (index 3) is in use here too.
    expect(m.size).toBe(4);
    expect(m.handled()).toEqual([0, 9, 0, 1]);
    report(encodeLoadReport({ node: "a", members: [{ index: 3, queue: 0, handled: 1 }] }));
    expect(m.cost(1, clock.now())).toBe(0);
    report(new Uint8Array([1, 2, 3]));
    report(encodeLoadReport({ node: "a", members: [{ index: -1, queue: 0, handled: 0 }] }));
    expect(m.badReports).toBe(2);
  });

  it("grows only when every member is busy, and never past max", async () => {
    const { m, activated } = members();
    await m.ready(1, 2);
    expect(m.grow(2)).toBeUndefined();
    const done = m.sent(0);
    await m.grow(2);
    expect(m.size).toBe(2);
    m.sent(1);
    expect(m.grow(2)).toBeUndefined();
    expect(activated).toEqual(["worker/w-0", "worker/w-1"]);
    done(true);
  });
});

describe("pool load reporter", () => {
  it("publishes each pool's members when they change, again every REFRESH_MS, and once empty when they are gone", async () => {
    const clock = new FakeClock();
    const sent: { subject: string; data: Uint8Array }[] = [];
    const nc = { publish: (subject: string, data: Uint8Array) => sent.push({ subject, data }), isClosed: () => false } as unknown as NatsConnection;
    let hosted: ReportedMember[] = [
      { type: "worker", key: "w-0", idle: false, info: () => ({ mailbox: 2, handled: 5 }) },
      { type: "worker", key: "w-1", idle: true, info: () => ({ mailbox: 0, handled: 7 }) },
      { type: "worker", key: "plain", idle: false, info: () => ({ mailbox: 9, handled: 0 }) },
    ];
    const reporter = new PoolLoadReporter("n1", nc, new Subjects("ns"), clock, () => hosted);
    reporter.start();
    await clock.advance(REPORT_MS);
    expect(sent.map((s) => s.subject)).toEqual(["troupe.ns.pool.worker.w.load"]);
    expect(decodeLoadReport(sent[0]!.data)).toEqual({ node: "n1", members: [{ index: 0, queue: 3, handled: 5 }, { index: 1, queue: 0, handled: 7 }] });
    await clock.advance(REPORT_MS * 3);
    expect(sent).toHaveLength(1);
    await clock.advance(REFRESH_MS);
    expect(sent).toHaveLength(2);
    hosted = [];
    await clock.advance(REPORT_MS);
    expect(decodeLoadReport(sent.at(-1)!.data)).toEqual({ node: "n1", members: [] });
    const count = sent.length;
    await clock.advance(REFRESH_MS * 2);
    expect(sent).toHaveLength(count);
    reporter.stop();
  });
});

describe("a burst sent at once", () => {
  /** A pool whose members never answer: each ask stays in flight; `sentTo` lists the members in order. */
  function pool(min: number, max: number) {
    const { m } = members();
    const sentTo: string[] = [];
    const ref = (_t: string, key: string) => ({ ask: () => (sentTo.push(key), new Promise(() => {})), tell: async () => void sentTo.push(key) }) as unknown as AgentRef;
    const p = new Pool(m, validatePoolOptions("worker", { name: "w", min, max, policy: "least_loaded" }), { clock: new FakeClock(), random: () => 0.5 }, ref);
    return { m, p, sentTo };
  }
  const counts = (keys: string[]) => keys.reduce<Record<string, number>>((c, k) => ((c[k] = (c[k] ?? 0) + 1), c), {});
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it("spreads over the members: each message counts against its member as it is chosen", async () => {
    const { m, p, sentTo } = pool(4, 4);
    await m.ready(4, 4);
    m.sent(0), m.sent(1), m.sent(2);
    for (let i = 0; i < 12; i++) void p.ask({ i });
    await settle();
    // w-3 was idle and takes the first; then the load evens out (before the fix, all 12 went to w-3).
    expect(sentTo[0]).toBe("w-3");
    expect(counts(sentTo)).toEqual({ "w-0": 3, "w-1": 3, "w-2": 3, "w-3": 3 });
  });

  it("grows the pool when the burst finds every member busy", async () => {
    const { m, p, sentTo } = pool(2, 8);
    for (let i = 0; i < 16; i++) void p.ask({ i });
    await settle();
    expect(m.size).toBe(8);
    expect(Object.keys(counts(sentTo)).length).toBe(8);
  });
});
