// Everything a supervisor knows, as one typed record, and the pure decision
// it takes when a child exits: ignore, restart (which children, after what
// delay), escalate, or, for a node's root supervisor, give up on one child.
// The supervisor agent is a thin shell that carries out these decisions.

import { SpecError } from "./spec-error.js";
import { INITIAL_BACKOFF_STATE, nextBackoff, type BackoffState } from "./backoff.js";
import type { NormalizedChildSpec, NormalizedSupervisorSpec } from "./child-spec.js";
import { addRestart } from "./restart-intensity.js";
import { childrenToRestart, RestartType, shouldRestart, type ExitKind } from "./strategy.js";

/** Where a child stands, as its supervisor sees it. */
export const ChildStatus = {
  /** Asked to start, not yet confirmed running. */
  Starting: "starting",
  /** Running. */
  Running: "running",
  /** Exited (or stopped for a sibling's restart) and waiting to be started again. */
  Restarting: "restarting",
  /** Exited and not restarted (a `transient` child's normal exit), or stopped with its supervisor. */
  Stopped: "stopped",
  /** Given up on: exited too often, or was the offender when its supervisor escalated. */
  Failed: "failed",
} as const;
export type ChildStatus = (typeof ChildStatus)[keyof typeof ChildStatus];

/** The last exit of a child. */
export interface ChildExit {
  readonly reason: ExitKind;
  readonly at: number;
}

/** One child, in its supervisor's state. */
export interface ChildState {
  readonly spec: NormalizedChildSpec;
  readonly status: ChildStatus;
  /** How many times the supervisor restarted it (its own failures and its siblings'). */
  readonly restartCount: number;
  readonly lastExit: ChildExit | null;
  /** This child's restart window, oldest first (counted only with `perChildIntensity`). */
  readonly restarts: readonly number[];
  /** This child's backoff (used only with `perChildIntensity`). */
  readonly backoff: BackoffState;
}

/** All a supervisor knows. Never mutated: every function returns a new one. */
export interface SupervisorState {
  readonly spec: NormalizedSupervisorSpec;
  /**
   * Count intensity and backoff per child and never escalate (a node's root
   * supervisor): a child past its intensity is given up on, alone. A child
   * that exits for good (given up on, or not restarted) is also forgotten at
   * once: the root's children are all spawned at run time and none is ever
   * restarted with a sibling, so keeping them would only grow the list.
   */
  readonly perChildIntensity: boolean;
  /** Children in start order. */
  readonly children: readonly ChildState[];
  /** The supervisor's restart window, oldest first. */
  readonly restarts: readonly number[];
  /** The supervisor's backoff. */
  readonly backoff: BackoffState;
}

/** Options of {@link createSupervisorState}. */
export interface SupervisorStateOptions {
  /** Per-child intensity that never escalates, for a node's root supervisor. Default false. */
  perChildIntensity?: boolean;
}

/**
 * The state of a supervisor about to start the children of `spec` (all
 * `starting`, in start order).
 */
export function createSupervisorState(spec: NormalizedSupervisorSpec, options: SupervisorStateOptions = {}): SupervisorState {
  return {
    spec,
    perChildIntensity: options.perChildIntensity ?? false,
    children: spec.children.map(newChild),
    restarts: [],
    backoff: INITIAL_BACKOFF_STATE,
  };
}

/**
 * Add a child after the others (OTP's `start_child`): it starts last and
 * stops first. Its status is `starting`.
 *
 * @throws SpecError if its id, or its agent `type/key`, is already a child
 */
export function addChild(state: SupervisorState, spec: NormalizedChildSpec): SupervisorState {
  for (const c of state.children) {
    if (c.spec.id === spec.id) throw new SpecError("id", `duplicate child id ${JSON.stringify(spec.id)}`);
    if (c.spec.type === spec.type && c.spec.key === spec.key) {
      throw new SpecError("key", `agent ${spec.type}/${spec.key} is already child ${JSON.stringify(c.spec.id)}`);
    }
  }
  return { ...state, children: [...state.children, newChild(spec)] };
}

/**
 * Forget a child (OTP's `terminate_child` then `delete_child`, as
 * `node.stop` does): the caller stops it; it is never restarted. The restart
 * window is kept. Unknown ids leave the state as it is.
 */
