// Durable mailboxes on a 3-server NATS cluster: with `replicas: 3` the
// mailbox stream keeps three copies, and tells stored before a server died
// are applied exactly once afterwards, with new tells still stored while one
// server is down. Each activation reads its mailbox through a reader that
// lives on one server; when that server dies the reader is gone without a
// word from JetStream, and the mailbox must still be read on: whether the
// node was connected to that server (it moves to another) or not.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { startNatsCluster, type NatsCluster } from "./testing/nats-cluster.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { openConnection } from "./connection.js";
import { defineAgent } from "./define-agent.js";
import { parseAgentId, Subjects } from "./subjects.js";
import type { AgentRef } from "./agent-ref.js";

const ledger = defineAgent({
  type: "ledger",
  mailbox: "durable",
  state: () => ({ total: 0, count: 0 }),
  receive(msg: { add?: number }, ctx) {
    if (typeof msg.add === "number") {
      ctx.state.total += msg.add;
      ctx.state.count++;
    }
    return ctx.state;
  },
});

type Ledger = AgentRef<{ add?: number }>;

const keyOf = (ref: Ledger): string => parseAgentId(ref.id).key;

/** Store a tell, trying again with the same id while the cluster elects (the id makes a retry harmless). */
async function tellStored(ref: Ledger, id: string): Promise<void> {
  await waitFor(
    () =>
      ref.tell({ add: 1 }, { id }).then(
        () => true,
        () => false,
      ),
    `tell ${id} stored`,
    30_000,
  );
}

/** Until the ledger has applied `count` tells; then its exact state. */
async function applied(ref: Ledger, count: number): Promise<unknown> {
  await waitFor(
    async () => (await ref.ask<{ count: number }>({}, { timeoutMs: 5_000 }).catch(() => ({ count: -1 }))).count === count,
    `${ref.id} applied ${count} tells`,
    45_000,
  );
  return ref.ask({}, { timeoutMs: 10_000 });
}

/** Which server holds the reader (the consumer) of each mailbox subject. */
async function readerServers(jsm: JetStreamManager, stream: string): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  for await (const ci of jsm.consumers.list(stream)) {
    const subject = ci.config.filter_subjects?.[0] ?? ci.config.filter_subject;
    if (subject && ci.cluster?.leader) where.set(subject, ci.cluster.leader);
  }
  return where;
}

describe("durable mailboxes on a cluster", { timeout: 120_000 }, () => {
  let cluster: NatsCluster;
  let raw: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    raw = await connect({ servers: cluster.urls });
    jsm = await jetstreamManager(raw);
  }, 120_000);
  afterAll(async () => {
    await raw?.close();
    await cluster?.dispose();
  });

  it("keeps three copies of every mailbox and applies each tell once through the loss of the stream's leader", async () => {
    const ns = "r3";
    const node = await startNode({ servers: cluster.urls, namespace: ns, name: "r3-node", agents: [ledger], replicas: 3 });
    try {
      const stream = new Subjects(ns).mailboxStream();
      const info = await jsm.streams.info(stream);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas?.length).toBe(2);
      // The state (which records what was applied) is as safe as the mailbox.
      expect((await jsm.streams.info(`KV_${new Subjects(ns).stateBucket()}`)).config.num_replicas).toBe(3);

      const ref = await node.spawn<{ add?: number }>("ledger", { key: "l1" });
      for (let i = 0; i < 50; i++) await ref.tell({ add: 1 }, { id: `before-${i}` });
      const leader = await cluster.waitForStreamLeader(stream);
      await cluster.kill(leader);
      try {
        // Stored while one of three servers is down (a quorum of two keeps the stream writable).
        for (let i = 0; i < 50; i++) await tellStored(ref, `after-${i}`);
        expect(await applied(ref, 100)).toEqual({ total: 100, count: 100 });
      } finally {
        await cluster.restart(leader);
      }
    } finally {
      await node.close();
    }
  });

  // The node talks to the first server only (until it dies); its agents' readers land on any of the three.
  for (const connected of [true, false]) {
    it(`reads on after the server holding a mailbox's reader dies (the node ${connected ? "was" : "was not"} connected to it)`, async () => {
      const ns = connected ? "rc" : "rn";
      const subjects = new Subjects(ns);
      const home = cluster.servers[0]!;
      const nc = await openConnection({ servers: cluster.urls, nats: { noRandomize: true, reconnectTimeWait: 100 } });
      const node = await startNode({ connection: nc, namespace: ns, name: `${ns}-node`, agents: [ledger], replicas: 3 });
      try {
        expect(nc.info?.server_name).toBe(home.name);
        // Agents until one's reader lives on the server to kill: the node's own, or another one.
        const refs: Ledger[] = [];
        let victim: string | undefined;
        let onVictim: Ledger[] = [];
        for (let i = 0; victim === undefined; i++) {
          if (i === 40) throw new Error("40 mailbox readers and none on the server wanted");
          refs.push(await node.spawn<{ add?: number }>("ledger", { key: `k${i}` }));
          const where = await waitFor(async () => {
            const w = await readerServers(jsm, subjects.mailboxStream());
            return refs.every((r) => w.has(subjects.mailbox("ledger", keyOf(r)))) ? w : undefined;
          }, "every mailbox has a reader");
          const wanted = (s: string) => (connected ? s === home.name : s !== home.name);
          const candidate = [...new Set(where.values())].find(wanted);
          if (candidate !== undefined) {
            victim = candidate;
            onVictim = refs.filter((r) => where.get(subjects.mailbox("ledger", keyOf(r))) === candidate);
          }
        }
        for (const ref of refs) for (let i = 0; i < 5; i++) await ref.tell({ add: 1 }, { id: `before-${i}` });
        for (const ref of refs) expect(await applied(ref, 5)).toEqual({ total: 5, count: 5 });

        await cluster.kill(victim);
        try {
          // Tells stored after the reader's server died are applied, once each, by every agent, above all by those whose reader it held.
          expect(onVictim.length).toBeGreaterThan(0);
          for (const ref of refs) for (let i = 0; i < 5; i++) await tellStored(ref, `after-${i}`);
          for (const ref of refs) expect(await applied(ref, 10)).toEqual({ total: 10, count: 10 });
        } finally {
          await cluster.restart(victim);
        }
      } finally {
        await node.close();
        await nc.close();
      }
    });
  }
});
