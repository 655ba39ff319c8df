// Durable mailboxes on a 3-server NATS cluster: with `replicas: 3` the
// mailbox stream keeps three copies, and tells stored before the stream's
// leader server was killed are applied exactly once afterwards, with new
// tells still stored while one server is down.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster, type NatsCluster } from "./testing/nats-cluster.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { Subjects } from "./subjects.js";

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

describe("durable mailboxes on a cluster", { timeout: 120_000 }, () => {
  let cluster: NatsCluster;
  let node: TroupeNode;
  let raw: NatsConnection;
  const ns = "r3";

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    node = await startNode({ servers: cluster.urls, namespace: ns, name: "r3-node", agents: [ledger], replicas: 3 });
    raw = await connect({ servers: cluster.urls });
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    await raw?.close();
    await cluster?.dispose();
  });

  it("keeps three copies of every mailbox and applies each tell once through the loss of the stream's leader", async () => {
    const jsm = await jetstreamManager(raw);
    const stream = new Subjects(ns).mailboxStream();
    const info = await jsm.streams.info(stream);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
    // The state (which records what was applied) is as safe as the mailbox.
    expect((await jsm.streams.info(`KV_${new Subjects(ns).stateBucket()}`)).config.num_replicas).toBe(3);

    const ref = await node.spawn<{ add?: number }>("ledger", { key: "l1" });
    for (let i = 0; i < 50; i++) await ref.tell({ add: 1 }, { id: `before-${i}` });
    const leader = (await jsm.streams.info(stream)).cluster!.leader!;
    const victim = cluster.servers.find((s, i) => `n${i + 1}` === leader)!;
    await victim.kill();
    // Stored while one of three servers is down (a quorum of two keeps the stream writable).
    for (let i = 0; i < 50; i++) {
      await waitFor(
        () =>
          ref.tell({ add: 1 }, { id: `after-${i}` }).then(
            () => true,
            () => false,
          ),
        "a tell stored with one server down",
        30_000,
      );
    }
    await waitFor(async () => (await ref.ask<{ count: number }>({}, { timeoutMs: 10_000 }).catch(() => ({ count: -1 }))).count === 100, "every tell applied", 60_000);
    expect(await ref.ask({}, { timeoutMs: 10_000 })).toEqual({ total: 100, count: 100 });
    await victim.restart();
  });
});
