// Restart intensity against a real server: a supervisor past its intensity
// stops its children in reverse order and fails, and its own supervisor
// decides (two levels of escalation); the node's root counts intensity per
// child and gives up on one crashing agent alone.

import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { Probe, probeAgent, recordEvents, useNodes, waitFor, type ProbeView } from "./testing/supervision.js";
import { EventKind } from "./events.js";
import { AgentNotFoundError, RemoteError } from "./errors.js";
import type { TroupeNode } from "./node.js";
import { defineSupervisor } from "./define-supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

const team = defineSupervisor({
  type: "team",
  strategy: "one_for_one",
  intensity: 1,
  periodMs: 60_000,
  children: [
    { id: "x", type: "w", key: "x" },
    { id: "y", type: "w", key: "y" },
    { id: "z", type: "w", key: "z" },
  ],
});
const dept = defineSupervisor({
  type: "dept",
  strategy: "one_for_one",
  intensity: 1,
  periodMs: 60_000,
  children: [
    { id: "other", type: "w", key: "other" },
    { id: "team", type: "team", key: "t1" },
  ],
});

async function crash(node: TroupeNode, id: string): Promise<void> {
  await expect(node.ref(id).ask({ op: "crash" }, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(RemoteError);
}

async function answers(node: TroupeNode, id: string): Promise<ProbeView> {
  return waitFor(() => node.ref(id).ask<ProbeView>({ op: "get" }, { timeoutMs: 2000 }), `${id} answers`);
}

describe("escalation", () => {
  it("goes up two levels: team gives up, dept restarts it; then dept gives up and root restarts dept", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team, dept]);
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("dept", { key: "d1" });
    expect(probe.log).toEqual(["start:w/other", "start:w/x", "start:w/y", "start:w/z"]);
    expect(await node.ref("w/y").ask({ op: "inc" })).toBe(1);

    // First crash of x: team restarts it (1 restart in its window).
    await crash(node, "w/x");
    await waitFor(() => probe.starts("w/x") === 2, "w/x restarted by team");
    // Second crash: past team's intensity. team stops z then y, fails; dept restarts team.
    const mark = probe.log.length;
    await crash(node, "w/x");
    await waitFor(() => maxed.some((e) => e.id === "team/t1"), "team max_intensity");
    await waitFor(() => probe.starts("w/z") === 2, "team restarted with its children");
    expect(probe.since(mark)).toEqual([
      "stop:w/x",
      "stop:w/z",
      "stop:w/y",
      "start:w/x",
      "start:w/y",
      "start:w/z",
    ]);
    expect(maxed.find((e) => e.id === "team/t1")).toMatchObject({ supervisor: "team/t1", intensity: 1, periodMs: 60_000 });
    await waitFor(() => failed.some((e) => e.id === "team/t1"), "team's crash report");
    expect(failed.find((e) => e.id === "team/t1")).toMatchObject({ supervisor: "dept/d1", child: "team/t1", reason: "failure", restartCount: 1 });
    expect((await answers(node, "w/y")).n).toBe(1); // resumed from persisted state
    expect(probe.starts("w/other")).toBe(1); // dept is one_for_one

    // team's new window is empty: two more crashes of x make it escalate again,
    // which is dept's second restart in its window: dept fails, root restarts it.
    await crash(node, "w/x");
    await waitFor(() => probe.starts("w/x") === 4, "w/x restarted by the new team");
    await crash(node, "w/x");
    await waitFor(() => maxed.some((e) => e.id === "dept/d1"), "dept max_intensity");
    await waitFor(() => failed.some((e) => e.id === "dept/d1"), "dept's crash report");
    expect(failed.find((e) => e.id === "dept/d1")).toMatchObject({ supervisor: "root", child: "dept/d1", reason: "failure" });
    await waitFor(() => probe.starts("w/other") === 2 && probe.starts("w/z") === 3, "dept restarted by root with its subtree");
    expect((await answers(node, "w/other")).activation).toBe(2);
    expect((await answers(node, "w/y")).n).toBe(1);
    const rows = await node.list();
    expect(rows.find((r) => r.id === "dept/d1")).toMatchObject({ state: "running", supervisor: "root" });
    expect(rows.find((r) => r.id === "team/t1")).toMatchObject({ state: "running", supervisor: "dept/d1" });
  });

  it("a supervisor with intensity 0 fails on its first child failure", async () => {
    const probe = new Probe();
    const strict = defineSupervisor({ type: "strict", intensity: 0, children: [{ id: "a", type: "w", key: "a" }] });
    const node = await nodes.start([probeAgent("w", probe), strict], { root: { intensity: 0 } });
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    await node.spawn("strict", { key: "s" });
    await crash(node, "w/a");
    // strict gives up; root (also intensity 0) gives up on strict alone.
    await waitFor(() => maxed.some((e) => e.id === "strict/s" && e.supervisor === "root"), "root gives up on strict/s");
    expect(maxed.find((e) => e.id === "strict/s" && e.supervisor === "strict/s")).toBeDefined();
    const row = (await node.list()).find((r) => r.id === "strict/s");
    expect(row?.state).toBe("failed");
    await expect(node.ref("w/a").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(probe.starts("w/a")).toBe(1);
  });
});