export function removeChild(state: SupervisorState, childId: string): SupervisorState {
  if (!state.children.some((c) => c.spec.id === childId)) return state;
  return { ...state, children: state.children.filter((c) => c.spec.id !== childId) };
}

/** Mark a child running once it started. Unknown ids leave the state as it is. */
export function childStarted(state: SupervisorState, childId: string): SupervisorState {
  return update(state, childId, (c) => ({ ...c, status: ChildStatus.Running }));
}

/** The child with that id, if any. */
export function findChild(state: SupervisorState, childId: string): ChildState | undefined {
  return state.children.find((c) => c.spec.id === childId);
}

/**
 * What a supervisor does when a child exits. Every variant carries `state`,
 * the supervisor's state once the decision is carried out.
 */
export type Decision = (
  | {
      /**
       * Nothing to restart: the child exited and is not restarted. `removed`
       * when it was dropped from the children (`temporary`); otherwise it
       * stays, `stopped`. Also the answer to an exit of an unknown child or
       * of one already stopped or failed (the state is then unchanged).
       */
      action: "ignore";
      child: string;
      removed: boolean;
    }
  | {
      /**
       * Stop `stop` (running siblings, already in reverse start order), drop
       * `removed` (`temporary` siblings caught in the restart: they are
       * stopped but, as in OTP, never restarted), wait `delayMs`, then start
       * `children` in start order. A pending restart of any of `children`
       * is superseded by this one.
       */
      action: "restart";
      children: string[];
      stop: string[];
      removed: string[];
      delayMs: number;
      /** The backoff attempt (0-based) `delayMs` was computed for. */
      attempt: number;
    }
  | {
      /**
       * Intensity exceeded: stop `stop` (every running child, in reverse
       * start order), cancel pending restarts, and fail the supervisor; its
       * own supervisor decides what comes next.
       */
      action: "escalate";
      reason: "max_intensity";
      stop: string[];
    }
  | {
      /**
       * Per-child intensity exceeded (root supervisor): the child is marked
       * `failed` and removed from the children (`failed` is its last state,
       * for the report); stop it and report it. Siblings are untouched.
       */
      action: "give_up";
      child: string;
      failed: ChildState;
    }
) & { state: SupervisorState };

/**
 * Decide what to do now that child `childId` exited with `reason` at `now`,
 * following OTP's supervisor.erl:
 *
 * - not restarted per {@link shouldRestart}: `ignore` (a `temporary` child is
 *   removed, a `transient` one kept as `stopped`; with `perChildIntensity`
 *   both are removed);
 * - otherwise one restart is counted in the window (the supervisor's, or the
 *   child's with `perChildIntensity`); past the intensity: `escalate` (or,
 *   with `perChildIntensity`, `give_up` on that child alone, which removes it);
 * - otherwise `restart` the children the strategy names. As in OTP,
 *   `one_for_all` and `rest_for_one` also start siblings that were
 *   `stopped` (a transient's normal exit), and drop `temporary` siblings.
 *   Children given up on (`failed`) stay failed.
 *
 * A failed start is an exit with reason `failure`, so it is counted too.
 * Exits the supervisor caused itself (stopping children for a restart or a
 * shutdown) are not to be passed here.
 */
