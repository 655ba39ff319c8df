// Supervision against a real server: the three strategies, the three restart
// types (after a failure and after ctx.stop()), crash reports, dead letters
// and the state a restarted agent resumes from.

import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { Probe, probeAgent, recordDeadLetters, recordEvents, useNodes, waitFor, type ProbeView } from "./testing/supervision.js";
import { EventKind } from "./events.js";
import { AgentNotFoundError, RemoteError } from "./errors.js";
import type { TroupeNode } from "./node.js";
import { defineSupervisor } from "./define-supervisor.js";
import type { Strategy } from "../supervisors/strategy.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

function team(strategy: Strategy) {
  return defineSupervisor({
    type: "team",
    strategy,
    intensity: 10,
    periodMs: 60_000,
    children: ["a", "b", "c"].map((k) => ({ id: k, type: "w", key: k })),
  });
}

async function view(node: TroupeNode, id: string): Promise<ProbeView> {
  return node.ref(id).ask<ProbeView>({ op: "get" }, { timeoutMs: 10_000 });
}

describe("strategies", () => {
  it("one_for_one restarts only the child that failed, from its persisted state", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team("one_for_one")]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const restarted = recordEvents(node, EventKind.ChildRestarted);
    const started = recordEvents(node, EventKind.ChildStarted);
    const letters = recordDeadLetters(node, "w", "b");
    await node.spawn("team", { key: "t1" });
    expect(probe.log).toEqual(["start:w/a", "start:w/b", "start:w/c"]);
    await waitFor(() => started.filter((e) => e.supervisor === "team/t1").length === 3, "three child_started events");

    const b = node.ref("w", "b");
    expect(await b.ask({ op: "inc" })).toBe(1);
    expect(await b.ask({ op: "inc" })).toBe(2);
    const err = await b.ask({ op: "crash", why: "kaboom" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toContain("kaboom");

    await waitFor(() => probe.starts("w/b") === 2, "w/b restarted");
    expect(await view(node, "w/b")).toEqual({ n: 2, activation: 2 });
    expect(probe.starts("w/a")).toBe(1);
    expect(probe.starts("w/c")).toBe(1);
    expect(await view(node, "w/a")).toEqual({ n: 0, activation: 1 });

    await waitFor(() => failed.length === 1 && restarted.length === 1 && letters.length === 1, "crash report, restart event, dead letter");
    expect(failed[0]).toMatchObject({
      id: "w/b",
      supervisor: "team/t1",
      child: "w/b",
      childId: "b",
      reason: "failure",
      error: "kaboom",
      messageType: "crash",
      restartCount: 1,
    });
    expect(restarted[0]).toMatchObject({ id: "w/b", supervisor: "team/t1", attempt: 1, delayMs: 0 });
    expect(letters[0]).toMatchObject({ to: "w/b", reason: "kaboom", messageType: "crash" });
    // The message that caused the failure is not handed to the new activation.
    expect(probe.seen("w/b", "crash")).toBe(1);
    const row = (await node.list()).find((r) => r.id === "w/b");
    expect(row).toMatchObject({ state: "running", supervisor: "team/t1", restarts: 1 });
  });

  it("one_for_all stops the siblings in reverse start order and starts all again in order", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team("one_for_all")]);
    await node.spawn("team", { key: "t1" });
    await node.ref("w/c").ask({ op: "inc" });
    const mark = probe.log.length;
    await node.ref("w/b").tell({ op: "crash" });
    await waitFor(() => probe.starts("w/c") === 2, "w/c restarted");
    expect(probe.since(mark)).toEqual(["stop:w/b", "stop:w/c", "stop:w/a", "start:w/a", "start:w/b", "start:w/c"]);
    for (const id of ["w/a", "w/b", "w/c"]) expect((await view(node, id)).activation).toBe(2);
    expect((await view(node, "w/c")).n).toBe(1);
  });

  it("rest_for_one restarts the failed child and the ones started after it", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team("rest_for_one")]);
    await node.spawn("team", { key: "t1" });
    const mark = probe.log.length;
    await node.ref("w/b").tell({ op: "crash" });
    await waitFor(() => probe.starts("w/c") === 2, "w/c restarted");
    expect(probe.since(mark)).toEqual(["stop:w/b", "stop:w/c", "start:w/b", "start:w/c"]);
    expect((await view(node, "w/a")).activation).toBe(1);
    expect((await view(node, "w/b")).activation).toBe(2);
    const mark2 = probe.log.length;
    await node.ref("w/c").tell({ op: "crash" });
    await waitFor(() => probe.starts("w/c") === 3, "w/c restarted again");
    expect(probe.since(mark2)).toEqual(["stop:w/c", "start:w/c"]);
  });
});

