// The one KV watch of a bucket, over all its keys. It keeps the cache coherent
// and feeds callers' watch() iterators. It is armed at the stream's last
// revision on first use (updates only, no history replay) and re-armed from the
// last revision it saw + 1 (`resumeFromRevision`) after a disconnect or a watch
// failure, so no change is applied twice; while it is down or catching up, the
// cache is distrusted and reads go to the server.
//
// What it cannot see: a revision the bucket removed before this node read it. A
// key keeps only its last `history` revisions, so a key rewritten faster than the
// server pushes changes to this node (or while it is disconnected) loses the
// older ones first. The watch covers every subject of the bucket's stream, so a
// jump in revision numbers is exactly the count of such removed revisions; it is
// passed on with the next change as `gap` (the latest revision of a key is never
// removed, so it always arrives).

import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { Clock } from "../clock.js";
import type { ChangeFeed } from "./change-feed.js";
import { isClosedConnection } from "./jetstream-errors.js";
import type { MemoryCache } from "./memory-cache.js";
import { backoffDelay } from "./retry.js";
import { MemoryOp } from "./types.js";

/** What a bucket watch needs from its surroundings. */
export interface BucketWatchDeps {
  readonly kv: KV;
  readonly cache: MemoryCache;
  readonly feed: ChangeFeed;
  readonly clock: Clock;
  readonly retry: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
  /** Whether the connection is up right now. */
  readonly connected: () => boolean;
}

/** State of the watch, for tests and diagnostics. */
export const WatchState = {
  Idle: "idle",
  Arming: "arming",
  CatchingUp: "catching_up",
  Live: "live",
  Down: "down",
  Closed: "closed",
} as const;
export type WatchState = (typeof WatchState)[keyof typeof WatchState];

export class BucketWatch {
  state: WatchState = WatchState.Idle;
  /** Times the watch was armed (1 after the first arm; +1 per re-arm). */
  arms = 0;
  /** The last error that stopped or prevented the watch. */
  lastError: unknown;
  private iter: QueuedIterator<KvWatchEntry> | undefined;
  private target = 0;
  /** Bumped on every disconnect: an arm that straddles one cannot be trusted. */
  private connEpoch = 0;
  /** connEpoch when the current consumer was armed. */
  private armEpoch = -1;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private firstSettled = false;
  private resolveFirst!: () => void;
  /** Resolves when the first arm succeeded, or gave up after the retry attempts (the loop keeps trying). */
  readonly firstArm: Promise<void>;

  constructor(private readonly deps: BucketWatchDeps) {
    this.firstArm = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  /** Start the watch loop (once); resolves like {@link firstArm}. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.firstArm;
  }

  /** The connection dropped: distrust the cache now and drop the watch; it re-arms on reconnect. */
  disconnected(): void {
    this.connEpoch++;
    this.deps.cache.distrust();
    this.iter?.stop();
  }

  /** The connection is back: re-arm now instead of waiting out a backoff. */
  reconnected(): void {
    this.iter?.stop();
    this.poke();
  }

  /** Stop for good; resolves when the loop has ended. */
  async close(): Promise<void> {
    if (this.state === WatchState.Closed) return;
    this.state = WatchState.Closed;
    this.deps.cache.distrust();
    this.iter?.stop();
    this.poke();
    this.settleFirst();
    await this.loop;
  }

  private get closed(): boolean {
    return this.state === WatchState.Closed;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (!this.deps.connected()) {
        this.set(WatchState.Down);
        await this.pause();
        continue;
      }
      let iter: QueuedIterator<KvWatchEntry>;
      const epoch = this.connEpoch;
      try {
        this.set(WatchState.Arming);
        iter = await this.arm(epoch);
      } catch (err) {
        this.lastError = err;
        if (isClosedConnection(err)) break;
        failures++;
        if (failures >= this.deps.retry.attempts) this.settleFirst();
        this.set(WatchState.Down);
        await this.pause(backoffDelay(failures - 1, this.deps.retry.minMs, this.deps.retry.maxMs));
        continue;
      }
      failures = 0;
      this.arms++;
      this.iter = iter;
      this.settleFirst();
      // Closed, or the connection dropped while arming: this consumer may be gone; arm again.
      if (this.closed || epoch !== this.connEpoch) iter.stop();
      try {
        for await (const e of iter) this.apply(e);
      } catch (err) {
        this.lastError = err;
      }
      this.iter = undefined;
      this.deps.cache.distrust();
      if (this.closed) break;
      this.set(WatchState.Down);
      // The consumer ended without a disconnect (deleted, stalled): give the server a moment.
      if (this.deps.connected()) await this.pause(this.deps.retry.minMs);
    }
    this.deps.cache.distrust();
    this.state = WatchState.Closed;
    this.settleFirst();
  }

  /** Create the consumer from the position + 1; trust the cache at once if there is nothing to catch up. */
  private async arm(epoch: number): Promise<QueuedIterator<KvWatchEntry>> {
    const { cache, kv } = this.deps;
    this.armEpoch = epoch;
    const { first_seq: first, last_seq: last } = (await kv.status()).streamInfo.state;
    if (this.arms === 0) {
      // First arm: updates only. Nothing is cached yet, so nothing can be stale.
      cache.clear();
      cache.position = last;
    } else if (last < cache.position) {
      // The stream was recreated: its revisions start over.
      cache.clear();
      cache.position = 0;
    } else if (first > cache.position + 1) {
      // Revisions we never saw are gone (purged, expired): we cannot tell what they changed.
      cache.clear();
    }
    this.target = last;
    const iter = await kv.watch({ key: ">", ignoreDeletes: false, resumeFromRevision: cache.position + 1 });
    if (last <= cache.position) this.caughtUp();
    else this.set(WatchState.CatchingUp);
    return iter;
  }

  private apply(e: KvWatchEntry): void {
    const { cache, feed } = this.deps;
    const revision = e.revision;
    if (revision <= cache.position) return; // replayed after a consumer reset
    // Every revision of the bucket passes this watch: a jump means revisions removed before we read them.
    const gap = revision - cache.position - 1;
    const put = e.operation === "PUT";
    // The entry's getters decode on every call: read each once.
    const key = e.key;
    // Copy: the entry's bytes are a view into the connection's read buffer.
    const bytes = put ? e.value.slice() : undefined;
    cache.applyChange(key, revision, bytes);
    // Only build the change (and its creation date) when some watch() may want it.
    if (feed.size > 0) feed.publish({ key, revision, op: put ? MemoryOp.Put : MemoryOp.Delete, created: e.created, bytes }, gap);
    if (this.state === WatchState.CatchingUp && (e.delta === 0 || revision >= this.target)) this.caughtUp();
  }

  private caughtUp(): void {
    if (this.closed || !this.deps.connected() || this.armEpoch !== this.connEpoch) return;
    this.set(WatchState.Live);
    this.deps.cache.trust();
  }

  private set(state: WatchState): void {
    if (!this.closed) this.state = state;
  }

  private settleFirst(): void {
    if (this.firstSettled) return;
    this.firstSettled = true;
    this.resolveFirst();
  }

  /** Sleep for `ms` (forever when undefined) or until poked. */
  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : this.deps.clock.setTimeout(() => done(), ms);
      const done = () => {
        if (timer !== undefined) this.deps.clock.clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  private poke(): void {
    this.wake?.();
  }
}