export function decideOnExit(
  state: SupervisorState,
  childId: string,
  reason: ExitKind,
  now: number,
  random: () => number,
): Decision {
  const child = findChild(state, childId);
  if (!child || child.status === ChildStatus.Stopped || child.status === ChildStatus.Failed) {
    return { action: "ignore", child: childId, removed: false, state };
  }
  const lastExit: ChildExit = { reason, at: now };

  if (!shouldRestart(child.spec.restart, reason)) {
    if (child.spec.restart === RestartType.Temporary || state.perChildIntensity) {
      return { action: "ignore", child: childId, removed: true, state: removeChild(state, childId) };
    }
    const next = update(state, childId, (c) => ({ ...c, status: ChildStatus.Stopped, lastExit }));
    return { action: "ignore", child: childId, removed: false, state: next };
  }

  const { spec } = state;
  const window = addRestart(state.perChildIntensity ? child.restarts : state.restarts, now, spec.periodMs, spec.intensity);

  if (window.exceeded) {
    if (state.perChildIntensity) {
      const failed: ChildState = { ...child, status: ChildStatus.Failed, lastExit, restarts: window.restarts };
      return { action: "give_up", child: childId, failed, state: removeChild(state, childId) };
    }
    const stop = state.children
      .filter((c) => c.spec.id !== childId && isActive(c.status))
      .map((c) => c.spec.id)
      .reverse();
    const children = state.children.map((c): ChildState => {
      if (c.spec.id === childId) return { ...c, status: ChildStatus.Failed, lastExit };
      return c.status === ChildStatus.Failed ? c : { ...c, status: ChildStatus.Stopped };
    });
    return { action: "escalate", reason: "max_intensity", stop, state: { ...state, children, restarts: window.restarts } };
  }

  const backoff = nextBackoff(state.perChildIntensity ? child.backoff : state.backoff, spec.backoff, now, random);
  const group = new Set(
    childrenToRestart(
      spec.strategy,
      state.children.map((c) => c.spec.id),
      childId,
    ),
  );
  const restart: string[] = [];
  const stop: string[] = [];
  const removed: string[] = [];
  const children: ChildState[] = [];
  for (const c of state.children) {
    const id = c.spec.id;
    if (id === childId) {
      restart.push(id);
      children.push({
        ...c,
        status: ChildStatus.Restarting,
        restartCount: c.restartCount + 1,
        lastExit,
        ...(state.perChildIntensity ? { restarts: window.restarts, backoff: backoff.state } : {}),
      });
      continue;
    }
    if (!group.has(id) || c.status === ChildStatus.Failed) {
      children.push(c);
      continue;
    }
    if (isActive(c.status)) stop.push(id);
    if (c.spec.restart === RestartType.Temporary) {
      removed.push(id);
      continue;
    }
    restart.push(id);
    children.push({ ...c, status: ChildStatus.Restarting, restartCount: c.restartCount + 1 });
  }
  const next: SupervisorState = state.perChildIntensity
    ? { ...state, children }
    : { ...state, children, restarts: window.restarts, backoff: backoff.state };
  return {
    action: "restart",
    children: restart,
    stop: stop.reverse(),
    removed,
    delayMs: backoff.delayMs,
    attempt: backoff.attempt,
    state: next,
  };
}

/** A crash report: always the same fields, so it can be published, logged and queried alike. */
export interface CrashReport {
  /** The supervisor's address (`type/key`). */
  readonly supervisor: string;
  /** The child's agent address (`type/key`). */
  readonly child: string;
  /** The child spec's id. */
  readonly childId: string;
  readonly reason: ExitKind;
  /** The error message of the failure, or null. */
  readonly error: string | null;
  /** Type of the message being handled when the child failed, or null. */
  readonly messageType: string | null;
  /** How many times the child has been restarted, this restart included when taken from a decision's state. */
  readonly restartCount: number;
}

/** What {@link crashReport} is built from. */
export interface CrashReportInput {
  /** The supervisor's address (`type/key`). */
  supervisor: string;
  /** The child, from the state its decision returned (or, for a removed `temporary` child, from the state before). */
  child: ChildState;
  /** The child's agent address (`type/key`), as the runtime writes it. */
  agent: string;
  reason: ExitKind;
  error?: string | null;
  messageType?: string | null;
}

/**
 * Build the crash report of a child's exit.
 *
 * @example
 * const d = decideOnExit(state, "b", "failure", clock.now(), random);
 * crashReport({ supervisor: "sup/main", child: findChild(d.state, "b")!, agent: "worker/b", reason: "failure", messageType: "work" });
 */
export function crashReport(input: CrashReportInput): CrashReport {
  const { spec, restartCount } = input.child;
  return {
    supervisor: input.supervisor,
    child: input.agent,
    childId: spec.id,
    reason: input.reason,
    error: input.error ?? null,
    messageType: input.messageType ?? null,
    restartCount,
  };
}

function newChild(spec: NormalizedChildSpec): ChildState {
  return {
    spec,
    status: ChildStatus.Starting,
    restartCount: 0,
    lastExit: null,
    restarts: [],
    backoff: INITIAL_BACKOFF_STATE,
  };
}

function isActive(status: ChildStatus): boolean {
  return status === ChildStatus.Starting || status === ChildStatus.Running;
}

function update(state: SupervisorState, childId: string, f: (c: ChildState) => ChildState): SupervisorState {
  if (!state.children.some((c) => c.spec.id === childId)) return state;
  return { ...state, children: state.children.map((c) => (c.spec.id === childId ? f(c) : c)) };
}
