// The shapes of shared memory as callers see them: a read-only bucket, the full
// bucket, the Memory of a namespace, and the values, entries and changes they
// return. Capabilities are split by type: code handed a ReadonlyMemoryBucket
// can read and watch, never write.

import type { Clock } from "../clock.js";
import type { ValueDecodeError } from "../errors.js";

/** What happened to a key: a value was put, or the key was deleted (or purged). */
export const MemoryOp = { Put: "put", Delete: "delete" } as const;
export type MemoryOp = (typeof MemoryOp)[keyof typeof MemoryOp];

/**
 * A key's current value and the revision that wrote it. Values read from the cache are
 * shared between callers: treat them as immutable (copy before changing).
 */
export interface MemoryValue<T = unknown> {
  readonly value: T;
  readonly revision: number;
}

/**
 * One revision of a key, from history() or watch(). For a delete, `value` is undefined.
 * When the stored bytes do not decode, `value` is undefined and `error` says why
 * (a ValueDecodeError naming the key); iteration carries on with the next entry.
 */
export interface MemoryEntry<T = unknown> {
  readonly key: string;
  readonly value: T | undefined;
  readonly revision: number;
  readonly op: MemoryOp;
  readonly created: Date;
  readonly error?: ValueDecodeError;
  /**
   * Who wrote this revision, as the writing runtime stated it: an agent id (`type/key`,
   * through `ctx.memory`), `client:<name>` (a light client, agentctl) or `node:<id>`
   * (`node.memory`). Set on history() entries; undefined for a write made without Troupe
   * (the nats CLI, another KV client) and on watch() changes. Trust it as far as you trust
   * the writer's credential: server permissions decide who may write at all, not what a
   * writer says it is.
   */
  readonly writer?: string;
}

/** A change seen by watch(): the fields of a history entry, and how many revisions went by unseen. */
export interface MemoryChange<T = unknown> extends MemoryEntry<T> {
  /**
   * Revisions of the bucket, between the change this watch delivered before (or its start)
   * and this one, that the bucket had already removed when this node read it: 0 when the
   * watch saw every revision in between. They may have changed other keys than the watch's.
   */
  readonly missed: number;
}

/**
 * A running watch. Iterate it with `for await`; breaking out (or calling stop())
 * ends it. It starts after the changes this node already knew of when watch() was
 * called; `ready` resolves once the bucket's watch is live. Changes arrive once each,
 * in revision order, across reconnects (the watch resumes from the last revision it
 * saw), and the latest revision of every key arrives.
 *
 * Coalesced: a key keeps only its last `history` revisions, so when it is rewritten
 * faster than the server pushes changes to this node, or while the node is
 * disconnected, older revisions can be gone before the watch reads them. Those are
 * skipped, and the next change delivered says how many revisions went by unseen
 * (`missed`). Watch for the latest value; do not count on seeing every revision.
 */
export interface MemoryWatch<T = unknown> extends AsyncIterableIterator<MemoryChange<T>> {
  readonly ready: Promise<void>;
  stop(): void;
}

/** Options of {@link ReadonlyMemoryBucket.history}. */
export interface HistoryOptions {
  /** Only each key's latest revision, instead of every kept one. Default false. */
  latest?: boolean;
}

/** Options of {@link ReadonlyMemoryBucket.get}. */
export interface GetOptions {
  /** Read from the server, bypassing the cache (the answer is then installed in it). */
  fresh?: boolean;
}

/** Options of {@link MemoryBucket.modify}. */
export interface ModifyOptions {
  /** Compare-and-set attempts before giving up with RevisionConflictError; default 100. */
  attempts?: number;
}

/** Reading and watching a bucket. */
export interface ReadonlyMemoryBucket {
  /** The bucket's KV name, e.g. `troupe_default_mem_facts`. */
  readonly name: string;
  /**
   * The value under `key` and its revision, or undefined when there is none (or it was
   * deleted). Answered from the cache when it is trusted (see the staleness bound in
   * memory-bucket.ts); `{ fresh: true }` asks the server.
   */
  get<T = unknown>(key: string, options?: GetOptions): Promise<MemoryValue<T> | undefined>;
  /** Keys that currently hold a value, optionally filtered by a pattern (`user.>`, `user.*.name`). */
  keys(pattern?: string): AsyncIterable<string>;
  /**
   * Revisions of a key (or of every key matching a pattern) still kept by the bucket, oldest first;
   * with `{ latest: true }` only each key's latest one (a delete marker for a deleted key).
   */
  history<T = unknown>(key: string, options?: HistoryOptions): AsyncIterable<MemoryEntry<T>>;
  /**
   * Changes to keys matching `pattern` (default: all) made after this call, in revision
   * order; intermediate revisions of a fast-changing key may be coalesced ({@link MemoryWatch}).
   */
  watch<T = unknown>(pattern?: string): MemoryWatch<T>;
}

/** The full bucket: reads, writes, compare-and-set. */
export interface MemoryBucket extends ReadonlyMemoryBucket {
  /** Store a value; returns its revision. */
  put(key: string, value: unknown): Promise<number>;
  /** Store a value only if the key has none (or was deleted); KeyExistsError otherwise. */
  create(key: string, value: unknown): Promise<number>;
  /** Store a value only if the key is still at `revision`; RevisionConflictError otherwise. */
  update(key: string, value: unknown, revision: number): Promise<number>;
  /**
   * Compare-and-set loop: read the value, compute the next one with `fn`, write it if
   * nobody wrote in between, else read again and retry. `fn` may run more than once.
   *
   * @example
   * await counters.modify<number>("visits", (n) => (n ?? 0) + 1);
   */
  modify<T = unknown>(
    key: string,
    fn: (current: T | undefined) => T | Promise<T>,
    options?: ModifyOptions,
  ): Promise<MemoryValue<T>>;
  /** Delete a key (a delete marker is kept in its history); returns the marker's revision. */
  delete(key: string): Promise<number>;
}

/** A namespace's shared memory: the default bucket, plus named buckets. */
export interface Memory extends MemoryBucket {
  /**
   * The named bucket `troupe_<ns>_mem_<name>`, created on first use; the same object for the
   * same name. A name is 1-128 lowercase letters, digits or `-` (InvalidKeyError otherwise).
   */
  bucket(name: string): MemoryBucket;
  /** Stop every watch and the cache's bookkeeping. Reads and writes still work afterwards, uncached. */
  close(): Promise<void>;
}

/** Configuration of {@link openMemory}. Plain data; defaults are merged and checked once. */
export interface MemoryOptions {
  cache?: {
    /** Most entries kept; default 10_000. 0 turns the cache off. */
    maxEntries?: number;
    /** Most bytes kept (encoded value + key + bookkeeping); default 64 MiB. */
    maxBytes?: number;
  };
  /** Revisions kept per key when a bucket is created; default 5. */
  history?: number;
  /**
   * Largest encoded value, bytes; default 1 MiB, or less when the server's max_payload is
   * smaller. At most the server's max_payload less 384 bytes (a write's headers count
   * against max_payload too). A bucket created elsewhere with a smaller max value size
   * lowers the limit for that bucket. A larger value fails with ValueTooLargeError.
   */
  maxValueBytes?: number;
  /** Time source for backoff; default the system clock. */
  clock?: Clock;
  /** Retry of transient JetStream failures; default 6 attempts, 50 ms .. 2 s. */
  retry?: { attempts?: number; minMs?: number; maxMs?: number };
  /** Timeout of one JetStream request, ms; default 5000. */
  timeoutMs?: number;
}
