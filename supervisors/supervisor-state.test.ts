// Decisions on a child's exit: one row per rule, escalation, and the root
// supervisor's per-child counting.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../runtime/clock.js";
import { SpecError } from "./spec-error.js";
import { normalizeChildSpec, normalizeSupervisorSpec, type SupervisorSpec } from "./child-spec.js";
import { seededRandom } from "./backoff.js";
import { ExitKind, RestartType, Strategy, type ExitKind as Exit, type RestartType as Restart } from "./strategy.js";
import {
  addChild,
  childStarted,
  createSupervisorState,
  crashReport,
  decideOnExit,
  findChild,
  removeChild,
  type Decision,
  type SupervisorState,
} from "./supervisor-state.js";

const random = () => 0.5;

/** A supervisor with children a, b, c, d (all running); `restarts` maps child id to restart type. */
function running(spec: Partial<SupervisorSpec> = {}, restarts: Record<string, Restart> = {}, perChildIntensity = false): SupervisorState {
  const children = ["a", "b", "c", "d"].map((id) => ({ id, type: "worker", key: id, restart: restarts[id] }));
  let state = createSupervisorState(normalizeSupervisorSpec({ type: "sup", children, ...spec }), { perChildIntensity });
  for (const id of ["a", "b", "c", "d"]) state = childStarted(state, id);
  return state;
}

/** Carry out a restart decision: every restarted child is running again. */
function restarted(d: Decision): SupervisorState {
  if (d.action !== "restart") throw new Error(`expected a restart, got ${d.action}`);
  return d.children.reduce(childStarted, d.state);
}

const statuses = (s: SupervisorState) => Object.fromEntries(s.children.map((c) => [c.spec.id, c.status]));

describe("decideOnExit: restart type × exit kind", () => {
  const rows: [Restart, Exit, string, boolean | null][] = [
    [RestartType.Permanent, ExitKind.Normal, "restart", null],
    [RestartType.Permanent, ExitKind.Shutdown, "restart", null],
    [RestartType.Permanent, ExitKind.Failure, "restart", null],
    [RestartType.Transient, ExitKind.Normal, "ignore", false],
    [RestartType.Transient, ExitKind.Shutdown, "ignore", false],
    [RestartType.Transient, ExitKind.Failure, "restart", null],
    [RestartType.Temporary, ExitKind.Normal, "ignore", true],
    [RestartType.Temporary, ExitKind.Shutdown, "ignore", true],
    [RestartType.Temporary, ExitKind.Failure, "ignore", true],
  ];
  it.each(rows)("%s child, %s exit: %s (removed: %s)", (restart, reason, action, removed) => {
    const d = decideOnExit(running({}, { b: restart }), "b", reason, 1000, random);
    expect(d.action).toBe(action);
    if (d.action === "ignore") {
      expect(d.removed).toBe(removed);
      expect(d.state.children.map((c) => c.spec.id)).toEqual(removed ? ["a", "c", "d"] : ["a", "b", "c", "d"]);
      if (!removed) expect(findChild(d.state, "b")).toMatchObject({ status: "stopped", lastExit: { reason, at: 1000 }, restartCount: 0 });
      expect(d.state.restarts).toEqual([]); // not counted
    } else {
      expect(findChild(d.state, "b")).toMatchObject({ status: "restarting", lastExit: { reason, at: 1000 }, restartCount: 1 });
      expect(d.state.restarts).toEqual([1000]);
    }
  });
});

