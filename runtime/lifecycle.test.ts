// The lifecycle machine as the host drives it: where the agent is (the
// top-level state, published on every change) and whether its activation
// takes messages (`running.handling` only).

import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { Lifecycle, lifecycleMachine, LifecycleState, type LifecycleEvent } from "./lifecycle.js";
import { seededRandom } from "../supervisors/backoff.js";

function track(): { lifecycle: Lifecycle; transitions: string[] } {
  const transitions: string[] = [];
  const lifecycle = new Lifecycle((from, to, reason) => transitions.push(`${from}->${to}${reason ? ` (${reason})` : ""}`));
  return { lifecycle, transitions };
}

describe("Lifecycle", () => {
  it("takes messages only while running and not ending", () => {
    const { lifecycle, transitions } = track();
    expect([lifecycle.state, lifecycle.handling]).toEqual([LifecycleState.Starting, false]);
    lifecycle.send({ type: "STARTED" });
    expect([lifecycle.state, lifecycle.handling]).toEqual([LifecycleState.Running, true]);
    lifecycle.send({ type: "END" });
    // Still `running` to the outside (ps, events): only the host sees it stop taking messages.
    expect([lifecycle.state, lifecycle.handling]).toEqual([LifecycleState.Running, false]);
    lifecycle.send({ type: "FAIL", reason: "boom" });
    expect([lifecycle.state, lifecycle.handling]).toEqual([LifecycleState.Failed, false]);
    lifecycle.send({ type: "RESTART" });
    lifecycle.send({ type: "START" });
    lifecycle.send({ type: "STARTED" });
    // A new activation handles from the start, whatever the last one did; the reason of the last failure is kept until then.
    expect([lifecycle.state, lifecycle.handling]).toEqual([LifecycleState.Running, true]);
    expect(transitions).toEqual(["starting->running", "running->failed (boom)", "failed->restarting (boom)", "restarting->starting (boom)", "starting->running"]);
  });

  it("stops taking messages as soon as a stop begins, and keeps its last state once the actor is stopped", () => {
    const { lifecycle, transitions } = track();
    lifecycle.send({ type: "STARTED" });
    lifecycle.send({ type: "STOP" });
    expect([lifecycle.state, lifecycle.handling, lifecycle.live]).toEqual([LifecycleState.Stopping, false, true]);
    lifecycle.send({ type: "STOPPED" });
    expect([lifecycle.state, lifecycle.live]).toEqual([LifecycleState.Stopped, false]);
    lifecycle.stop();
    expect(lifecycle.state).toBe(LifecycleState.Stopped);
    expect(transitions).toEqual(["starting->running", "running->stopping", "stopping->stopped"]);
  });

  it("ignores events its state does not take (END before running, FAIL while stopping)", () => {
    const { lifecycle, transitions } = track();
    lifecycle.send({ type: "END" });
    expect(lifecycle.state).toBe(LifecycleState.Starting);
    lifecycle.send({ type: "STARTED" });
    expect(lifecycle.handling).toBe(true);
    lifecycle.send({ type: "STOP" });
    lifecycle.send({ type: "FAIL", reason: "late" });
    expect(lifecycle.state).toBe(LifecycleState.Stopping);
    expect(transitions).toEqual(["starting->running", "running->stopping"]);
  });

  it("is given up on as failed: it stays failed once its actor is stopped", () => {
    const { lifecycle } = track();
    lifecycle.send({ type: "STARTED" });
    lifecycle.send({ type: "END" });
    lifecycle.send({ type: "FAIL", reason: "boom" });
    lifecycle.stop();
    expect([lifecycle.state, lifecycle.live, lifecycle.handling]).toEqual([LifecycleState.Failed, false, false]);
  });

  it("steps exactly as an actor of the machine does, on any sequence of events", () => {
    const random = seededRandom(11);
    const events: LifecycleEvent[] = [
      { type: "STARTED" },
      { type: "END" },
      { type: "FAIL", reason: "boom" },
      { type: "FAIL", reason: "again" },
      { type: "RESTART" },
      { type: "START" },
      { type: "STOP" },
      { type: "STOPPED" },
    ];
    for (let run = 0; run < 300; run++) {
      const { lifecycle, transitions } = track();
      const seen: string[] = [];
      let current: string = LifecycleState.Starting;
      const actor = createActor(lifecycleMachine);
      actor.subscribe((snap) => {
        const to = typeof snap.value === "string" ? snap.value : Object.keys(snap.value)[0]!;
        if (to !== current) seen.push(`${current}->${to}${snap.context.reason ? ` (${snap.context.reason})` : ""}`);
        current = to;
      });
      actor.start();
      for (let i = 0; i < 12; i++) {
        const event = events[Math.floor(random() * events.length)]!;
        lifecycle.send(event);
        // A finished actor ignores events (and warns about each): send only while it runs.
        if (actor.getSnapshot().status === "active") actor.send(event);
        const snap = actor.getSnapshot();
        expect([lifecycle.state, lifecycle.handling, lifecycle.live]).toEqual([current, snap.matches({ running: "handling" }), snap.status === "active"]);
      }
      expect(transitions).toEqual(seen);
      actor.stop();
    }
  });
});
