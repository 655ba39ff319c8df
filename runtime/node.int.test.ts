// The walking skeleton against a real server: spawn, tell, ask, list, stop, close.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "../actors/define-agent.js";
import { counter, echo } from "../actors/builtins.js";
import { AgentNotFoundError } from "./errors.js";

const nats = useNatsServer();

describe("node", () => {
  let node: TroupeNode;
  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: "t1", agents: [counter, echo] });
  });
  afterAll(async () => {
    await node?.close();
  });

  it("spawns, tells and asks", async () => {
    const ref = await node.spawn("counter", { key: "c1", args: {} });
    expect(ref.id).toBe("counter/c1");
    await ref.tell({ op: "inc" });
    expect(await ref.ask({ op: "get" }, { timeoutMs: 2000 })).toBe(1);
    const list = await node.list();
    expect(list.map((a) => [a.id, a.state])).toEqual([["counter/c1", "running"]]);
    await node.stop(ref);
    await expect(ref.ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
  });
});