describe("decideOnExit: strategies, children [a, b, c, d], b fails", () => {
  const rows: [Strategy, string[], string[]][] = [
    [Strategy.OneForOne, ["b"], []],
    [Strategy.OneForAll, ["a", "b", "c", "d"], ["d", "c", "a"]],
    [Strategy.RestForOne, ["b", "c", "d"], ["d", "c"]],
  ];
  it.each(rows)("%s restarts %j after stopping %j", (strategy, children, stop) => {
    const d = decideOnExit(running({ strategy }), "b", ExitKind.Failure, 0, random);
    expect(d).toMatchObject({ action: "restart", children, stop, removed: [], delayMs: 0, attempt: 0 });
    for (const c of d.state.children) {
      expect(c.status).toBe(children.includes(c.spec.id) ? "restarting" : "running");
      expect(c.restartCount).toBe(children.includes(c.spec.id) ? 1 : 0);
    }
  });

  it("one_for_all stops a temporary sibling and drops it instead of restarting it (OTP)", () => {
    const d = decideOnExit(running({ strategy: Strategy.OneForAll }, { c: RestartType.Temporary }), "b", ExitKind.Failure, 0, random);
    expect(d).toMatchObject({ action: "restart", children: ["a", "b", "d"], stop: ["d", "c", "a"], removed: ["c"] });
    expect(d.state.children.map((c) => c.spec.id)).toEqual(["a", "b", "d"]);
  });

  it("rest_for_one starts again a transient sibling that had exited normally (OTP), without stopping it", () => {
    let state = running({ strategy: Strategy.RestForOne, intensity: 5 }, { d: RestartType.Transient });
    state = decideOnExit(state, "d", ExitKind.Normal, 0, random).state;
    expect(findChild(state, "d")?.status).toBe("stopped");
    const d = decideOnExit(state, "b", ExitKind.Failure, 10, random);
    expect(d).toMatchObject({ action: "restart", children: ["b", "c", "d"], stop: ["c"] });
  });

  it("a failed start of a restarting child counts as another restart", () => {
    let state = running({ intensity: 2 });
    state = decideOnExit(state, "b", ExitKind.Failure, 0, random).state; // b: restarting
    const d = decideOnExit(state, "b", ExitKind.Failure, 5, random); // its start failed
    expect(d).toMatchObject({ action: "restart", children: ["b"] });
    expect(d.state.restarts).toEqual([0, 5]);
    expect(decideOnExit(d.state, "b", ExitKind.Failure, 6, random).action).toBe("escalate");
  });
});

describe("decideOnExit: escalation", () => {
  it("one_for_all past its intensity stops every running child in reverse order and fails", async () => {
    const clock = new FakeClock(0);
    let state = running({ strategy: Strategy.OneForAll, intensity: 1, periodMs: 5000 });
    state = restarted(decideOnExit(state, "b", ExitKind.Failure, clock.now(), random));
    await clock.advance(5000); // exactly the period: the first restart still counts
    const d = decideOnExit(state, "c", ExitKind.Failure, clock.now(), random);
    expect(d).toMatchObject({ action: "escalate", reason: "max_intensity", stop: ["d", "b", "a"] });
    expect(statuses(d.state)).toEqual({ a: "stopped", b: "stopped", c: "failed", d: "stopped" });
    expect(d.state.restarts).toEqual([0, 5000]);
  });

  it("one ms later the first restart left the window, so it restarts instead", async () => {
    const clock = new FakeClock(0);
    let state = running({ strategy: Strategy.OneForAll });
    state = restarted(decideOnExit(state, "b", ExitKind.Failure, clock.now(), random));
    await clock.advance(5001);
    const d = decideOnExit(state, "c", ExitKind.Failure, clock.now(), random);
    expect(d).toMatchObject({ action: "restart", children: ["a", "b", "c", "d"] });
    expect(d.state.restarts).toEqual([5001]);
  });

  it("exits that are not restarted do not count towards intensity", () => {
    let state = running({ intensity: 1 }, { a: RestartType.Transient, c: RestartType.Temporary });
    state = decideOnExit(state, "a", ExitKind.Normal, 0, random).state;
    state = decideOnExit(state, "c", ExitKind.Failure, 1, random).state;
    const d = decideOnExit(state, "b", ExitKind.Failure, 2, random);
    expect(d.action).toBe("restart");
  });
});