describe("supervisors as children", () => {
  it("node.kill of a supervisor restarts its subtree", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("team", { key: "t1" });
    await node.ref("w/y").ask({ op: "inc" });
    const mark = probe.log.length;
    await node.kill("team/t1");
    await waitFor(() => probe.starts("w/z") === 2, "team restarted its children");
    expect(probe.since(mark)).toEqual(["stop:w/z", "stop:w/y", "stop:w/x", "start:w/x", "start:w/y", "start:w/z"]);
    expect((await answers(node, "w/y")).n).toBe(1);
    await waitFor(() => failed.length === 1, "team's crash report");
    expect(failed[0]).toMatchObject({ supervisor: "root", child: "team/t1", error: "killed: killed" });
  });

  it("a supervisor whose child never starts gives up, and so does the root on it", async () => {
    const probe = new Probe();
    const never = defineSupervisor({ type: "never", intensity: 1, children: [{ id: "n", type: "w", key: "n" }] });
    const agent = probeAgent("w", probe, { failStart: () => true });
    const node = await nodes.start([agent, never], { root: { intensity: 1, periodMs: 60_000 } });
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    await node.spawn("never", { key: "s" });
    await waitFor(() => maxed.some((e) => e.id === "never/s" && e.supervisor === "root"), "root gives up on never/s");
    // two activations of the supervisor, each trying its child twice
    expect(maxed.filter((e) => e.supervisor === "never/s")).toHaveLength(2);
    expect(probe.starts("w/n")).toBe(4);
    await waitFor(async () => (await node.list()).length === 1, "only the supervisor is listed");
    expect((await node.list()).map((r) => [r.id, r.state])).toEqual([["never/s", "failed"]]);
  });
});

describe("root supervisor", () => {
  it("counts intensity per child: a crashing agent gives up alone, its siblings keep answering", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe)], { root: { intensity: 2, periodMs: 60_000 } });
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const bad = await node.spawn("w", { key: "bad" });
    const good1 = await node.spawn("w", { key: "good1" });
    const good2 = await node.spawn("w", { key: "good2" });
    await good1.ask({ op: "inc" });

    for (let i = 1; i <= 2; i++) {
      await crash(node, "w/bad");
      await waitFor(() => probe.starts("w/bad") === i + 1, `w/bad restart ${i}`);
      // each sibling's own window is untouched
      await crash(node, i === 1 ? "w/good1" : "w/good2");
    }
    await crash(node, "w/bad");
    await waitFor(() => maxed.some((e) => e.id === "w/bad"), "root gives up on w/bad");
    expect(maxed).toHaveLength(1);
    expect(maxed[0]).toMatchObject({ supervisor: "root", child: "w/bad", intensity: 2 });
    await waitFor(() => failed.filter((e) => e.id === "w/bad").length === 3, "three crash reports of w/bad");

    await expect(bad.ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(probe.starts("w/bad")).toBe(3);
    expect((await answers(node, "w/good1")).n).toBe(1);
    expect(await good2.ask({ op: "inc" })).toBe(1);
    const rows = await node.list();
    expect(rows.find((r) => r.id === "w/bad")?.state).toBe("failed");
    expect(rows.filter((r) => r.id !== "w/bad").map((r) => r.state)).toEqual(["running", "running"]);
    expect(node.tree().children.find((c) => c.id === "w/bad")?.state).toBe("failed");

    // Given up on is not forever: it can be spawned again, and resumes its state.
    await node.spawn("w", { key: "bad" });
    expect((await answers(node, "w/bad")).activation).toBe(4);
  });

  it("spawn({ restart }) sets the restart type under the root", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe)]);
    await node.spawn("w", { key: "perm" });
    await node.spawn("w", { key: "trans", restart: "transient" });
    await node.spawn("w", { key: "temp", restart: "temporary" });
    await crash(node, "w/temp");
    await node.ref("w/trans").tell({ op: "stop" });
    await node.ref("w/perm").tell({ op: "stop" });
    await waitFor(() => probe.starts("w/perm") === 2, "perm restarted after ctx.stop()");
    await waitFor(async () => (await node.list()).length === 1, "trans and temp gone");
    expect((await node.list()).map((r) => r.id)).toEqual(["w/perm"]);
    expect(probe.starts("w/trans")).toBe(1);
    expect(probe.starts("w/temp")).toBe(1);
    // A transient agent that exited normally can be spawned again.
    await node.spawn("w", { key: "trans", restart: "transient" });
    expect((await answers(node, "w/trans")).activation).toBe(2);
  });
});
