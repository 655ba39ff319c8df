// Shutdown against a real server: a supervisor's children stop in reverse
// start order (the root's side by side), each within its shutdownMs (then killed); node.stop removes a child from its
// supervisor for good; a sibling that fails while being stopped for a
// restart is not counted as a second failure.

import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { Probe, probeAgent, recordEvents, useNodes, waitFor, type ProbeView } from "./testing/supervision.js";
import { EventKind } from "./events.js";
import { AgentNotFoundError, RemoteError } from "./errors.js";
import { defineSupervisor } from "./define-supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

const team = defineSupervisor({
  type: "team",
  strategy: "one_for_one",
  intensity: 5,
  periodMs: 60_000,
  children: [
    { id: "a", type: "w", key: "a" },
    { id: "b", type: "w", key: "b", shutdownMs: 300 },
    { id: "c", type: "w", key: "c" },
  ],
});

describe("shutdown", () => {
  it("node.stop of a supervisor stops its children in reverse start order", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team]);
    const stopped = recordEvents(node, EventKind.ChildStopped);
    await node.spawn("team", { key: "t1" });
    const mark = probe.log.length;
    await node.stop("team/t1");
    expect(probe.since(mark)).toEqual(["stop:w/c", "stop:w/b", "stop:w/a"]);
    expect(await node.list()).toEqual([]);
    await expect(node.ref("w/a").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(node.ref("team/t1").ask({})).rejects.toBeInstanceOf(AgentNotFoundError);
    await waitFor(() => stopped.length === 4, "four child_stopped events");
    expect(stopped.map((e) => [e.id, e.supervisor])).toEqual([
      ["w/c", "team/t1"],
      ["w/b", "team/t1"],
      ["w/a", "team/t1"],
      ["team/t1", "root"],
    ]);
  });

  it("node.close stops the whole tree: the root's agents side by side, a supervisor's children in reverse start order", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team]);
    await node.spawn("w", { key: "first" });
    await node.spawn("team", { key: "t1" });
    await node.spawn("w", { key: "last" });
    const mark = probe.log.length;
    await node.close();
    const stops = probe.since(mark);
    expect([...stops].sort()).toEqual(["stop:w/a", "stop:w/b", "stop:w/c", "stop:w/first", "stop:w/last"]);
    expect(stops.filter((s) => ["stop:w/a", "stop:w/b", "stop:w/c"].includes(s))).toEqual(["stop:w/c", "stop:w/b", "stop:w/a"]);
  });

  it("kills a child that does not stop within its shutdownMs, and the stop completes about then", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), team]);
    await node.spawn("team", { key: "t1" });
    const hung = node.ref("w/b").ask({ op: "hang", ms: 20_000 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await waitFor(() => probe.seen("w/b", "hang") === 1, "w/b is handling the hanging message");
    const mark = probe.log.length;
    const t0 = Date.now();
    await node.stop("team/t1");
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(3000);
    const err = await hung;
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toContain("not done within shutdown 300 ms");
    expect(probe.since(mark)).toEqual(["stop:w/c", "stop:w/b", "stop:w/a"]);
  });

  it("node.stop of a supervised child removes it from its supervisor: a sibling's restart does not bring it back", async () => {
    const probe = new Probe();
    const all = defineSupervisor({
      type: "all",
      strategy: "one_for_all",
      intensity: 5,
      children: ["a", "b", "c"].map((k) => ({ id: k, type: "w", key: k })),
    });
    const node = await nodes.start([probeAgent("w", probe), all]);
    await node.spawn("all", { key: "t1" });
    await node.stop("w/b");
    expect(probe.log.at(-1)).toBe("stop:w/b");
    const tree = node.tree().children[0]!;
    expect(tree.children!.map((c) => c.id)).toEqual(["w/a", "w/c"]);
    await node.ref("w/a").tell({ op: "crash" });
    await waitFor(() => probe.starts("w/a") === 2 && probe.starts("w/c") === 2, "a and c restarted");
    expect(probe.starts("w/b")).toBe(1);
    await expect(node.ref("w/b").ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect((await node.list()).map((r) => r.id).sort()).toEqual(["all/t1", "w/a", "w/c"]);
  });

  it("a sibling that fails while being stopped for a restart is not counted as another failure", async () => {
    const probe = new Probe();
    const pair = defineSupervisor({
      type: "pair",
      strategy: "one_for_all",
      intensity: 1,
      periodMs: 60_000,
      children: [
        { id: "a", type: "w", key: "a" },
        { id: "b", type: "w", key: "b", shutdownMs: 5000 },
      ],
    });
    const node = await nodes.start([probeAgent("w", probe), pair]);
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("pair", { key: "p" });
    // b is busy with a message that will fail, 400 ms from now, while a's failure stops it.
    const doomed = node.ref("w/b").ask({ op: "hang", ms: 400, crash: true }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await waitFor(() => probe.seen("w/b", "hang") === 1, "w/b is handling");
    await node.ref("w/a").tell({ op: "crash" });
    expect(await doomed).toBeInstanceOf(RemoteError);
    await waitFor(() => probe.starts("w/a") === 2 && probe.starts("w/b") === 2, "a and b restarted once");
    const b = await node.ref("w/b").ask<ProbeView>({ op: "get" });
    expect(b.activation).toBe(2);
    // one restart in the window: not past intensity 1
    expect(maxed).toEqual([]);
    expect((await node.list()).find((r) => r.id === "pair/p")?.state).toBe("running");
    // each activation's onStop ran once
    expect(probe.log.filter((l) => l === "stop:w/b")).toHaveLength(1);
    await waitFor(() => failed.length === 2, "both failures reported");
  });
});
