// The lifecycle of every agent, as an XState v5 machine owned by the runtime:
//
//   starting -> running -> stopping -> stopped
//   running  -> failed  -> restarting -> starting        (its supervisor restarts it)
//   failed   -> stopped                                  (its supervisor gives up)
//   running  -> restarting                               (a sibling failed: one_for_all, rest_for_one)
//
// `running` has two inner states: `handling` (it takes messages) and
// `ending` (it stopped taking them: it failed, stopped itself, was fenced, or
// its supervisor is restarting it; what it changed is committed and onStop
// runs). The machine is the one source of truth for where an activation is:
// the host asks it whether to take a message. The top-level state is what
// `agentctl ps` shows; every top-level transition is published as an event.

import { assign, createActor, setup, type Actor, type SnapshotFrom } from "xstate";

/** The states an agent can be in. */
export const LifecycleState = {
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
  Failed: "failed",
  Restarting: "restarting",
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
  | { type: "STOPPED" };

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
        handling: { on: { END: { target: "ending" } } },
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

/** The top-level state of a snapshot (`running` for both of its inner states). */
function topLevel(snapshot: LifecycleSnapshot): LifecycleState {
  const value = snapshot.value;
  return (typeof value === "string" ? value : Object.keys(value)[0]) as LifecycleState;
}

/**
 * One agent's lifecycle actor. `state` and `handling` are read from the
 * machine's snapshot as each transition lands (once per transition, not per
 * message); errors inside the actor are reported, never thrown into Node.
 */
export class Lifecycle {
  private readonly actor: Actor<typeof lifecycleMachine>;
  private current: LifecycleState = LifecycleState.Starting;
  private takesMessages = false;

  constructor(
    onTransition: (from: LifecycleState, to: LifecycleState, reason: string | null) => void,
    onError: (err: unknown) => void,
  ) {
    this.actor = createActor(lifecycleMachine);
    this.actor.subscribe({
      next: (snapshot) => {
        this.takesMessages = snapshot.matches({ running: "handling" });
        const to = topLevel(snapshot);
        if (to === this.current) return;
        const from = this.current;
        this.current = to;
        onTransition(from, to, snapshot.context.reason);
      },
      error: onError,
    });
    this.actor.start();
  }

  /** Where the agent is, as `agentctl ps` shows it. */
  get state(): LifecycleState {
    return this.current;
  }

  /** Running and taking messages (not yet ending). */
  get handling(): boolean {
    return this.takesMessages;
  }

  /** Whether the actor still takes events (it is stopped once the agent stopped or was given up on). */
  get live(): boolean {
    return this.actor.getSnapshot().status === "active";
  }

  send(event: LifecycleEvent): void {
    this.actor.send(event);
  }

  /** Stop the actor; its last state stays readable. */
  stop(): void {
    this.actor.stop();
  }
}
