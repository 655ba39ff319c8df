// The public names of supervision's pure part: strategies, restart
// intensity, backoff, specs, and the supervisor's state and decisions.

export {
  Strategy,
  RestartType,
  ExitKind,
  STRATEGIES,
  RESTART_TYPES,
  EXIT_KINDS,
  shouldRestart,
  childrenToRestart,
} from "./strategy.js";
export { DEFAULT_INTENSITY, DEFAULT_PERIOD_MS, addRestart, type RestartWindow } from "./restart-intensity.js";
export {
  DEFAULT_BACKOFF,
  INITIAL_BACKOFF_STATE,
  backoffDelay,
  defaultResetAfterMs,
  nextBackoff,
  seededRandom,
  type BackoffSpec,
  type BackoffState,
  type NextBackoff,
} from "./backoff.js";
export {
  DEFAULT_SHUTDOWN_MS,
  normalizeChildSpec,
  normalizeSupervisorSpec,
  type ChildSpec,
  type SupervisorSpec,
  type NormalizedChildSpec,
  type NormalizedSupervisorSpec,
} from "./child-spec.js";
export {
  ChildStatus,
  createSupervisorState,
  addChild,
  removeChild,
  childStarted,
  findChild,
  findChildOfAgent,
  decideOnExit,
  applyDecision,
  crashReport,
  type ChildExit,
  type ChildState,
  type SupervisorState,
  type SupervisorStateOptions,
  type Decision,
  type StateChange,
  type CrashReport,
  type CrashReportInput,
} from "./supervisor-state.js";
export { SpecError } from "./spec-error.js";
