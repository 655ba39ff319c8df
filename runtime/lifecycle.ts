// The lifecycle of every agent, as an XState v5 machine owned by the runtime:
//
//   starting -> running -> stopping -> stopped
//   running  -> failed  -> restarting -> starting        (its supervisor restarts it)
//   failed   -> stopped                                  (its supervisor gives up)
//   running  -> restarting                               (a sibling failed: one_for_all, rest_for_one)
//   running <-> awaitingApproval                         (a model agent's tool call waits for a person)
//
// `running` has two inner states: `handling` (it takes messages) and
// `ending` (it stopped taking them: it failed, stopped itself, was fenced, or
// its supervisor is restarting it; what it changed is committed and onStop
// runs). `awaitingApproval` is running too, with the same inner states: it
// takes messages (the approval among them), and whatever ends a running
// agent ends it. The machine is the one source of truth for where an activation is:
// the host asks it whether to take a message. The top-level state is what
// `agentctl ps` shows; every top-level transition is published as an event.
//
// An agent holds no actor of the machine, only where it is in it (a node may
// hold 100,000 idle agents): XState's pure `transition` function is run over
// the machine once per (state, event) when this module loads, and each agent
// steps through that table.

import { assign, initialTransition, setup, transition, type SnapshotFrom, type StateValue } from "xstate";

/** The states an agent can be in. */
export const LifecycleState = {
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
  Failed: "failed",
  Restarting: "restarting",
  /** Running, with a tool call that waits for a person's approval (model agents). */
  AwaitingApproval: "awaitingApproval",
} as const;
export type LifecycleState = (typeof LifecycleState)[keyof typeof LifecycleState];

/** Events that move the lifecycle. */
export type LifecycleEvent =
  | { type: "STARTED" }
  /** Stop taking messages (still `running`): the activation is ending. */
  | { type: "END" }
  | { type: "FAIL"; reason: string }
  | { type: "RESTART" }
  | { type: "START" }
  | { type: "STOP" }
  | { type: "STOPPED" }
  /** A tool call waits for a person (a model agent). */
  | { type: "AWAIT_APPROVAL" }
  /** Nothing waits for a person any more. */
  | { type: "APPROVAL_SETTLED" };

/** The lifecycle machine definition (one actor of it per agent). */
export const lifecycleMachine = setup({
  types: { events: {} as LifecycleEvent, context: {} as { reason: string | null } },
}).createMachine({
  id: "lifecycle",
  initial: "starting",
  context: () => ({ reason: null }),
  states: {
    starting: {
      on: {
        STARTED: { target: "running", actions: assign({ reason: null }) },
        FAIL: { target: "failed", actions: assign({ reason: ({ event }) => event.reason }) },
        STOP: { target: "stopping" },
      },
    },
    running: {
      initial: "handling",
      states: {
        handling: { on: { END: { target: "ending" }, AWAIT_APPROVAL: { target: "#lifecycle.awaitingApproval" } } },
        ending: {},
      },
      on: {
        FAIL: { target: "failed", actions: assign({ reason: ({ event }) => event.reason }) },
        STOP: { target: "stopping" },
        RESTART: { target: "restarting" },
      },
    },
    awaitingApproval: {
      initial: "handling",
      states: {
        handling: { on: { END: { target: "ending" }, APPROVAL_SETTLED: { target: "#lifecycle.running" } } },
        ending: {},
      },
      on: {
        FAIL: { target: "failed", actions: assign({ reason: ({ event }) => event.reason }) },
        STOP: { target: "stopping" },
        RESTART: { target: "restarting" },
      },
    },
    failed: {
      on: { RESTART: { target: "restarting" }, STOP: { target: "stopped" } },
    },
    restarting: {
      on: { START: { target: "starting" }, STOP: { target: "stopped" } },
    },
    stopping: {
      on: { STOPPED: { target: "stopped" } },
    },
    stopped: { type: "final" },
  },
});

type LifecycleSnapshot = SnapshotFrom<typeof lifecycleMachine>;

/** A state of the machine down to its leaf: `starting`, `running.handling`, ... */
type Place = string;

/** Where one event takes an agent from one place, as the machine says. */
interface Step {
  readonly to: Place;
  /** What becomes of the context's `reason`: kept, cleared, or taken from the event. */
  readonly reason: "keep" | "clear" | "event";
}

