// Retrying JetStream calls through leader elections, restarts and timeouts.
// Shared by memory and persisted agent state: a transient failure is retried
// with exponential backoff and jitter; when the attempts (and the time the
// caller allows) run out the caller gets one MemoryUnavailableError carrying
// the last failure as its cause. Logical failures (wrong last sequence, key
// exists, ...) pass straight through; a refused permission becomes
// PermissionDeniedError.

import type { Clock } from "../clock.js";
import { MemoryUnavailableError } from "../errors.js";
import { asPermissionDenied } from "../auth/permission-violation.js";
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
  /**
   * Keep retrying, past `attempts`, until this long (on the clock) after the
   * first try. Default 0: the attempts alone decide.
   */
  forMs?: number;
}

/**
 * How long a leader election on a NATS cluster may keep a stream from taking
 * writes: the raft election timeout is 4 to 9 s, plus the time to notice the
 * leader is gone (a raw KV put came back 5.5 to 14 s after its stream's
 * leader was killed, on a loaded 2-core machine).
 */
export const ELECTION_MS = 15_000;

/**
 * Default retry policy: 50 ms doubling to at most 500 ms (so a write resumes
 * within half a second of an election's end), for 6 attempts and at
 * least {@link ELECTION_MS}, so the runtime's own writes (state commits,
 * registry claims, heartbeats, durable sends) outlast a leader election
 * instead of failing an activation in the middle of one.
 */
export const DEFAULT_RETRY = { attempts: 6, minMs: 50, maxMs: 500, forMs: ELECTION_MS } as const;

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
 * After `attempts` transient failures, and no sooner than `forMs` after the first try,
 * throws MemoryUnavailableError(operation) with the last failure as `cause`.
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
  const until = opts.clock.now() + Math.max(0, opts.forMs ?? 0);
  let last: unknown;
  let attempt = 0;
  for (; attempt < attempts || opts.clock.now() < until; attempt++) {
    if (attempt > 0) await opts.clock.sleep(backoffDelay(attempt - 1, opts.minMs, opts.maxMs));
    try {
      return await fn();
    } catch (err) {
      // A refused permission is no transient failure: it says so at once, as PermissionDeniedError.
      if (!isTransientJetStreamError(err)) throw asPermissionDenied(err);
      last = err;
    }
  }
  throw new MemoryUnavailableError(operation, attempt, { cause: last });
}
