// Everything a supervisor knows, as one typed record, and the pure decision
// it takes when a child exits: ignore, restart (which children, after what
// delay), escalate, or, for a node's root supervisor, give up on one child.
// The supervisor agent is a thin shell that carries out these decisions.
//
// The children sit in a Map by id, which keeps start order, with an index by
// agent: adding, finding, removing or updating one child costs O(1) whatever
// their number (a node's root may have 100,000). Decisions stay pure: they
// read the state and say what changes; only addChild, removeChild,
// childStarted and applyDecision change it, in place.

import { SpecError } from "./spec-error.js";
import { INITIAL_BACKOFF_STATE, nextBackoff, type BackoffState } from "./backoff.js";
import type { NormalizedChildSpec, NormalizedSupervisorSpec } from "./child-spec.js";
import { addRestart } from "./restart-intensity.js";
import { childrenToRestart, RestartType, shouldRestart, Strategy, type ExitKind } from "./strategy.js";

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

/** The empty restart window, shared by every child (and supervisor) that never restarted. */
const NO_RESTARTS: readonly number[] = Object.freeze([]);

/** The last exit of a child. */
export interface ChildExit {
  readonly reason: ExitKind;
  readonly at: number;
}

/** One child, in its supervisor's state. A record is never changed: an update replaces it. */
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

/**
 * All a supervisor knows. Changed in place by {@link addChild},
 * {@link removeChild}, {@link childStarted} and {@link applyDecision} only
 * (they keep the children and their index by agent in step).
 */
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
  /** Children by id, in start order. */
  readonly children: Map<string, ChildState>;
  /** Child id by agent type, then key: the lookup by agent. */
  readonly byAgent: Map<string, Map<string, string>>;
  /** The supervisor's restart window, oldest first. */
  restarts: readonly number[];
  /** The supervisor's backoff. */
  backoff: BackoffState;
}

/** Options of {@link createSupervisorState}. */
export interface SupervisorStateOptions {
  /** Per-child intensity that never escalates, for a node's root supervisor. Default false. */
  perChildIntensity?: boolean;
}

/**
 * The state of a supervisor about to start the children of `spec` (all
 * `starting`, in start order).
 *
 * @throws SpecError if two children share an id or an agent `type/key`
 */
export function createSupervisorState(spec: NormalizedSupervisorSpec, options: SupervisorStateOptions = {}): SupervisorState {
  const state: SupervisorState = {
    spec,
    perChildIntensity: options.perChildIntensity ?? false,
    children: new Map(),
    byAgent: new Map(),
    restarts: NO_RESTARTS,
    backoff: INITIAL_BACKOFF_STATE,
  };
  for (const child of spec.children) addChild(state, child);
  return state;
}

/**
 * Add a child after the others (OTP's `start_child`): it starts last and
 * stops first. Its status is `starting`.
 *
 * @throws SpecError if its id, or its agent `type/key`, is already a child
 */
export function addChild(state: SupervisorState, spec: NormalizedChildSpec): void {
  if (state.children.has(spec.id)) throw new SpecError("id", `duplicate child id ${JSON.stringify(spec.id)}`);
  const other = state.byAgent.get(spec.type)?.get(spec.key);
  if (other !== undefined) throw new SpecError("key", `agent ${spec.type}/${spec.key} is already child ${JSON.stringify(other)}`);
  state.children.set(spec.id, newChild(spec));
  let keys = state.byAgent.get(spec.type);
  if (!keys) state.byAgent.set(spec.type, (keys = new Map()));
  keys.set(spec.key, spec.id);
}

/**
 * Forget a child (OTP's `terminate_child` then `delete_child`, as
 * `node.stop` does): the caller stops it; it is never restarted. The restart
 * window is kept. Unknown ids leave the state as it is.
 */
export function removeChild(state: SupervisorState, childId: string): void {
  const child = state.children.get(childId);
  if (!child) return;
  state.children.delete(childId);
  const keys = state.byAgent.get(child.spec.type);
  keys?.delete(child.spec.key);
  if (keys?.size === 0) state.byAgent.delete(child.spec.type);
}

/** Mark a child running once it started. Unknown ids leave the state as it is. */
export function childStarted(state: SupervisorState, childId: string): void {
  const child = state.children.get(childId);
  if (child) state.children.set(childId, { ...child, status: ChildStatus.Running });
}

/** The child with that id, if any. */
export function findChild(state: SupervisorState, childId: string): ChildState | undefined {
  return state.children.get(childId);
}

/** The child that runs agent `type/key`, if any. */
export function findChildOfAgent(state: SupervisorState, type: string, key: string): ChildState | undefined {
  const id = state.byAgent.get(type)?.get(key);
  return id === undefined ? undefined : state.children.get(id);
}

/**
 * What carrying out a decision changes in the state ({@link applyDecision}):
 * the size of what the decision touches, not of the supervisor.
 */
export interface StateChange {
  /** New records of children, each keeping its place in start order. */
  readonly update: readonly ChildState[];
  /** Children forgotten. */
  readonly remove: readonly string[];
  /** The supervisor's restart window and backoff from now on. */
  readonly restarts: readonly number[];
  readonly backoff: BackoffState;
}

/**
 * What a supervisor does when a child exits. Every variant carries `change`,
 * what carrying it out changes in the state ({@link applyDecision}).
 */