describe("restart types", () => {
  const mixed = defineSupervisor({
    type: "mixed",
    strategy: "one_for_one",
    intensity: 10,
    periodMs: 60_000,
    children: [
      { id: "p", type: "w", key: "p", restart: "permanent" },
      { id: "t", type: "w", key: "t", restart: "transient" },
      { id: "tmp", type: "w", key: "tmp", restart: "temporary" },
    ],
  });

  it("after a failure: permanent and transient are restarted, temporary is not", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), mixed]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const restarted = recordEvents(node, EventKind.ChildRestarted);
    await node.spawn("mixed", { key: "m" });
    for (const k of ["p", "t", "tmp"]) {
      await expect(node.ref("w", k).ask({ op: "crash" })).rejects.toBeInstanceOf(RemoteError);
    }
    await waitFor(() => probe.starts("w/p") === 2 && probe.starts("w/t") === 2, "p and t restarted");
    await waitFor(() => failed.length === 3, "three crash reports");
    expect((await view(node, "w/p")).activation).toBe(2);
    expect((await view(node, "w/t")).activation).toBe(2);
    await expect(node.ref("w/tmp").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(probe.starts("w/tmp")).toBe(1);
    expect(restarted.map((e) => e.id).sort()).toEqual(["w/p", "w/t"]);
    const tree = node.tree().children.find((c) => c.id === "mixed/m")!;
    expect(tree.children!.map((c) => [c.id, c.state])).toEqual([
      ["w/p", "running"],
      ["w/t", "running"],
    ]);
  });

  it("after ctx.stop(): permanent is restarted (state kept), transient and temporary are not", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), mixed]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const stopped = recordEvents(node, EventKind.ChildStopped);
    await node.spawn("mixed", { key: "m" });
    await node.ref("w/p").ask({ op: "inc" });
    for (const k of ["p", "t", "tmp"]) expect(await node.ref("w", k).ask({ op: "stop" })).toBe("bye");
    await waitFor(() => probe.starts("w/p") === 2, "p restarted");
    expect(await view(node, "w/p")).toEqual({ n: 1, activation: 2 });
    await waitFor(() => stopped.filter((e) => e.id !== "w/p").length === 2, "t and tmp stopped");
    await expect(node.ref("w/t").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(node.ref("w/tmp").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(probe.starts("w/t")).toBe(1);
    expect(probe.starts("w/tmp")).toBe(1);
    expect(failed).toEqual([]); // a normal exit is not a failure
    const ids = (await node.list()).map((r) => r.id).sort();
    expect(ids).toEqual(["mixed/m", "w/p"]);
  });

  it("a persist: false agent starts again from state(args)", async () => {
    const probe = new Probe();
    const sup = defineSupervisor({
      type: "sup",
      intensity: 5,
      children: [{ id: "e", type: "eph", key: "e", args: { start: 5 } }],
    });
    const node = await nodes.start([probeAgent("eph", probe, { persist: false }), sup]);
    await node.spawn("sup", { key: "s" });
    expect(await node.ref("eph/e").ask({ op: "inc" })).toBe(6);
    expect(await node.ref("eph/e").ask({ op: "inc" })).toBe(7);
    await node.ref("eph/e").tell({ op: "crash" });
    await waitFor(() => probe.starts("eph/e") === 2, "eph/e restarted");
    expect(await view(node, "eph/e")).toEqual({ n: 5, activation: 2 });
    expect(await node.persistedState("eph/e")).toBeUndefined();
  });
});