describe("decideOnExit: root supervisor (per-child intensity)", () => {
  it("counts each child alone: one crashing child is given up on, its siblings are untouched", async () => {
    const clock = new FakeClock(0);
    let state = running({ intensity: 2, periodMs: 5000 }, {}, true);
    const actions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = decideOnExit(state, "b", ExitKind.Failure, clock.now(), random);
      actions.push(d.action);
      state = d.action === "restart" ? restarted(d) : d.state;
      await clock.advance(100);
    }
    expect(actions).toEqual(["restart", "restart", "give_up"]);
    // given up on: forgotten, so the root's child list does not grow with failed agents
    expect(statuses(state)).toEqual({ a: "running", c: "running", d: "running" });
    expect(state.restarts).toEqual([]);

    // a sibling crashing now has its own, untouched window
    const a1 = decideOnExit(state, "a", ExitKind.Failure, clock.now(), random);
    expect(a1).toMatchObject({ action: "restart", children: ["a"], stop: [] });
    state = restarted(a1);
    expect(decideOnExit(state, "a", ExitKind.Failure, clock.now(), random).action).toBe("restart");

    // a late exit of b changes nothing
    const late = decideOnExit(state, "b", ExitKind.Failure, clock.now(), random);
    expect(late).toMatchObject({ action: "ignore", child: "b", removed: false });
    expect(late.state).toBe(state);

    // and b can be added again, with a fresh window
    state = childStarted(addChild(state, normalizeChildSpec({ id: "b", type: "worker", key: "b" })), "b");
    expect(decideOnExit(state, "b", ExitKind.Failure, clock.now(), random).action).toBe("restart");
  });

  it("forgets a child that exits for good: a transient's normal exit, a temporary's failure", () => {
    const state = running({}, { a: RestartType.Transient, b: RestartType.Temporary }, true);
    const a = decideOnExit(state, "a", ExitKind.Normal, 0, random);
    expect(a).toMatchObject({ action: "ignore", child: "a", removed: true });
    const b = decideOnExit(a.state, "b", ExitKind.Failure, 0, random);
    expect(b).toMatchObject({ action: "ignore", child: "b", removed: true });
    expect(statuses(b.state)).toEqual({ c: "running", d: "running" });
  });

  it("never escalates, even with intensity 0", () => {
    const d = decideOnExit(running({ intensity: 0 }, {}, true), "c", ExitKind.Failure, 0, random);
    expect(d).toMatchObject({ action: "give_up", child: "c" });
    if (d.action !== "give_up") throw new Error(d.action);
    expect(d.failed).toMatchObject({ status: "failed", lastExit: { reason: "failure", at: 0 }, restarts: [0] });
    expect(findChild(d.state, "c")).toBeUndefined();
  });

  it("keeps backoff per child", () => {
    const backoff = { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0 };
    let state = running({ intensity: 10, backoff }, {}, true);
    const delays: [string, number][] = [];
    for (const [id, at] of [["a", 0], ["a", 200], ["b", 400], ["a", 800]] as const) {
      const d = decideOnExit(state, id, ExitKind.Failure, at, random);
      if (d.action !== "restart") throw new Error(d.action);
      delays.push([id, d.delayMs]);
      state = restarted(d);
    }
    expect(delays).toEqual([["a", 100], ["a", 200], ["b", 100], ["a", 400]]);
  });
});

