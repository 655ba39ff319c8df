// Topics on a secured server: a node credential narrowed to its subscriber
// types hosts core and durable subscribers and keeps their run-time
// subscriptions, a client credential publishes on both kinds, and an
// observer may not publish on one. None of it meets a
// permission error it should not.

import type { PermissionViolationError } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient } from "../client.js";
import { defineAgent } from "../define-agent.js";
import { defineTopic } from "../define-topic.js";
import { startNode, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { connectAttacker, watchViolations } from "../testing/hostile/attacker.js";
import { startSecureNatsServer, type SecureNatsServer } from "../testing/secure-server.js";
import { waitFor } from "../testing/wait.js";
import { Role } from "./roles.js";

const NS = "tr";
const s = new Subjects(NS);
const news = defineTopic({ name: "news.>", durable: true });

const reader = defineAgent({
  type: "reader",
  persist: false,
  subscribe: ["alerts.*"],
  state: (): { got: unknown[] } => ({ got: [] }),
  async receive(msg: unknown, ctx) {
    if (ctx.topic !== undefined) ctx.state.got.push(msg);
    else if ((msg as { op?: string }).op === "sub") await ctx.subscribe("tips.*");
    return ctx.state.got;
  },
});
const archive = defineAgent({
  type: "archive",
  mailbox: "durable",
  subscribe: [news],
  state: (): { got: unknown[] } => ({ got: [] }),
  receive(msg: unknown, ctx) {
    if (ctx.topic !== undefined) ctx.state.got.push(msg);
    return ctx.state.got;
  },
});

let secure: SecureNatsServer;
let node: TroupeNode;
let violations: PermissionViolationError[];

beforeAll(async () => {
  secure = await startSecureNatsServer({ namespaces: [NS] });
  node = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node, types: ["reader", "archive"] }), namespace: NS, name: "n1", agents: [reader, archive] });
  violations = watchViolations(node.connection);
}, 60_000);

afterAll(async () => {
  await node?.close();
  await secure?.dispose();
});

describe("topics with credentials", () => {
  it("a narrowed node hosts core and durable subscribers, a client publishes on both, nobody meets a permission error", async () => {
    const client = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Client }), namespace: NS, name: "shop" });
    try {
      await node.spawn("reader", { key: "r1" });
      await node.spawn("archive", { key: "a1" });
      await node.ref("reader", "r1").ask({ op: "sub" });
      await client.publish("alerts.fire", 1);
      await client.publish("tips.today", 2);
      await client.publish(defineTopic({ name: "news.eu", durable: true }), 3);
      await node.publish("alerts.flood", 4);
      await waitFor(async () => ((await node.ref("reader", "r1").ask({ op: "get" })) as unknown[]).length === 3, "reader got three");
      await waitFor(async () => ((await node.ref("archive", "a1").ask({ op: "get" })) as unknown[]).length === 1, "archive got one");
      expect(violations).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("an observer may not publish on a topic", async () => {
    const raw = await connectAttacker(secure.url, await secure.creds({ role: Role.Observer }));
    try {
      const v = await raw.publish(s.topic("alerts.fake"), new Uint8Array([1]));
      expect({ operation: v.operation, subject: v.subject }).toEqual({ operation: "publish", subject: s.topic("alerts.fake") });
    } finally {
      await raw.close();
    }
  });
});
