// The supervision tree a node reports: nested supervisors with their strategy, children in start order.
import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { useNodes } from "./testing/supervision.js";
import { defineAgent } from "./define-agent.js";
import { defineSupervisor } from "./define-supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

const worker = defineAgent({ type: "worker", persist: false, receive: () => "ok" });
const team = defineSupervisor({
  type: "team",
  strategy: "rest_for_one",
  children: [
    { id: "a", type: "worker", key: "a" },
    { id: "b", type: "worker", key: "b" },
  ],
});
const dept = defineSupervisor({ type: "dept", strategy: "one_for_all", children: [{ id: "team", type: "team", key: "t1" }] });

describe("tree", () => {
  it("shows nested supervisors with their strategy and children", async () => {
    const node = await nodes.start([worker, team, dept]);
    await node.spawn("dept", { key: "d1" });
    const tree = node.tree();
    expect(tree.children).toHaveLength(1);
    const d = tree.children[0]!;
    expect(d).toMatchObject({ id: "dept/d1", state: "running", restarts: 0, strategy: "one_for_all" });
    expect(d.children![0]).toMatchObject({ id: "team/t1", childId: "team", strategy: "rest_for_one" });
    expect(d.children![0]!.children!.map((c) => [c.id, c.state])).toEqual([
      ["worker/a", "running"],
      ["worker/b", "running"],
    ]);
  });
});
