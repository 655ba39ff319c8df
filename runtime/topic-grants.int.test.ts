// Who may publish and who may take topics: a type with `can` publishes only
// on the topics `can.publish` lists (PermissionDeniedError, operation
// "publish", otherwise, and nothing is delivered); a type that accepts only
// proven senders cannot take topics, whose messages carry no proof.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentTopics } from "./agent-topics.js";
import { defineAgent } from "./define-agent.js";
import { ErrorCode, InvalidConfigError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
const heard: string[] = [];

const listener = defineAgent({
  type: "listener",
  persist: false,
  subscribe: ["audit.>", "orders.*"],
  receive(msg: string, ctx) {
    if (ctx.topic !== undefined) heard.push(`${ctx.topic}:${msg}`);
  },
});

const auditor = defineAgent({
  type: "auditor",
  persist: false,
  can: { publish: ["audit.>"] },
  async receive(msg: { topic: string }, ctx) {
    await ctx.publish(msg.topic, "from auditor");
    return "published";
  },
});

let node: TroupeNode;
beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: "grants", name: "g1", agents: [listener, auditor] });
  await node.spawn("listener", { key: "l1" });
  await node.spawn("auditor", { key: "a1" });
});
afterAll(async () => {
  await node?.close();
});

describe("topics and grants", () => {
  it("a type with can publishes only where can.publish says", async () => {
    const auditor = node.ref<{ topic: string }, string>("auditor", "a1");
    expect(await auditor.ask({ topic: "audit.login" })).toBe("published");
    const refused = await auditor.ask({ topic: "orders.placed" }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: "RemoteError" });
    expect(JSON.stringify(refused)).toContain(ErrorCode.PermissionDenied);
    await waitFor(() => heard.includes("audit.login:from auditor"), "the granted publish delivered");
    expect(heard).not.toContain("orders.placed:from auditor");
    expect(node.stats().permissionDenied).toBe(1);
  });

  it("a bad can.publish entry is named", () => {
    expect(() => defineAgent({ type: "x", receive: () => null, can: { publish: ["a..b"] } })).toThrow(InvalidConfigError);
    expect(() => defineAgent({ type: "x", receive: () => null, can: { publish: ["ok", "a..b"] } })).toThrow(/can\.publish\[1\]/);
  });

  it("a type that accepts only proven senders cannot take topics, declared or at run time", async () => {
    expect(() => defineAgent({ type: "y", receive: () => null, requireVerifiedSender: true, subscribe: ["news.*"] })).toThrow(InvalidConfigError);
    const proven = defineAgent({ type: "proven", receive: () => null, requireVerifiedSender: true });
    // The check comes before anything is stored or subscribed (the inbox is never reached).
    const topics = new AgentTopics(proven, "p1", undefined as never, undefined);
    await expect(topics.subscribe("news.*")).rejects.toBeInstanceOf(InvalidConfigError);
  });
});
