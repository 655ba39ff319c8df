// One shared-memory bucket: reads through the coherent cache, writes with
// compare-and-set, keys, history and watches, over a JetStream KV bucket that is
// created (or opened) on first use. Under a client (`readsCreate` false) a read
// never creates the bucket: it fails with BucketNotFoundError instead.
//
// Staleness bound: while this node is connected and the bucket's watch is live
// and caught up, a cached read lags the server by at most the watch's delivery
// latency (the time the server takes to push a committed change to this node),
// and a node always reads its own writes: once put/create/update/delete/modify
// returns, get() answers with that revision or a newer one. While disconnected,
// or while the watch is re-arming and catching up, reads bypass the cache and go
// to the server. A connection that dies silently is noticed by the client's
// pings (pingInterval x maxPingOut); until then the watch's latency is unbounded,
// so keep pingInterval short where this matters.
//
// Writes carry a message id reused across retries, so a write retried after a
// timeout is deduplicated by the server (within its 2-minute window) instead of
// being applied twice or failing its own compare-and-set. Each write names its
// writer (the Memory's, or the one a writer view passes); history() reads it back.
//
// Size: a value larger than maxValueBytes, or than the server's current
// max_payload less the write's headers, fails with ValueTooLargeError before it
// is sent; a bucket whose own max value size (set by whoever created it) is
// smaller refuses it on the server, and that refusal becomes ValueTooLargeError too.

import { Bucket, type KV, type KvEntry, type Kvm } from "@nats-io/kv";
import { nuid } from "@nats-io/transport-node";
import { BucketNotFoundError, InvalidArgumentError, KeyExistsError, RevisionConflictError, ValueTooLargeError } from "../errors.js";
import { BucketWatch } from "./bucket-watch.js";
import { ChangeFeed, toMemoryChange } from "./change-feed.js";
import { isMessageTooLarge, isWrongLastSequence } from "./jetstream-errors.js";
import { openExistingKv } from "./kv-existing.js";
import { checkStream } from "../namespace-streams.js";
import { bucketStream } from "../subjects.js";
import { openHistory } from "./kv-history.js";
import { KV_WRITE_HEADER_BYTES, publishToKey } from "./kv-publish.js";
import { validateKey, validatePattern } from "./keys.js";
import { MemoryCache, MISS } from "./memory-cache.js";
import type { ResolvedMemoryOptions } from "./options.js";
import { withJetStreamRetry } from "./retry.js";
import {
  MemoryOp,
  type GetOptions,
  type MemoryBucket,
  type HistoryOptions,
  type MemoryEntry,
  type MemoryValue,
  type MemoryWatch,
  type ModifyOptions,
} from "./types.js";
import { decodeMemoryValue, encodeMemoryValue } from "./value.js";

/** What a bucket needs from the Memory that owns it. */
export interface BucketContext {
  readonly kvm: Kvm;
  readonly options: ResolvedMemoryOptions;
  /** Whether the connection is up right now. */
  connected(): boolean;
  /** Whether the Memory was closed. */
  closed(): boolean;
  /** The connected server's max_payload, when known (it may change on reconnect). */
  maxPayload(): number | undefined;
  /** Whether a read may create a missing bucket (a node's memory); false for a client's. */
  readonly readsCreate: boolean;
  /** Who the writes are recorded as, unless a write names its own writer (checked). */
  readonly writer: string | undefined;
}

/** The header JetStream KV marks deletes with. */
const DEFAULT_MODIFY_ATTEMPTS = 100;

export class MemoryBucketImpl implements MemoryBucket {
  readonly cache: MemoryCache;
  private readonly feed = new ChangeFeed();
  private kv: Bucket | undefined;
  private opening: Promise<Bucket> | undefined;
  private bucketWatch: BucketWatch | undefined;
  /** Highest revision this node has written or read: a watch opened now starts after it. */
  private known = 0;

  constructor(
    readonly name: string,
    private readonly ctx: BucketContext,
  ) {
    this.cache = new MemoryCache(ctx.options.cache);
  }

  /** The bucket's watch, once the bucket was used (for tests and diagnostics). */
  get watcher(): BucketWatch | undefined {
    return this.bucketWatch;
  }

