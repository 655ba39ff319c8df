// Retrying JetStream calls through leader elections, restarts and timeouts.
// Shared by memory and persisted agent state: a transient failure is retried
// with exponential backoff and jitter; when the attempts run out the caller
// gets one MemoryUnavailableError carrying the last failure as its cause.
// Logical failures (wrong last sequence, key exists, ...) pass straight through.

import type { Clock } from "../clock.js";
import { MemoryUnavailableError } from "../errors.js";
import { isTransientJetStreamError } from "./jetstream-errors.js";

/** How hard {@link withJetStreamRetry} tries. */
export interface JetStreamRetryOptions {
  /** Where the backoff sleeps come from. */
  clock: Clock;
  /** Total attempts, the first one included (>= 1). */
  attempts: number;
  /** First backoff delay, ms. */
  minMs: number;
  /** Largest backoff delay, ms. */
  maxMs: number;
}

/**
 * Default retry policy: 24 attempts, 50 ms doubling to at most 500 ms (about 10 s of waiting in all, more
 * with each attempt's own timeout). It outlasts a JetStream leader election (5-7 s measured on a 3-server
 * cluster), and trying every half second resumes within half a second of the election's end.
 */
export const DEFAULT_RETRY = { attempts: 24, minMs: 50, maxMs: 500 } as const;

/**
 * Backoff before retry number `retry` (0-based): `minMs * 2^retry`, capped at `maxMs`,
 * with "equal jitter" (a random point in the upper half) so retrying nodes spread out.
 */
export function backoffDelay(retry: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(retry, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Run `fn`, retrying it while it fails with a transient JetStream error
 * ({@link isTransientJetStreamError}). Any other error is rethrown at once, unchanged.
 * After `attempts` transient failures, throws MemoryUnavailableError(operation) with the
 * last failure as `cause`.
 *
 * @example
 * const rev = await withJetStreamRetry("put", () => kv.put(key, bytes), { clock, attempts: 5, minMs: 50, maxMs: 1000 });
 */
export async function withJetStreamRetry<T>(
  operation: string,
  fn: () => Promise<T>,
  opts: JetStreamRetryOptions,
): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.attempts));
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await opts.clock.sleep(backoffDelay(attempt - 1, opts.minMs, opts.maxMs));
    try {
      return await fn();
    } catch (err) {
      if (!isTransientJetStreamError(err)) throw err;
      last = err;
    }
  }
  throw new MemoryUnavailableError(operation, attempts, { cause: last });
}
