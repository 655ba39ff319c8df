// The root supervisor's children against a real server: agents it gave up on
// are forgotten (only the last few stay listed as failed), so its child list
// and the node's agents do not grow with them; concurrent spawns of one agent
// on one node leave exactly one running and the others get AgentExistsError;
// an agent stopped while it starts is stopped once and its lifecycle ends.

import { describe, expect, it, onTestFinished } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { Probe, probeAgent, recordEvents, useNodes, waitFor } from "./testing/supervision.js";
import { EventKind } from "./events.js";
import { AgentExistsError, AgentStoppedError, RemoteError } from "./errors.js";
import { defineAgent } from "./define-agent.js";
import { GIVEN_UP_KEPT } from "./supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

describe("root supervisor: agents given up on", () => {
  it(`are forgotten, except the last ${GIVEN_UP_KEPT} listed as failed; the same id can be spawned again`, async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe)], { root: { intensity: 0 } });
    const maxed = recordEvents(node, EventKind.MaxIntensity);
    const n = GIVEN_UP_KEPT + 3;
    for (let i = 0; i < n; i++) {
      const ref = await node.spawn("w", { key: `k${i}` });
      await expect(ref.ask({ op: "crash" })).rejects.toBeInstanceOf(RemoteError);
    }
    await waitFor(() => maxed.length === n, "root gives up on every agent");
    await waitFor(async () => (await node.list()).length === GIVEN_UP_KEPT, `${GIVEN_UP_KEPT} agents listed`);

    const expected = Array.from({ length: GIVEN_UP_KEPT }, (_, i) => `w/k${i + 3}`);
    const rows = await node.list();
    expect(rows.map((r) => r.id)).toEqual(expected);
    expect(rows.every((r) => r.state === "failed" && r.supervisor === "root")).toBe(true);
    expect(node.tree().children.map((c) => [c.id, c.state])).toEqual(expected.map((id) => [id, "failed"]));

    // Spawning one given up on, listed or not, works; it is listed once, running.
    await node.spawn("w", { key: "k0" });
    await node.spawn("w", { key: "k5" });
    expect(await node.ref("w/k0").ask({ op: "inc" })).toBe(1);
    const after = await node.list();
    expect(after.filter((r) => r.id === "w/k5").map((r) => r.state)).toEqual(["running"]);
    expect(after.filter((r) => r.state === "running").map((r) => r.id).sort()).toEqual(["w/k0", "w/k5"]);
    expect(after).toHaveLength(GIVEN_UP_KEPT + 1);
  });

  it("a transient agent that exited normally leaves the tree", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe)]);
    await node.spawn("w", { key: "t", restart: "transient" });
    await node.spawn("w", { key: "p" });
    await node.ref("w/t").tell({ op: "stop" });
    await waitFor(() => probe.log.includes("stop:w/t"), "w/t stopped itself");
    await waitFor(() => node.tree().children.length === 1, "w/t gone from the tree");
    expect(node.tree().children.map((c) => c.id)).toEqual(["w/p"]);
  });
});

describe("concurrent spawns of one agent on one node", () => {
  it("exactly one succeeds; the others get AgentExistsError", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("t", probe)]);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => node.spawn("t", { key: "same" })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const reasons = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(reasons).toHaveLength(4);
    for (const reason of reasons) expect(reason).toBeInstanceOf(AgentExistsError);
    expect(probe.starts("t/same")).toBe(1);
    expect((await node.list()).map((r) => [r.id, r.state])).toEqual([["t/same", "running"]]);
  });
});

describe("an agent stopped while it starts", () => {
  it("is stopped once: its lifecycle goes stopping → stopped, and the spawner gets AgentStoppedError", async () => {
    let startDone!: () => void;
    let stopDone!: () => void;
    const startGate = new Promise<void>((r) => (startDone = r));
    const stopGate = new Promise<void>((r) => (stopDone = r));
    onTestFinished(() => {
      startDone();
      stopDone();
    });
    let began = false;
    const slow = defineAgent({
      type: "slow",
      persist: false,
      async onStart() {
        began = true;
        await startGate;
      },
      async onStop() {
        await stopGate;
      },
      receive: () => "ok",
    });
    const node = await nodes.start([slow]);
    const lifecycle = recordEvents(node, EventKind.Lifecycle);
    const spawning = node.spawn("slow", { key: "s" }).catch((e: unknown) => e);
    await waitFor(() => began, "onStart began");
    const stopping = node.stop("slow/s");
    await waitFor(() => lifecycle.some((e) => e.id === "slow/s" && e.to === "stopping"), "stopping published");
    startDone();
    // The spawn fails as soon as the start gives way to the stop, while onStop
    // still runs: the spawn path does not stop the agent a second time.
    expect(await spawning).toBeInstanceOf(AgentStoppedError);
    stopDone();
    await stopping;
    await waitFor(() => lifecycle.some((e) => e.id === "slow/s" && e.to === "stopped"), "stopped published");
    expect(lifecycle.filter((e) => e.id === "slow/s").map((e) => `${e.from}→${e.to}`)).toEqual(["starting→stopping", "stopping→stopped"]);
    expect(await node.list()).toEqual([]);
  });
});