  /**
   * The value under `key`, from the cache when it can answer, else from the server.
   * Cached values are shared: treat them as immutable.
   */
  async get<T = unknown>(key: string, options?: GetOptions): Promise<MemoryValue<T> | undefined> {
    const cache = this.cache;
    if (cache.trusted && options?.fresh !== true) {
      const hit = cache.lookup(key);
      if (hit !== MISS) return hit as MemoryValue<T> | undefined;
    }
    return this.fetch<T>(key);
  }

  /** Store a value, recorded as written by `writer` (default: this memory's writer). */
  async put(key: string, value: unknown, writer = this.ctx.writer): Promise<number> {
    validateKey(key);
    const bytes = encodeMemoryValue(key, value, this.valueLimit());
    const kv = await this.open();
    return this.tracked(key, bytes, () => this.publish("put", kv, key, bytes, writer));
  }

  async create(key: string, value: unknown, writer = this.ctx.writer): Promise<number> {
    validateKey(key);
    const bytes = encodeMemoryValue(key, value, this.valueLimit());
    const kv = await this.open();
    return this.tracked(key, bytes, () => this.createIn(kv, key, bytes, writer));
  }

  async update(key: string, value: unknown, revision: number, writer = this.ctx.writer): Promise<number> {
    validateKey(key);
    checkRevision(revision);
    const bytes = encodeMemoryValue(key, value, this.valueLimit());
    const kv = await this.open();
    return this.tracked(key, bytes, () => this.updateIn(kv, key, bytes, revision, writer));
  }

  async delete(key: string, writer = this.ctx.writer): Promise<number> {
    validateKey(key);
    const kv = await this.open();
    return this.tracked(key, undefined, () => this.publish("delete", kv, key, new Uint8Array(0), writer, undefined, true));
  }

