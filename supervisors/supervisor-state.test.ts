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
  applyDecision,
  childStarted,
  createSupervisorState,
  crashReport,
  decideOnExit,
  findChild,
  findChildOfAgent,
  removeChild,
  type Decision,
  type SupervisorState,
} from "./supervisor-state.js";

const random = () => 0.5;

/** A supervisor with children a, b, c, d (all running); `restarts` maps child id to restart type. */
function running(spec: Partial<SupervisorSpec> = {}, restarts: Record<string, Restart> = {}, perChildIntensity = false): SupervisorState {
  const children = ["a", "b", "c", "d"].map((id) => ({ id, type: "worker", key: id, restart: restarts[id] }));
  const state = createSupervisorState(normalizeSupervisorSpec({ type: "sup", children, ...spec }), { perChildIntensity });
  for (const id of ["a", "b", "c", "d"]) childStarted(state, id);
  return state;
}

/** Decide on an exit and apply the decision to `state`. */
function decide(state: SupervisorState, childId: string, reason: Exit, now: number, rnd: () => number = random): Decision {
  const d = decideOnExit(state, childId, reason, now, rnd);
  applyDecision(state, d);
  return d;
}

/** Carry out a restart decision (applied already): every restarted child is running again. */
function restarted(state: SupervisorState, d: Decision): void {
  if (d.action !== "restart") throw new Error(`expected a restart, got ${d.action}`);
  for (const id of d.children) childStarted(state, id);
}

const ids = (s: SupervisorState) => [...s.children.keys()];
const statuses = (s: SupervisorState) => Object.fromEntries([...s.children.values()].map((c) => [c.spec.id, c.status]));

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
    const state = running({}, { b: restart });
    const d = decide(state, "b", reason, 1000);
    expect(d.action).toBe(action);
    if (d.action === "ignore") {
      expect(d.removed).toBe(removed);
      expect(ids(state)).toEqual(removed ? ["a", "c", "d"] : ["a", "b", "c", "d"]);
      if (!removed) expect(findChild(state, "b")).toMatchObject({ status: "stopped", lastExit: { reason, at: 1000 }, restartCount: 0 });
      expect(state.restarts).toEqual([]); // not counted
    } else {
      expect(findChild(state, "b")).toMatchObject({ status: "restarting", lastExit: { reason, at: 1000 }, restartCount: 1 });
      expect(state.restarts).toEqual([1000]);
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
    const state = running({ strategy });
    const d = decide(state, "b", ExitKind.Failure, 0);
    expect(d).toMatchObject({ action: "restart", children, stop, removed: [], delayMs: 0, attempt: 0 });
    for (const c of state.children.values()) {
      expect(c.status).toBe(children.includes(c.spec.id) ? "restarting" : "running");
      expect(c.restartCount).toBe(children.includes(c.spec.id) ? 1 : 0);
    }
  });

  it("one_for_all stops a temporary sibling and drops it instead of restarting it (OTP)", () => {
    const state = running({ strategy: Strategy.OneForAll }, { c: RestartType.Temporary });
    const d = decide(state, "b", ExitKind.Failure, 0);
    expect(d).toMatchObject({ action: "restart", children: ["a", "b", "d"], stop: ["d", "c", "a"], removed: ["c"] });
    expect(ids(state)).toEqual(["a", "b", "d"]);
  });

  it("rest_for_one starts again a transient sibling that had exited normally (OTP), without stopping it", () => {
    const state = running({ strategy: Strategy.RestForOne, intensity: 5 }, { d: RestartType.Transient });
    decide(state, "d", ExitKind.Normal, 0);
    expect(findChild(state, "d")?.status).toBe("stopped");
    const d = decideOnExit(state, "b", ExitKind.Failure, 10, random);
    expect(d).toMatchObject({ action: "restart", children: ["b", "c", "d"], stop: ["c"] });
  });

  it("a failed start of a restarting child counts as another restart", () => {
    const state = running({ intensity: 2 });
    decide(state, "b", ExitKind.Failure, 0); // b: restarting
    const d = decide(state, "b", ExitKind.Failure, 5); // its start failed
    expect(d).toMatchObject({ action: "restart", children: ["b"] });
    expect(state.restarts).toEqual([0, 5]);
    expect(decideOnExit(state, "b", ExitKind.Failure, 6, random).action).toBe("escalate");
  });
});

