// Restart intensity: the sliding window that decides when a supervisor has
// restarted too often and must give up (OTP's add_restart/3).

/** OTP's default: at most 1 restart... */
export const DEFAULT_INTENSITY = 1;
/** ...in 5000 ms. */
export const DEFAULT_PERIOD_MS = 5000;

/** The outcome of {@link addRestart}. */
export interface RestartWindow {
  /** Restart times still inside the window, oldest first, ending with `now`. */
  restarts: number[];
  /** More than `intensity` restarts fell inside the window: give up. */
  exceeded: boolean;
}

/**
 * Record a restart at `now` and say whether the intensity is exceeded.
 *
 * Mirrors OTP's `add_restart/3`: a past restart `t` stays in the window while
 * `t >= now - periodMs`, so one exactly `periodMs` ago still counts, and one a
 * millisecond older is dropped. `now` is then added, and the intensity is
 * exceeded when the window holds more than `intensity` restarts. With
 * intensity 0 the first restart already exceeds it.
 *
 * @param restarts earlier restart times, oldest first (as returned before)
 * @example
 * let w = addRestart([], 0, 5000, 1);      // { restarts: [0], exceeded: false }
 * w = addRestart(w.restarts, 5000, 5000, 1); // { restarts: [0, 5000], exceeded: true }
 * w = addRestart([0], 5001, 5000, 1);       // { restarts: [5001], exceeded: false }
 */
export function addRestart(
  restarts: readonly number[],
  now: number,
  periodMs: number = DEFAULT_PERIOD_MS,
  intensity: number = DEFAULT_INTENSITY,
): RestartWindow {
  const threshold = now - periodMs;
  const kept = restarts.filter((t) => t >= threshold);
  kept.push(now);
  return { restarts: kept, exceeded: kept.length > intensity };
}
