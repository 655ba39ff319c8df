// Fan-out of a bucket's watch to the watch() iterators of its callers. The
// bucket runs one KV watch; each caller's watch is a filter and a queue on top
// of it, so any number of them costs no extra consumers and they all see the
// same changes in the same (revision) order, re-armed across reconnects.
// Revisions the bucket removed before the watch read them are counted, and each
// change tells its watch how many went by since the change it delivered before
// (`missed`), so a caller always knows whether it saw every revision.

import type { ValueDecodeError } from "../errors.js";
import { keyMatcher } from "./keys.js";
import type { MemoryChange, MemoryEntry, MemoryOp, MemoryWatch } from "./types.js";
import { decodeMemoryValue } from "./value.js";

/** A change as the bucket's watch saw it, before decoding. */
export interface RawChange {
  readonly key: string;
  readonly revision: number;
  readonly op: MemoryOp;
  readonly created: Date;
  /** Encoded value of a put. */
  readonly bytes: Uint8Array | undefined;
  /** Who wrote it (history entries only; see MemoryEntry.writer). */
  readonly writer?: string;
}

/** Turn a raw change into what callers see; a value that does not decode becomes `error`. */
export function toMemoryChange(raw: RawChange): MemoryEntry {
  const { key, revision, op, created, bytes, writer } = raw;
  const entry: MemoryEntry =
    bytes === undefined ? { key, revision, op, created, value: undefined } : decoded(key, revision, op, created, bytes);
  return writer === undefined ? entry : { ...entry, writer };
}

function decoded(key: string, revision: number, op: MemoryOp, created: Date, bytes: Uint8Array): MemoryEntry {
  try {
    return { key, revision, op, created, value: decodeMemoryValue(key, bytes) };
  } catch (err) {
    return { key, revision, op, created, value: undefined, error: err as ValueDecodeError };
  }
}

/** The callers' watches of one bucket. */
export class ChangeFeed {
  private readonly watchers = new Set<Watcher>();
  /** Revisions removed before the bucket's watch read them, counted while any watch was open. */
  private lost = 0;

  /** Number of open watches. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Open a watch of keys matching `pattern` (validated) that skips revisions up to `after`
   * (already known to this node when the watch was opened); `ready` resolves when the
   * bucket's watch is live.
   */
  open<T>(pattern: string, after: number, ready: Promise<void>): MemoryWatch<T> {
    const w = new Watcher(keyMatcher(pattern), after, this.lost, ready, (x) => this.watchers.delete(x));
    this.watchers.add(w);
    return w as unknown as MemoryWatch<T>;
  }

  /**
   * Deliver a change to every watch whose pattern matches; decoded once, shared by all.
   * `gap` is the number of revisions just before this one that the bucket removed
   * before its watch could read them.
   */
  publish(raw: RawChange, gap = 0): void {
    if (gap > 0) this.lost += gap;
    if (this.watchers.size === 0) return;
    let change: MemoryChange | undefined;
    for (const w of this.watchers) {
      if (raw.revision <= w.after) {
        w.lostSeen = this.lost; // before the watch's start: not its to count
        continue;
      }
      if (!w.matches(raw.key)) continue;
      change ??= { ...toMemoryChange(raw), missed: 0 };
      const missed = this.lost - w.lostSeen;
      w.lostSeen = this.lost;
      w.push(missed === 0 ? change : { ...change, missed });
    }
  }

  /** End every watch (their iterators finish). */
  closeAll(): void {
    for (const w of [...this.watchers]) w.stop();
  }
}

type Waiter = { resolve: (r: IteratorResult<MemoryChange>) => void; reject: (err: unknown) => void };

class Watcher implements MemoryWatch<unknown> {
  readonly ready: Promise<void>;
  private readonly queue: MemoryChange[] = [];
  private waiter: Waiter | undefined;
  private done = false;
  private failure: unknown;

  constructor(
    readonly matches: (key: string) => boolean,
    readonly after: number,
    /** The feed's lost count when this watch last delivered a change (or opened). */
    public lostSeen: number,
    ready: Promise<void>,
    private readonly onStop: (w: Watcher) => void,
  ) {
    this.ready = ready;
    ready.catch((err: unknown) => this.fail(err));
  }

  push(change: MemoryChange): void {
    if (this.done) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: change, done: false });
    } else {
      this.queue.push(change);
    }
  }

  next(): Promise<IteratorResult<MemoryChange>> {
    const head = this.queue.shift();
    if (head !== undefined) return Promise.resolve({ value: head, done: false });
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<MemoryChange>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.onStop(this);
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.onStop(this);
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w.reject(err);
    else this.failure = err;
  }
}
