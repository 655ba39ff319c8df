// Several instances of one supervisor type: a child key with `{key}` in it is
// derived from the instance's key, so each instance runs its own children; a
// fixed child key belongs to one instance, and a second instance is refused
// with an error that says whose it is and how to derive keys instead.

import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { useNodes } from "./testing/supervision.js";
import { defineAgent } from "./define-agent.js";
import { defineSupervisor } from "./define-supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

const counter = defineAgent({
  type: "counter",
  state: () => ({ n: 0 }),
  receive: (_msg: unknown, ctx) => {
    ctx.state.n += 1;
    return ctx.state.n;
  },
});
/** Defined in the test that uses it: a key with `{key}` is checked when the supervisor is defined. */
const perTeam = () =>
  defineSupervisor({
    type: "team",
    children: [
      { id: "a", type: "counter", key: "{key}-a" },
      { id: "b", type: "counter", key: "{key}-b" },
    ],
  });
const fixed = defineSupervisor({ type: "office", children: [{ id: "desk", type: "counter", key: "desk" }] });

describe("instances of one supervisor type", () => {
  it("children keyed {key}-x are each instance's own: both run, with their own state", async () => {
    const node = await nodes.start([counter, perTeam()]);
    await node.spawn("team", { key: "t1" });
    await node.spawn("team", { key: "t2" });
    const trees = node.tree().children.map((t) => [t.id, t.children!.map((c) => [c.id, c.state])]);
    expect(trees).toEqual([
      ["team/t1", [["counter/t1-a", "running"], ["counter/t1-b", "running"]]],
      ["team/t2", [["counter/t2-a", "running"], ["counter/t2-b", "running"]]],
    ]);
    expect(await node.ref("counter/t1-a").ask("inc")).toBe(1);
    expect(await node.ref("counter/t1-a").ask("inc")).toBe(2);
    expect(await node.ref("counter/t2-a").ask("inc")).toBe(1);
  });

  it("a second instance whose fixed child keys belong to the first is refused, saying whose they are", async () => {
    const node = await nodes.start([counter, fixed]);
    await node.spawn("office", { key: "o1" });
    const second = node.spawn("office", { key: "o2" });
    await expect(second).rejects.toThrow(/office\/o2 cannot start its child counter\/desk: it runs under office\/o1/);
    await expect(second).rejects.toThrow(/\{key\}/);
    // The first keeps its child, under its fixed key; the refused one is not left running without children.
    const trees = node.tree().children.map((t) => [t.id, t.state, t.children?.map((c) => c.id)]);
    expect(trees).toEqual([["office/o1", "running", ["counter/desk"]]]);
  });

  it("a child key derived with {key} that another supervisor's child already has is refused too", async () => {
    const teamA = defineSupervisor({ type: "teama", children: [{ id: "w", type: "counter", key: "{key}-w" }] });
    const teamB = defineSupervisor({ type: "teamb", children: [{ id: "w", type: "counter", key: "{key}-w" }] });
    const node = await nodes.start([counter, teamA, teamB]);
    await node.spawn("teama", { key: "x" });
    const second = node.spawn("teamb", { key: "x" });
    await expect(second).rejects.toThrow(/teamb\/x cannot start its child counter\/x-w: it runs under teama\/x/);
    const trees = node.tree().children.map((t) => [t.id, t.state, t.children?.map((c) => c.id)]);
    expect(trees).toEqual([["teama/x", "running", ["counter/x-w"]]]);
  });

  it("a child keyed {key} whose derived key is an agent running at the root is refused", async () => {
    const teamC = defineSupervisor({ type: "teamc", children: [{ id: "solo", type: "counter", key: "{key}" }] });
    const node = await nodes.start([counter, teamC]);
    await node.spawn("counter", { key: "solo" });
    await expect(node.spawn("teamc", { key: "solo" })).rejects.toThrow(/teamc\/solo cannot start its child counter\/solo: it runs under root/);
    expect(node.tree().children.map((t) => t.id)).toEqual(["counter/solo"]);
  });

  it("{key} in a child key must still make a valid key", () => {
    expect(() => defineSupervisor({ type: "bad", children: [{ id: "a", type: "counter", key: "{key}.a" }] })).toThrow(/children\[0\]\.key/);
  });
});