describe("decideOnExit: escalation", () => {
  it("one_for_all past its intensity stops every running child in reverse order and fails", async () => {
    const clock = new FakeClock(0);
    const state = running({ strategy: Strategy.OneForAll, intensity: 1, periodMs: 5000 });
    restarted(state, decide(state, "b", ExitKind.Failure, clock.now()));
    await clock.advance(5000); // exactly the period: the first restart still counts
    const d = decide(state, "c", ExitKind.Failure, clock.now());
    expect(d).toMatchObject({ action: "escalate", reason: "max_intensity", stop: ["d", "b", "a"] });
    expect(statuses(state)).toEqual({ a: "stopped", b: "stopped", c: "failed", d: "stopped" });
    expect(state.restarts).toEqual([0, 5000]);
  });

  it("one ms later the first restart left the window, so it restarts instead", async () => {
    const clock = new FakeClock(0);
    const state = running({ strategy: Strategy.OneForAll });
    restarted(state, decide(state, "b", ExitKind.Failure, clock.now()));
    await clock.advance(5001);
    const d = decide(state, "c", ExitKind.Failure, clock.now());
    expect(d).toMatchObject({ action: "restart", children: ["a", "b", "c", "d"] });
    expect(state.restarts).toEqual([5001]);
  });

  it("exits that are not restarted do not count towards intensity", () => {
    const state = running({ intensity: 1 }, { a: RestartType.Transient, c: RestartType.Temporary });
    decide(state, "a", ExitKind.Normal, 0);
    decide(state, "c", ExitKind.Failure, 1);
    const d = decideOnExit(state, "b", ExitKind.Failure, 2, random);
    expect(d.action).toBe("restart");
  });
});

describe("decideOnExit: root supervisor (per-child intensity)", () => {
  it("counts each child alone: one crashing child is given up on, its siblings are untouched", async () => {
    const clock = new FakeClock(0);
    const state = running({ intensity: 2, periodMs: 5000 }, {}, true);
    const actions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = decide(state, "b", ExitKind.Failure, clock.now());
      actions.push(d.action);
      if (d.action === "restart") restarted(state, d);
      await clock.advance(100);
    }
    expect(actions).toEqual(["restart", "restart", "give_up"]);
    // given up on: forgotten, so the root's child list does not grow with failed agents
    expect(statuses(state)).toEqual({ a: "running", c: "running", d: "running" });
    expect(state.restarts).toEqual([]);

    // a sibling crashing now has its own, untouched window
    const a1 = decide(state, "a", ExitKind.Failure, clock.now());
    expect(a1).toMatchObject({ action: "restart", children: ["a"], stop: [] });
    restarted(state, a1);
    expect(decideOnExit(state, "a", ExitKind.Failure, clock.now(), random).action).toBe("restart");

    // a late exit of b changes nothing
    const late = decideOnExit(state, "b", ExitKind.Failure, clock.now(), random);
    expect(late).toMatchObject({ action: "ignore", child: "b", removed: false, change: { update: [], remove: [] } });

    // and b can be added again, with a fresh window
    addChild(state, normalizeChildSpec({ id: "b", type: "worker", key: "b" }));
    childStarted(state, "b");
    expect(decideOnExit(state, "b", ExitKind.Failure, clock.now(), random).action).toBe("restart");
  });

  it("forgets a child that exits for good: a transient's normal exit, a temporary's failure", () => {
    const state = running({}, { a: RestartType.Transient, b: RestartType.Temporary }, true);
    const a = decide(state, "a", ExitKind.Normal, 0);
    expect(a).toMatchObject({ action: "ignore", child: "a", removed: true });
    const b = decide(state, "b", ExitKind.Failure, 0);
    expect(b).toMatchObject({ action: "ignore", child: "b", removed: true });
    expect(statuses(state)).toEqual({ c: "running", d: "running" });
  });

  it("never escalates, even with intensity 0", () => {
    const state = running({ intensity: 0 }, {}, true);
    const d = decide(state, "c", ExitKind.Failure, 0);
    expect(d).toMatchObject({ action: "give_up", child: "c" });
    if (d.action !== "give_up") throw new Error(d.action);
    expect(d.failed).toMatchObject({ status: "failed", lastExit: { reason: "failure", at: 0 }, restarts: [0] });
    expect(findChild(state, "c")).toBeUndefined();
    expect(findChildOfAgent(state, "worker", "c")).toBeUndefined();
  });

  it("keeps backoff per child", () => {
    const backoff = { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0 };
    const state = running({ intensity: 10, backoff }, {}, true);
    const delays: [string, number][] = [];
    for (const [id, at] of [["a", 0], ["a", 200], ["b", 400], ["a", 800]] as const) {
      const d = decide(state, id, ExitKind.Failure, at);
      if (d.action !== "restart") throw new Error(d.action);
      delays.push([id, d.delayMs]);
      restarted(state, d);
    }
    expect(delays).toEqual([["a", 100], ["a", 200], ["b", 100], ["a", 400]]);
  });
});