/** What the machine says about one place, and where each event it takes leads. */
interface PlaceInfo {
  readonly state: LifecycleState;
  /** `running.handling`: the activation takes messages. */
  readonly handling: boolean;
  /** A final state: no event moves it any more. */
  readonly final: boolean;
  readonly on: Partial<Record<LifecycleEvent["type"], Step>>;
}

const EVENT_TYPES: ReadonlyArray<LifecycleEvent["type"]> = ["STARTED", "END", "FAIL", "RESTART", "START", "STOP", "STOPPED", "AWAIT_APPROVAL", "APPROVAL_SETTLED"];

function placeOf(value: StateValue): Place {
  if (typeof value === "string") return value;
  const [top, inner] = Object.entries(value)[0]!;
  return inner === undefined ? top : `${top}.${placeOf(inner)}`;
}

/**
 * Every place of the machine and its steps, found by running XState's pure
 * `transition` from each place on each event (with marked reasons, to see
 * what the machine's `assign` does with them).
 */
function placesOf(machine: typeof lifecycleMachine, initial: LifecycleSnapshot): ReadonlyMap<Place, PlaceInfo> {
  const KEPT = "\u0000kept";
  const GIVEN = "\u0000given";
  const places = new Map<Place, PlaceInfo>();
  const visit = (snapshot: LifecycleSnapshot): void => {
    const place = placeOf(snapshot.value);
    if (places.has(place)) return;
    const on: PlaceInfo["on"] = {};
    places.set(place, { state: topLevel(snapshot), handling: snapshot.matches({ running: "handling" }) || snapshot.matches({ awaitingApproval: "handling" }), final: snapshot.status !== "active", on });
    if (snapshot.status !== "active") return;
    const marked = machine.resolveState({ value: snapshot.value, context: { reason: KEPT } });
    for (const type of EVENT_TYPES) {
      const [next] = transition(machine, marked, { type, reason: GIVEN } as LifecycleEvent);
      if (next === marked) continue; // not taken here
      const reason = next.context.reason === GIVEN ? "event" : next.context.reason === KEPT ? "keep" : "clear";
      on[type] = { to: placeOf(next.value), reason };
      visit(machine.resolveState({ value: next.value, context: { reason: null } }));
    }
  };
  visit(initial);
  return places;
}

/** The machine as a table, computed once. */
const [initialSnapshot] = initialTransition(lifecycleMachine);
const INITIAL: Place = placeOf(initialSnapshot.value);
const PLACES = placesOf(lifecycleMachine, initialSnapshot);

/** The top-level state of a snapshot (`running` for both of its inner states). */
function topLevel(snapshot: LifecycleSnapshot): LifecycleState {
  const value = snapshot.value;
  return (typeof value === "string" ? value : Object.keys(value)[0]) as LifecycleState;
}

/**
 * One agent's place in the lifecycle machine. `state` and `handling` are
 * read from the machine's table; each top-level transition is reported to
 * `onTransition` as it lands.
 */
export class Lifecycle {
  private place: Place = INITIAL;
  private reason: string | null = null;
  private stopped = false;

  constructor(private readonly onTransition: (from: LifecycleState, to: LifecycleState, reason: string | null) => void) {}

  /** Where the agent is, as `agentctl ps` shows it. */
  get state(): LifecycleState {
    return PLACES.get(this.place)!.state;
  }

  /** Running and taking messages (not yet ending). */
  get handling(): boolean {
    return PLACES.get(this.place)!.handling;
  }

  /** Up: `running`, or running and waiting for an approval. */
  get running(): boolean {
    const state = PLACES.get(this.place)!.state;
    return state === LifecycleState.Running || state === LifecycleState.AwaitingApproval;
  }

  /** Whether it still takes events (not once the agent stopped, or {@link stop} was called). */
  get live(): boolean {
    return !this.stopped && !PLACES.get(this.place)!.final;
  }

  /** Move on `event` as the machine says; an event its place does not take changes nothing. */
  send(event: LifecycleEvent): void {
    if (!this.live) return;
    const here = PLACES.get(this.place)!;
    const step = here.on[event.type];
    if (!step) return;
    if (step.reason === "clear") this.reason = null;
    else if (step.reason === "event") this.reason = (event as { reason: string }).reason;
    this.place = step.to;
    const to = PLACES.get(step.to)!.state;
    if (to !== here.state) this.onTransition(here.state, to, this.reason);
  }

  /** Take no more events; the last state stays readable. */
  stop(): void {
    this.stopped = true;
  }
}