  async modify<T = unknown>(
    key: string,
    fn: (current: T | undefined) => T | Promise<T>,
    options: ModifyOptions = {},
    writer = this.ctx.writer,
  ): Promise<MemoryValue<T>> {
    validateKey(key);
    const attempts = options.attempts ?? DEFAULT_MODIFY_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw new InvalidArgumentError("attempts", `modify attempts must be an integer >= 1, got ${attempts}`);
    }
    const kv = await this.open();
    let current = await this.get<T>(key);
    for (let attempt = 1; ; attempt++) {
      const next = await fn(current?.value);
      const bytes = encodeMemoryValue(key, next, this.valueLimit());
      try {
        const expected = current?.revision;
        const revision = await this.tracked(key, bytes, () =>
          expected === undefined ? this.createIn(kv, key, bytes, writer) : this.updateIn(kv, key, bytes, expected, writer),
        );
        return { value: next, revision };
      } catch (err) {
        if (!(err instanceof RevisionConflictError || err instanceof KeyExistsError)) throw err;
        if (attempt >= attempts) {
          throw new RevisionConflictError(key, current?.revision ?? 0, { cause: err });
        }
      }
      // Lost the race: spread contenders out a little, then read the winner's value from the server.
      if (attempt > 1) await this.ctx.options.clock.sleep(Math.random() * Math.min(25, 2 ** attempt));
      current = await this.fetch<T>(key);
    }
  }

  keys(pattern = ">"): AsyncIterable<string> {
    validatePattern(pattern);
    return this.iterateKeys(pattern);
  }

  /**
   * Revisions of `key` (or of every key matching a pattern) still kept, oldest first;
   * with `latest`, only each key's last one.
   * An entry whose value does not decode has `value` undefined and `error` set.
   */
  history<T = unknown>(key: string, options: HistoryOptions = {}): AsyncIterable<MemoryEntry<T>> {
    validatePattern(key);
    return this.iterateHistory(key, options.latest === true) as AsyncIterable<MemoryEntry<T>>;
  }

  /**
   * Changes to keys matching `pattern`, from now on (await `ready` to be sure the watch
   * is live), coalesced when a key changes faster than this node reads (see MemoryWatch;
   * `missed` counts what went by). Values are decoded once and shared by every watch:
   * treat them as immutable. Changes queue without bound while the consumer does not pull them.
   */
  watch<T = unknown>(pattern = ">"): MemoryWatch<T> {
    validatePattern(pattern);
    const ready = this.open(false).then(() => undefined);
    const w = this.feed.open<T>(pattern, Math.max(this.known, this.cache.position), ready);
    if (this.ctx.closed()) w.stop();
    return w;
  }

  /** Connection lost: bypass the cache until the watch is re-armed and caught up. */
  disconnected(): void {
    if (this.bucketWatch) this.bucketWatch.disconnected();
    else this.cache.distrust();
  }

  /** Connection back: re-arm the watch. */
  reconnected(): void {
    this.bucketWatch?.reconnected();
  }

  /** Stop the watch and end callers' watches. */
  async close(): Promise<void> {
    this.feed.closeAll();
    this.cache.distrust();
    await this.bucketWatch?.close();
  }

  // ---- internals --------------------------------------------------------------

  /** Read from the server, installing the answer in the cache when it is still current. */
  private async fetch<T>(key: string): Promise<MemoryValue<T> | undefined> {
    validateKey(key);
    const kv = await this.open(false);
    const ticket = this.cache.begin(key);
    try {
      const e: KvEntry | null = await this.retry("get", key, () => kv.get(key));
      if (e === null) {
        this.cache.installAbsent(ticket);
        return undefined;
      }
      this.note(e.revision);
      if (e.operation !== "PUT") {
        this.cache.install(ticket, e.revision);
        return undefined;
      }
      // Copy: the entry's bytes are a view into the connection's read buffer.
      const bytes = e.value.slice();
      const hit: MemoryValue = { value: decodeMemoryValue(key, bytes), revision: e.revision };
      this.cache.install(ticket, e.revision, bytes, hit);
      return hit as MemoryValue<T>;
    } finally {
      this.cache.end(ticket);
    }
  }

  /** Run a write of `key`, then install what it wrote (`bytes`, or absent for a delete). */
  private async tracked(key: string, bytes: Uint8Array | undefined, write: () => Promise<number>): Promise<number> {
    const ticket = this.cache.begin(key);
    try {
      const revision = await write();
      this.note(revision);
      this.cache.install(ticket, revision, bytes);
      return revision;
    } finally {
      this.cache.end(ticket);
    }
  }

  /** Largest value a write may carry now: maxValueBytes, or the server's max_payload less the headers. */
  private valueLimit(): number {
    const payload = this.ctx.maxPayload();
    const limit = this.ctx.options.maxValueBytes;
    return payload !== undefined && payload > 0 ? Math.max(0, Math.min(limit, payload - KV_WRITE_HEADER_BYTES)) : limit;
  }

  /** The server refused `bytes` as too large: name the bucket's real limit (its max_msg_size, or max_payload). */
  private async tooLarge(kv: Bucket, key: string, bytes: Uint8Array, cause: unknown): Promise<ValueTooLargeError> {
    let limit = this.valueLimit();
    try {
      const max = (await kv.status()).maxValueSize;
      if (typeof max === "number" && max > 0) limit = Math.max(0, Math.min(limit, max - KV_WRITE_HEADER_BYTES));
    } catch {
      // The limit is only for the message; the refusal stands either way.
    }
    return new ValueTooLargeError(key, bytes.byteLength, limit, { cause });
  }

  private note(revision: number): void {
    if (revision > this.known) this.known = revision;
  }

  private async createIn(kv: Bucket, key: string, bytes: Uint8Array, writer: string | undefined): Promise<number> {
    try {
      return await this.publish("create", kv, key, bytes, writer, 0);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      // A deleted key may be created again: only over its delete marker, though.
      const last = await this.retry("create", key, () => kv.get(key));
      if (last === null || last.operation === "PUT") throw new KeyExistsError(key, { cause: err });
      try {
        return await this.publish("create", kv, key, bytes, writer, last.revision);
      } catch (again) {
        if (isWrongLastSequence(again)) throw new KeyExistsError(key, { cause: again });
        throw again;
      }
    }
  }

  private async updateIn(kv: Bucket, key: string, bytes: Uint8Array, revision: number, writer: string | undefined): Promise<number> {
    try {
      return await this.publish("update", kv, key, bytes, writer, revision);
    } catch (err) {
      if (isWrongLastSequence(err)) throw new RevisionConflictError(key, revision, { cause: err });
      throw err;
    }
  }

  /**
   * Publish to the key's subject, with a message id kept across retries (server-side
   * deduplication makes the retry idempotent), the writer, an optional expected last
   * revision, and the delete marker header for deletes. Returns the revision written.
   */
  private publish(
    op: string,
    kv: Bucket,
    key: string,
    bytes: Uint8Array,
    writer: string | undefined,
    expectRevision?: number,
    isDelete = false,
  ): Promise<number> {
    const msgID = nuid.next();
    return this.retry(op, key, () => publishToKey(kv, key, bytes, { msgID, expectRevision, isDelete, writer })).catch(
      async (err: unknown) => {
        throw isMessageTooLarge(err) ? await this.tooLarge(kv, key, bytes, err) : err;
      },
    );
  }

  private async *iterateKeys(pattern: string): AsyncGenerator<string> {
    const kv = await this.open(false);
    const it = await this.retry("keys", pattern, () => kv.keys(pattern));
    yield* it;
  }

  private async *iterateHistory(key: string, latest: boolean): AsyncGenerator<MemoryEntry> {
    const kv = await this.open(false);
    const it = await this.retry("history", key, () => openHistory(kv, key, latest));
    for await (const { entry: e, writer } of it) {
      const put = e.operation === "PUT";
      yield toMemoryChange({
        key: e.key,
        revision: e.revision,
        op: put ? MemoryOp.Put : MemoryOp.Delete,
        created: e.created,
        bytes: put ? e.value.slice() : undefined,
        writer,
      });
    }
  }

  /**
   * Create or open the KV bucket and start its watch, once; a failure lets the next call try again.
   * With `create` false (a read) and a context whose reads do not create, a missing bucket is a
   * BucketNotFoundError, and the next read looks again.
   */
  private open(create = true): Promise<Bucket> {
    if (this.kv !== undefined) return Promise.resolve(this.kv);
    if (!create && !this.ctx.readsCreate) return this.openExisting();
    return this.openWith(() => this.createOrOpen());
  }

  private async openExisting(): Promise<Bucket> {
    const found = await this.retry("open", this.name, () => openExistingKv(this.ctx.kvm, this.name));
    if (found === undefined) throw new BucketNotFoundError(this.name);
    return this.openWith(async () => found);
  }

  private openWith(get: () => Promise<KV>): Promise<Bucket> {
    this.opening ??= this.openOnce(get).catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async openOnce(get: () => Promise<KV>): Promise<Bucket> {
    const kv = await this.retry("open", this.name, get);
    if (!(kv instanceof Bucket)) throw new TypeError(`@nats-io/kv returned an unexpected bucket type for ${this.name}`);
    // A bucket made by someone else (capturing other subjects, or copying writes elsewhere) is not used.
    checkStream((await this.retry("open", this.name, () => kv.status())).streamInfo.config, bucketStream(this.name));
    if (!this.ctx.closed()) {
      const { options } = this.ctx;
      this.bucketWatch = new BucketWatch({
        kv,
        cache: this.cache,
        feed: this.feed,
        clock: options.clock,
        retry: options.retry,
        connected: () => this.ctx.connected(),
      });
      await this.bucketWatch.start();
    }
    this.kv = kv;
    return kv;
  }

  private async createOrOpen(): Promise<KV> {
    const opts = { history: this.ctx.options.history };
    try {
      return await this.ctx.kvm.create(this.name, opts);
    } catch (err) {
      // Another node created it between our lookup and our create: it exists now.
      if (err instanceof Error && /already in use/i.test(err.message)) return this.ctx.kvm.create(this.name, opts);
      throw err;
    }
  }

  private retry<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    const { clock, retry } = this.ctx.options;
    return withJetStreamRetry(`${op} "${key}" in ${this.name}`, fn, { clock, ...retry });
  }
}

function checkRevision(revision: number): void {
  if (!Number.isSafeInteger(revision) || revision < 1) {
    throw new InvalidArgumentError("revision", `revision must be a positive integer, got ${String(revision)}`);
  }
}
