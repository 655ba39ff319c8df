// MemoryOptions with defaults merged and every field checked once, up front;
// a bad field fails with InvalidConfigError naming it.

import { systemClock, type Clock } from "../clock.js";
import { InvalidConfigError } from "../errors.js";
import { KV_WRITE_HEADER_BYTES } from "./kv-publish.js";
import { DEFAULT_RETRY } from "./retry.js";
import type { MemoryOptions } from "./types.js";

/** MemoryOptions after defaults: every field present and valid. */
export interface ResolvedMemoryOptions {
  readonly cache: { readonly maxEntries: number; readonly maxBytes: number };
  readonly history: number;
  readonly maxValueBytes: number;
  readonly clock: Clock;
  readonly retry: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
  readonly timeoutMs: number;
}

export const MEMORY_DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  history: 5,
  maxValueBytes: 1024 * 1024,
  timeoutMs: 5000,
} as const;

/** The most revisions per key JetStream keeps. */
const MAX_HISTORY = 64;

/**
 * Merge defaults into `options` and check them. `maxPayload` is the server's max_payload
 * when known: a value and the headers of its write must fit in it together, so
 * maxValueBytes may be at most max_payload less KV_WRITE_HEADER_BYTES, and defaults to
 * 1 MiB or that, whichever is smaller.
 */
export function resolveMemoryOptions(options: MemoryOptions = {}, maxPayload?: number): ResolvedMemoryOptions {
  const maxEntries = int("cache.maxEntries", options.cache?.maxEntries ?? MEMORY_DEFAULTS.maxEntries, 0);
  const maxBytes = int("cache.maxBytes", options.cache?.maxBytes ?? MEMORY_DEFAULTS.maxBytes, 1);
  const history = int("history", options.history ?? MEMORY_DEFAULTS.history, 1);
  if (history > MAX_HISTORY) throw new InvalidConfigError("history", `must be at most ${MAX_HISTORY}, got ${history}`);
  const ceiling = maxPayload !== undefined && maxPayload > 0 ? maxPayload - KV_WRITE_HEADER_BYTES : undefined;
  const fallback = Math.max(1, Math.min(MEMORY_DEFAULTS.maxValueBytes, ceiling ?? MEMORY_DEFAULTS.maxValueBytes));
  const maxValueBytes = int("maxValueBytes", options.maxValueBytes ?? fallback, 1);
  if (ceiling !== undefined && maxValueBytes > ceiling) {
    throw new InvalidConfigError(
      "maxValueBytes",
      `${maxValueBytes} exceeds ${ceiling}, the largest value the server takes (its max_payload of ${maxPayload} bytes less ${KV_WRITE_HEADER_BYTES} for the headers of a write)`,
    );
  }
  const attempts = int("retry.attempts", options.retry?.attempts ?? DEFAULT_RETRY.attempts, 1);
  const minMs = int("retry.minMs", options.retry?.minMs ?? DEFAULT_RETRY.minMs, 0);
  const maxMs = int("retry.maxMs", options.retry?.maxMs ?? Math.max(DEFAULT_RETRY.maxMs, minMs), 0);
  if (maxMs < minMs) throw new InvalidConfigError("retry.maxMs", `must be at least retry.minMs (${minMs}), got ${maxMs}`);
  const timeoutMs = int("timeoutMs", options.timeoutMs ?? MEMORY_DEFAULTS.timeoutMs, 1);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== "function" || typeof clock.sleep !== "function" || typeof clock.setTimeout !== "function") {
    throw new InvalidConfigError("clock", "must implement now(), setTimeout(), clearTimeout() and sleep()");
  }
  return {
    cache: { maxEntries, maxBytes },
    history,
    maxValueBytes,
    clock,
    retry: { attempts, minMs, maxMs },
    timeoutMs,
  };
}

function int(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new InvalidConfigError(field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}
