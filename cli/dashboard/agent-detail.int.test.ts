// An agent's memory keys in the dashboard's detail view, against a real
// server: the keys whose LATEST revision it wrote, with their latest values,
// however many revisions the bucket holds; when there are more keys than the
// view reads, it says the list is cut.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient } from "../../actors/index.js";
import { defineAgent } from "../../runtime/define-agent.js";
import { startNode, type TroupeNode } from "../../runtime/node.js";
import { useNatsServer } from "../../runtime/testing/server.js";
import { agentDetail } from "./agent-detail.js";

const nats = useNatsServer();
const namespace = `dash-detail-${randomBytes(3).toString("hex")}`;

describe("an agent's memory keys in the detail view", () => {
  let node: TroupeNode;
  let client: TroupeClient;
  const write = (agent: string, key: string, value: unknown) => node.ref(agent).ask({ key, value });

  beforeAll(async () => {
    node = await startNode({
      servers: nats.url,
      namespace,
      name: "detail-node",
      agents: [
        defineAgent({
          type: "writer",
          receive: async (msg: { key: string; value: unknown }, ctx) => ctx.memory.put(msg.key, msg.value),
        }),
      ],
    });
    await node.spawn("writer", { key: "w1" });
    await node.spawn("writer", { key: "w2" });
    client = await connectClient({ servers: nats.url, namespace });
  });
  afterAll(async () => {
    await client?.close();
    await node?.close();
  });

  it("shows each key's latest value, not an old one, past the scan limit of revisions", async () => {
    // w1 writes its keys first; then many revisions by w2; then w1 rewrites one key and w2 takes over another.
    await write("writer/w1", "a.mine", 1);
    await write("writer/w1", "a.taken", 1);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 20; k++) await write("writer/w2", `filler.${k}`, i);
    await write("writer/w1", "a.mine", 2);
    await write("writer/w2", "a.taken", "w2's now");
    const detail = await agentDetail(client, "writer/w1", undefined, { memoryScanLimit: 50 });
    expect(detail.memory.keys.map((k) => [k.key, k.value])).toEqual([["a.mine", 2]]);
    expect(detail.memory.truncated).toBe(false);
    const other = await agentDetail(client, "writer/w2", undefined, { memoryScanLimit: 50 });
    expect(other.memory.keys.map((k) => k.key)).toContain("a.taken");
    expect(other.memory.keys.find((k) => k.key === "a.taken")?.value).toBe("w2's now");
  });

  it("says the list is cut when the bucket has more keys than the scan reads", async () => {
    const detail = await agentDetail(client, "writer/w2", undefined, { memoryScanLimit: 10 });
    expect(detail.memory.truncated).toBe(true);
    expect(detail.memory.keys.length).toBeLessThanOrEqual(10);
  });
});