export type Decision = (
  | {
      /**
       * Nothing to restart: the child exited and is not restarted. `removed`
       * when it is dropped from the children (`temporary`); otherwise it
       * stays, `stopped`. Also the answer to an exit of an unknown child or
       * of one already stopped or failed (the change is then empty).
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
) & { change: StateChange };

/**
 * Decide what to do now that child `childId` exited with `reason` at `now`,
 * following OTP's supervisor.erl. Pure: the state is read, not changed.
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
 * shutdown) are not to be passed here. Under `one_for_one` a decision reads
 * and changes the exiting child only: O(1) in the number of children.
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
    return { action: "ignore", child: childId, removed: false, change: changeOf(state) };
  }
  const lastExit: ChildExit = { reason, at: now };

  if (!shouldRestart(child.spec.restart, reason)) {
    if (child.spec.restart === RestartType.Temporary || state.perChildIntensity) {
      return { action: "ignore", child: childId, removed: true, change: changeOf(state, { remove: [childId] }) };
    }
    const stopped: ChildState = { ...child, status: ChildStatus.Stopped, lastExit };
    return { action: "ignore", child: childId, removed: false, change: changeOf(state, { update: [stopped] }) };
  }

  const { spec } = state;
  const window = addRestart(state.perChildIntensity ? child.restarts : state.restarts, now, spec.periodMs, spec.intensity);

  if (window.exceeded) {
    if (state.perChildIntensity) {
      const failed: ChildState = { ...child, status: ChildStatus.Failed, lastExit, restarts: window.restarts };
      return { action: "give_up", child: childId, failed, change: changeOf(state, { remove: [childId] }) };
    }
    const stop: string[] = [];
    const update: ChildState[] = [];
    for (const c of state.children.values()) {
      if (c.spec.id === childId) {
        update.push({ ...c, status: ChildStatus.Failed, lastExit });
        continue;
      }
      if (isActive(c.status)) stop.push(c.spec.id);
      if (c.status !== ChildStatus.Failed) update.push({ ...c, status: ChildStatus.Stopped });
    }
    return { action: "escalate", reason: "max_intensity", stop: stop.reverse(), change: changeOf(state, { update, restarts: window.restarts }) };
  }

  const backoff = nextBackoff(state.perChildIntensity ? child.backoff : state.backoff, spec.backoff, now, random);
  const restarted: ChildState = {
    ...child,
    status: ChildStatus.Restarting,
    restartCount: child.restartCount + 1,
    lastExit,
    ...(state.perChildIntensity ? { restarts: window.restarts, backoff: backoff.state } : {}),
  };
  // The supervisor's own window and backoff count only without per-child intensity.
  const own = state.perChildIntensity ? {} : { restarts: window.restarts, backoff: backoff.state };
  const decided = { action: "restart", delayMs: backoff.delayMs, attempt: backoff.attempt } as const;
  if (spec.strategy === Strategy.OneForOne) {
    return { ...decided, children: [childId], stop: [], removed: [], change: changeOf(state, { update: [restarted], ...own }) };
  }
  const group = new Set(childrenToRestart(spec.strategy, [...state.children.keys()], childId));
  const restart: string[] = [];
  const stop: string[] = [];
  const removed: string[] = [];
  const update: ChildState[] = [];
  for (const c of state.children.values()) {
    const id = c.spec.id;
    if (id === childId) {
      restart.push(id);
      update.push(restarted);
      continue;
    }
    if (!group.has(id) || c.status === ChildStatus.Failed) continue;
    if (isActive(c.status)) stop.push(id);
    if (c.spec.restart === RestartType.Temporary) {
      removed.push(id);
      continue;
    }
    restart.push(id);
    update.push({ ...c, status: ChildStatus.Restarting, restartCount: c.restartCount + 1 });
  }
  return { ...decided, children: restart, stop: stop.reverse(), removed, change: changeOf(state, { update, remove: removed, ...own }) };
}

/**
 * Carry a decision's change into the state: children updated in place (each
 * keeps its place in start order), dropped ones forgotten, and the
 * supervisor's restart window and backoff replaced.
 */
export function applyDecision(state: SupervisorState, decision: Decision): void {
  const { change } = decision;
  for (const c of change.update) if (state.children.has(c.spec.id)) state.children.set(c.spec.id, c);
  for (const id of change.remove) removeChild(state, id);
  state.restarts = change.restarts;
  state.backoff = change.backoff;
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
  /** How many times the child has been restarted, this restart included when taken from the state its decision was applied to. */
  readonly restartCount: number;
}

/** What {@link crashReport} is built from. */
export interface CrashReportInput {
  /** The supervisor's address (`type/key`). */
  supervisor: string;
  /** The child, from the state its decision was applied to (or, for a removed `temporary` child, from the state before). */
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
 * applyDecision(state, d);
 * crashReport({ supervisor: "sup/main", child: findChild(state, "b")!, agent: "worker/b", reason: "failure", messageType: "work" });
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
    restarts: NO_RESTARTS,
    backoff: INITIAL_BACKOFF_STATE,
  };
}

/** A change of `state`: by default none (its own window and backoff, nothing updated or removed). */
function changeOf(state: SupervisorState, change: Partial<StateChange> = {}): StateChange {
  return { update: [], remove: [], restarts: state.restarts, backoff: state.backoff, ...change };
}

function isActive(status: ChildStatus): boolean {
  return status === ChildStatus.Starting || status === ChildStatus.Running;
}