describe("decideOnExit: backoff", () => {
  it("delays grow with quick restarts and start over after the quiet period", () => {
    const backoff = { minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 2000 };
    const state = running({ intensity: 100, periodMs: 1000, backoff });
    const seen: [number, number][] = [];
    for (const at of [0, 200, 500, 1000, 5000]) {
      const d = decide(state, "a", ExitKind.Failure, at);
      if (d.action !== "restart") throw new Error(d.action);
      seen.push([d.attempt, d.delayMs]);
      restarted(state, d);
    }
    expect(seen).toEqual([[0, 100], [1, 200], [2, 400], [3, 800], [0, 100]]);
  });

  it("with a seeded random source the delays are reproducible", () => {
    const backoff = { minMs: 100, maxMs: 2000, factor: 2, jitter: 0.25 };
    const delays = (seed: number) => {
      const rnd = seededRandom(seed);
      const state = running({ intensity: 100, backoff });
      return [0, 10, 20, 30].map((at) => {
        const d = decide(state, "c", ExitKind.Failure, at, rnd);
        restarted(state, d);
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
    const before = structuredClone(state);
    const d = decide(state, "zz", ExitKind.Failure, 0);
    expect(d).toEqual({ action: "ignore", child: "zz", removed: false, change: { update: [], remove: [], restarts: [], backoff: { attempt: 0 } } });
    expect(state).toEqual(before);
  });
});

describe("children", () => {
  it("start as `starting`, in spec order, and become running", () => {
    const spec = normalizeSupervisorSpec({ type: "sup", children: [{ id: "x", type: "w", key: "x" }] });
    const state = createSupervisorState(spec);
    expect(statuses(state)).toEqual({ x: "starting" });
    expect(state.perChildIntensity).toBe(false);
    childStarted(state, "x");
    expect(statuses(state)).toEqual({ x: "running" });
  });

  it("addChild appends (starts last, stops first) and rejects a duplicate id or agent", () => {
    const state = running({ strategy: Strategy.OneForAll });
    addChild(state, normalizeChildSpec({ id: "e", type: "worker", key: "e" }));
    childStarted(state, "e");
    expect(decideOnExit(state, "a", ExitKind.Failure, 0, random)).toMatchObject({ stop: ["e", "d", "c", "b"] });
    expect(() => addChild(state, normalizeChildSpec({ id: "e", type: "worker", key: "zz" }))).toThrow(SpecError);
    expect(() => addChild(state, normalizeChildSpec({ id: "f", type: "worker", key: "a" }))).toThrow(/worker\/a is already child "a"/);
  });

  it("removeChild forgets a child: it is never restarted or stopped by a sibling's restart", () => {
    const state = running({ strategy: Strategy.OneForAll });
    removeChild(state, "c");
    expect(ids(state)).toEqual(["a", "b", "d"]);
    expect(decideOnExit(state, "a", ExitKind.Failure, 0, random)).toMatchObject({ children: ["a", "b", "d"], stop: ["d", "b"] });
    expect(decideOnExit(state, "c", ExitKind.Failure, 0, random).action).toBe("ignore");
  });
});

describe("children in start order", () => {
  const worker = (id: string, key = id) => normalizeChildSpec({ id, type: "worker", key });

  it("keep their places through updates, go last when added again, and are found by agent", () => {
    const spec = normalizeSupervisorSpec({ type: "sup", strategy: Strategy.OneForAll, intensity: 100, children: [worker("a"), worker("b"), worker("c")] });
    const state = createSupervisorState(spec);
    for (const id of ["c", "a", "b"]) childStarted(state, id); // updates, in another order
    expect(ids(state)).toEqual(["a", "b", "c"]);
    addChild(state, worker("d"));
    removeChild(state, "b");
    addChild(state, worker("b"));
    childStarted(state, "b");
    childStarted(state, "d");
    expect(ids(state)).toEqual(["a", "c", "d", "b"]);

    // a restart updates every child in place and stops them in reverse start order
    const d = decide(state, "c", ExitKind.Failure, 0);
    expect(d).toMatchObject({ action: "restart", children: ["a", "c", "d", "b"], stop: ["b", "d", "a"] });
    expect(ids(state)).toEqual(["a", "c", "d", "b"]);
    restarted(state, d);
    expect(Object.values(statuses(state))).toEqual(["running", "running", "running", "running"]);

    // the agent index follows: a removed child's agent may come back under another id
    expect(findChildOfAgent(state, "worker", "b")?.spec.id).toBe("b");
    removeChild(state, "b");
    expect(findChildOfAgent(state, "worker", "b")).toBeUndefined();
    addChild(state, worker("b2", "b"));
    expect(findChildOfAgent(state, "worker", "b")?.spec.id).toBe("b2");
    expect(ids(state)).toEqual(["a", "c", "d", "b2"]);
    expect(() => createSupervisorState(normalizeSupervisorSpec({ type: "sup", children: [worker("x", "k"), worker("y", "k")] }))).toThrow(SpecError);
  });

  it("under one_for_one a decision changes the exiting child alone, whatever the number of siblings", () => {
    const state = running({ intensity: 5 }, {}, true);
    for (let i = 0; i < 1000; i++) {
      addChild(state, worker(`w${i}`));
      childStarted(state, `w${i}`);
    }
    const siblings = [...state.children.values()].filter((c) => c.spec.id !== "w500");
    const d = decide(state, "w500", ExitKind.Failure, 0);
    expect(d.change.update.map((c) => c.spec.id)).toEqual(["w500"]);
    expect(d.change.remove).toEqual([]);
    expect(siblings.every((c) => state.children.get(c.spec.id) === c)).toBe(true);
    expect(ids(state).indexOf("w500")).toBe(504);
  });
});

describe("crashReport", () => {
  it("has fixed fields, with the restart count of the decision's state", () => {
    const state = running();
    decide(state, "b", ExitKind.Failure, 0);
    expect(crashReport({ supervisor: "sup/main", child: findChild(state, "b")!, agent: "worker/b", reason: ExitKind.Failure, error: "boom", messageType: "work" })).toEqual({
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