describe("decideOnExit: backoff", () => {
  it("delays grow with quick restarts and start over after the quiet period", () => {
    const backoff = { minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 2000 };
    let state = running({ intensity: 100, periodMs: 1000, backoff });
    const seen: [number, number][] = [];
    for (const at of [0, 200, 500, 1000, 5000]) {
      const d = decideOnExit(state, "a", ExitKind.Failure, at, random);
      if (d.action !== "restart") throw new Error(d.action);
      seen.push([d.attempt, d.delayMs]);
      state = restarted(d);
    }
    expect(seen).toEqual([[0, 100], [1, 200], [2, 400], [3, 800], [0, 100]]);
  });

  it("with a seeded random source the delays are reproducible", () => {
    const backoff = { minMs: 100, maxMs: 2000, factor: 2, jitter: 0.25 };
    const delays = (seed: number) => {
      const rnd = seededRandom(seed);
      let state = running({ intensity: 100, backoff });
      return [0, 10, 20, 30].map((at) => {
        const d = decideOnExit(state, "c", ExitKind.Failure, at, rnd);
        state = restarted(d);
        return d.action === "restart" ? d.delayMs : -1;
      });
    };
    expect(delays(7)).toEqual([76, 156, 495, 880]);
    expect(delays(7)).toEqual(delays(7));
  });
});

describe("decideOnExit: stale exits", () => {
  it("ignores an unknown child and leaves the state as it is", () => {
    const state = running();
    const d = decideOnExit(state, "zz", ExitKind.Failure, 0, random);
    expect(d).toEqual({ action: "ignore", child: "zz", removed: false, state });
    expect(d.state).toBe(state);
  });
});

describe("children", () => {
  it("start as `starting`, in spec order, and become running", () => {
    const spec = normalizeSupervisorSpec({ type: "sup", children: [{ id: "x", type: "w", key: "x" }] });
    const state = createSupervisorState(spec);
    expect(statuses(state)).toEqual({ x: "starting" });
    expect(state.perChildIntensity).toBe(false);
    expect(statuses(childStarted(state, "x"))).toEqual({ x: "running" });
  });

  it("addChild appends (starts last, stops first) and rejects a duplicate id or agent", () => {
    let state = running({ strategy: Strategy.OneForAll });
    state = addChild(state, normalizeChildSpec({ id: "e", type: "worker", key: "e" }));
    state = childStarted(state, "e");
    expect(decideOnExit(state, "a", ExitKind.Failure, 0, random)).toMatchObject({ stop: ["e", "d", "c", "b"] });
    expect(() => addChild(state, normalizeChildSpec({ id: "e", type: "worker", key: "zz" }))).toThrow(SpecError);
    expect(() => addChild(state, normalizeChildSpec({ id: "f", type: "worker", key: "a" }))).toThrow(/worker\/a is already child "a"/);
  });

  it("removeChild forgets a child: it is never restarted or stopped by a sibling's restart", () => {
    const state = removeChild(running({ strategy: Strategy.OneForAll }), "c");
    expect(state.children.map((c) => c.spec.id)).toEqual(["a", "b", "d"]);
    expect(decideOnExit(state, "a", ExitKind.Failure, 0, random)).toMatchObject({ children: ["a", "b", "d"], stop: ["d", "b"] });
    expect(decideOnExit(state, "c", ExitKind.Failure, 0, random).action).toBe("ignore");
  });
});

describe("crashReport", () => {
  it("has fixed fields, with the restart count of the decision's state", () => {
    const d = decideOnExit(running(), "b", ExitKind.Failure, 0, random);
    expect(crashReport({ supervisor: "sup/main", child: findChild(d.state, "b")!, agent: "worker/b", reason: ExitKind.Failure, error: "boom", messageType: "work" })).toEqual({
      supervisor: "sup/main",
      child: "worker/b",
      childId: "b",
      reason: "failure",
      error: "boom",
      messageType: "work",
      restartCount: 1,
    });
  });

  it("fills absent error and message type with null", () => {
    const state = running();
    expect(crashReport({ supervisor: "sup/main", child: findChild(state, "a")!, agent: "worker/a", reason: ExitKind.Normal })).toEqual({
      supervisor: "sup/main",
      child: "worker/a",
      childId: "a",
      reason: "normal",
      error: null,
      messageType: null,
      restartCount: 0,
    });
  });
});
