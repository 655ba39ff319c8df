// Backoff between restarts: exponential with jitter, capped, and reset after
// a quiet period. Pure: randomness is passed in, so a seeded generator makes
// delays (and chaos schedules) reproducible.

/** How long to wait before a restart. */
export interface BackoffSpec {
  /** Delay of the first attempt, in ms. */
  minMs: number;
  /** Largest delay, in ms; jitter never takes a delay above it. */
  maxMs: number;
  /** Growth per attempt (>= 1). */
  factor: number;
  /** Spread of the delay, as a fraction (0..1): the delay moves by up to ±jitter of itself. */
  jitter: number;
  /**
   * Quiet period in ms after which the attempt count starts again at 0,
   * measured from the moment the last restart happened (its delay elapsed).
   * Default: {@link defaultResetAfterMs}, `max(2 * maxMs, 10000)`.
   */
  resetAfterMs?: number;
}

/** The values a partial backoff configuration is completed with. */
export const DEFAULT_BACKOFF: Readonly<Required<Omit<BackoffSpec, "resetAfterMs">>> = {
  minMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
};

/**
 * The default quiet period: twice the largest delay, and at least 10 s. A
 * child that fails again right after a restart has been up for at most about
 * one delay, so it never resets its own backoff.
 */
export function defaultResetAfterMs(spec: Pick<BackoffSpec, "maxMs">): number {
  return Math.max(2 * spec.maxMs, 10_000);
}

/**
 * The delay before restart attempt `attempt` (0-based):
 * `min(maxMs, minMs * factor ** attempt)`, moved by `jitter` of itself up or
 * down (`random()` in [0, 1) maps to [-jitter, +jitter)), clamped to
 * [0, maxMs] and rounded to a whole ms. Calls `random` exactly once.
 *
 * @example
 * backoffDelay({ minMs: 100, maxMs: 1000, factor: 2, jitter: 0 }, 3, Math.random); // 800
 */
export function backoffDelay(spec: BackoffSpec, attempt: number, random: () => number): number {
  const growth = spec.factor ** Math.max(0, attempt);
  const base = spec.minMs <= 0 ? 0 : Math.min(spec.maxMs, spec.minMs * growth);
  const spread = spec.jitter * (2 * random() - 1);
  const delay = base * (1 + spread);
  return Math.round(Math.min(spec.maxMs, Math.max(0, delay)));
}

/** What the backoff remembers between restarts. */
export interface BackoffState {
  /** The attempt the next restart will use (0-based). */
  attempt: number;
  /** When the last restart happened (decision time plus its delay), in ms. */
  lastRestartAt?: number;
}

/** The outcome of {@link nextBackoff}. */
export interface NextBackoff {
  /** How long to wait before restarting. */
  delayMs: number;
  /** The attempt (0-based) this delay was computed for. */
  attempt: number;
  /** The state to keep for the next restart. */
  state: BackoffState;
}

/** A backoff state with no restarts behind it. */
export const INITIAL_BACKOFF_STATE: BackoffState = Object.freeze({ attempt: 0 });

/**
 * The delay of the next restart, decided at `now`, and the state to keep.
 * If the last restart happened at least `resetAfterMs` ago (or never), the
 * attempt count starts again at 0. With no backoff configured (`spec`
 * null or undefined) every delay is 0, the attempt is always 0 and `random`
 * is not called.
 *
 * @example
 * let s = INITIAL_BACKOFF_STATE;
 * const r = nextBackoff(s, spec, clock.now(), random);
 * s = r.state; // wait r.delayMs, then restart
 */
export function nextBackoff(
  state: BackoffState,
  spec: BackoffSpec | null | undefined,
  now: number,
  random: () => number,
): NextBackoff {
  if (!spec) return { delayMs: 0, attempt: 0, state: { attempt: 0 } };
  const resetAfter = spec.resetAfterMs ?? defaultResetAfterMs(spec);
  const quiet = state.lastRestartAt === undefined || now - state.lastRestartAt >= resetAfter;
  const attempt = quiet ? 0 : state.attempt;
  const delayMs = backoffDelay(spec, attempt, random);
  return { delayMs, attempt, state: { attempt: attempt + 1, lastRestartAt: now + delayMs } };
}

/**
 * A deterministic generator of numbers in [0, 1) (mulberry32), for tests and
 * chaos schedules that must replay exactly.
 *
 * @example
 * const random = seededRandom(42);
 * random(); // the same first number on every run
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
