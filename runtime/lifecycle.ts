// The lifecycle of every agent, as an XState v5 machine owned by the runtime:
//
//   starting -> running -> stopping -> stopped
//   running  -> failed  -> restarting -> starting        (its supervisor restarts it)
//   failed   -> stopped                                  (its supervisor gives up)
//   running  -> restarting                               (a sibling failed: one_for_all, rest_for_one)
//
// The machine's state is what `agentctl ps` shows; every transition is published as an event.

import { assign, createActor, setup, type ActorRefFrom } from "xstate";

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

export type LifecycleActor = ActorRefFrom<typeof lifecycleMachine>;

/**
 * Start a lifecycle actor; `onTransition(from, to, reason)` is called on every
 * state change. Errors inside the actor are reported, never thrown into Node.
 */
export function startLifecycle(
  onTransition: (from: LifecycleState, to: LifecycleState, reason: string | null) => void,
  onError: (err: unknown) => void,
): LifecycleActor {
  const actor = createActor(lifecycleMachine);
  let last: LifecycleState = "starting";
  actor.subscribe({
    next(snapshot) {
      const to = snapshot.value as LifecycleState;
      if (to !== last) {
        const from = last;
        last = to;
        onTransition(from, to, snapshot.context.reason);
      }
    },
    error: onError,
  });
  actor.start();
  return actor;
}

/** The current state of a lifecycle actor. */
export function lifecycleState(actor: LifecycleActor): LifecycleState {
  return actor.getSnapshot().value as LifecycleState;
}
