// The closed vocabularies of supervision (strategies, restart types, exit
// kinds) and the two rules that follow OTP's supervisor.erl: whether a child
// that exited is restarted, and which children a failure restarts.


/** Which children a supervisor restarts when one of them must be restarted. */
export const Strategy = {
  /** Only the child that exited. */
  OneForOne: "one_for_one",
  /** Every child. */
  OneForAll: "one_for_all",
  /** The child that exited and every child started after it. */
  RestForOne: "rest_for_one",
} as const;
export type Strategy = (typeof Strategy)[keyof typeof Strategy];

/** When a child is restarted after it exits. */
export const RestartType = {
  /** Always restarted, whatever the exit. */
  Permanent: "permanent",
  /** Restarted only after an abnormal exit (a failure). */
  Transient: "transient",
  /** Never restarted. */
  Temporary: "temporary",
} as const;
export type RestartType = (typeof RestartType)[keyof typeof RestartType];

/** Why a child exited. */
export const ExitKind = {
  /** It stopped itself cleanly (`ctx.stop()` or a clean exit). */
  Normal: "normal",
  /** It was stopped by its supervisor or by `node.stop`. */
  Shutdown: "shutdown",
  /** It threw, failed to start, timed out in `receive`, or was killed. */
  Failure: "failure",
} as const;
export type ExitKind = (typeof ExitKind)[keyof typeof ExitKind];

/** Every strategy, for validation and listings. */
export const STRATEGIES: readonly Strategy[] = Object.values(Strategy);
/** Every restart type, for validation and listings. */
export const RESTART_TYPES: readonly RestartType[] = Object.values(RestartType);
/** Every exit kind, for validation and listings. */
export const EXIT_KINDS: readonly ExitKind[] = Object.values(ExitKind);

/**
 * Whether a child with restart type `restart` is restarted after an exit of
 * kind `reason`, as in OTP: `permanent` always, `transient` only after a
 * failure (not after `normal` or `shutdown`), `temporary` never.
 *
 * A child stopped on purpose by its own supervisor (a sibling's restart,
 * `node.stop`, the supervisor shutting down) is not an exit to decide on:
 * OTP does not see those exits either. `shutdown` here means the child
 * exited with that reason on its own.
 */
export function shouldRestart(restart: RestartType, reason: ExitKind): boolean {
  switch (restart) {
    case RestartType.Permanent:
      return true;
    case RestartType.Transient:
      return reason === ExitKind.Failure;
    case RestartType.Temporary:
      return false;
    default:
      return unreachable(restart);
  }
}

/**
 * The children to restart when `failedId` must be restarted, in start order
 * (they are stopped in the reverse of it and started again in it).
 *
 * @param children child ids in start order
 * @example
 * childrenToRestart("rest_for_one", ["a", "b", "c", "d"], "b"); // ["b", "c", "d"]
 */
export function childrenToRestart(strategy: Strategy, children: readonly string[], failedId: string): string[] {
  const at = children.indexOf(failedId);
  if (at < 0) {
    throw new RangeError(`child ${JSON.stringify(failedId)} is not among the supervisor's children`);
  }
  switch (strategy) {
    case Strategy.OneForOne:
      return [failedId];
    case Strategy.OneForAll:
      return [...children];
    case Strategy.RestForOne:
      return children.slice(at);
    default:
      return unreachable(strategy);
  }
}

function unreachable(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
