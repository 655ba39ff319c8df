// A namespace's shared memory: the default bucket `troupe_<ns>_mem` and named
// buckets `troupe_<ns>_mem_<name>`, each opened lazily and once. One listener
// on the connection's status tells every bucket when the connection drops
// (stop trusting the cache) and comes back (re-arm the watch).

import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator, Status } from "@nats-io/transport-node";
import { InvalidArgumentError, InvalidKeyError } from "../errors.js";
import type { Subjects } from "../subjects.js";
import { checkWriter } from "./kv-publish.js";
import { MemoryBucketImpl, type BucketContext } from "./memory-bucket.js";
import { resolveMemoryOptions } from "./options.js";
import type { GetOptions, HistoryOptions, Memory, MemoryBucket, MemoryEntry, MemoryOptions, MemoryValue, MemoryWatch, ModifyOptions } from "./types.js";

/**
 * Open the shared memory of the namespace of `subjects` over `nc`. Nothing touches the
 * server until a bucket is first used; then its KV bucket is created (or opened) and one
 * watch per bucket keeps the read cache coherent.
 *
 * Staleness bound: while connected, a cached read lags the server by at most the watch's
 * delivery latency, and a node always reads its own writes; while disconnected (or while
 * the watch re-arms and catches up) reads bypass the cache. Details in memory-bucket.ts.
 *
 * @example
 * const memory = openMemory(nc, new Subjects("prod"));
 * const facts = memory.bucket("facts");
 * await facts.put("user.42.name", "Ada");
 * (await facts.get<string>("user.42.name"))?.value; // "Ada"
 * await memory.close();
 */
export function openMemory(nc: NatsConnection, subjects: Subjects, options?: MemoryOptions, access: MemoryAccess = {}): Memory {
  return new MemoryImpl(nc, subjects, options, access);
}

/** How a Memory may touch the server beyond its options. */
export interface MemoryAccess {
  /** Whether reads (get, keys, history, watch) create a missing bucket. Default true; a client's memory says false. */
  readsCreate?: boolean;
  /**
   * Who its writes are recorded as (history() shows it): `node:<id>` for a node's memory,
   * `client:<name>` for a client's. Letters, digits, `-`, `_`, `/` and `:`; default: nobody.
   */
  writer?: string;
}

/** @internal The Memory openMemory makes; writer views (writer-memory.ts) reach its buckets. */
export class MemoryImpl implements Memory {
  private readonly buckets = new Map<string, MemoryBucketImpl>();
  private readonly main: MemoryBucketImpl;
  private readonly ctx: BucketContext;
  private readonly stopStatus: () => void;
  private isConnected = true;
  private isClosed = false;

  constructor(
    nc: NatsConnection,
    private readonly subjects: Subjects,
    options?: MemoryOptions,
    access: MemoryAccess = {},
  ) {
    const resolved = resolveMemoryOptions(options, nc.info?.max_payload);
    const kvm = new Kvm(jetstream(nc, { timeout: resolved.timeoutMs }));
    this.ctx = {
      kvm,
      options: resolved,
      connected: () => this.isConnected && !nc.isClosed(),
      closed: () => this.isClosed,
      maxPayload: () => nc.info?.max_payload,
      readsCreate: access.readsCreate ?? true,
      writer: access.writer === undefined ? undefined : checkWriter(access.writer),
    };
    this.main = new MemoryBucketImpl(subjects.memoryBucket(), this.ctx);
    const status = nc.status();
    // nats.js returns a QueuedIterator, whose stop() ends the iteration.
    this.stopStatus = () => (status as Partial<QueuedIterator<Status>>).stop?.();
    void this.followStatus(status);
  }

  get name(): string {
    return this.main.name;
  }

  bucket(name: string): MemoryBucket {
    return this.bucketImpl(name);
  }

  /** The shared bucket (no name) or the named one, as its implementation. */
  bucketImpl(name?: string): MemoryBucketImpl {
    if (name === undefined) return this.main;
    let b = this.buckets.get(name);
    if (b === undefined) {
      b = new MemoryBucketImpl(this.bucketName(name), this.ctx);
      this.buckets.set(name, b);
    }
    return b;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopStatus();
    await Promise.all([this.main, ...this.buckets.values()].map((b) => b.close()));
  }

  get<T = unknown>(key: string, options?: GetOptions): Promise<MemoryValue<T> | undefined> {
    return this.main.get<T>(key, options);
  }
  put(key: string, value: unknown): Promise<number> {
    return this.main.put(key, value);
  }
  create(key: string, value: unknown): Promise<number> {
    return this.main.create(key, value);
  }
  update(key: string, value: unknown, revision: number): Promise<number> {
    return this.main.update(key, value, revision);
  }
  modify<T = unknown>(
    key: string,
    fn: (current: T | undefined) => T | Promise<T>,
    options?: ModifyOptions,
  ): Promise<MemoryValue<T>> {
    return this.main.modify<T>(key, fn, options);
  }
  delete(key: string): Promise<number> {
    return this.main.delete(key);
  }
  keys(pattern?: string): AsyncIterable<string> {
    return this.main.keys(pattern);
  }
  history<T = unknown>(key: string, options?: HistoryOptions): AsyncIterable<MemoryEntry<T>> {
    return this.main.history<T>(key, options);
  }
  watch<T = unknown>(pattern?: string): MemoryWatch<T> {
    return this.main.watch<T>(pattern);
  }

  private bucketName(name: string): string {
    try {
      return this.subjects.memoryBucket(name);
    } catch (err) {
      if (err instanceof InvalidArgumentError) {
        throw new InvalidKeyError(String(name), 'a bucket name uses 1-128 lowercase letters, digits or "-", starting with a letter or digit');
      }
      throw err;
    }
  }

  private async followStatus(iter: AsyncIterable<Status>): Promise<void> {
    try {
      for await (const s of iter) {
        switch (s.type) {
          case "disconnect":
            this.isConnected = false;
            for (const b of this.all()) b.disconnected();
            break;
          case "reconnect":
            this.isConnected = true;
            for (const b of this.all()) b.reconnected();
            break;
          default:
            break;
        }
      }
    } catch {
      // The status stream ends with the connection; nothing left to follow.
    }
  }

  private all(): MemoryBucketImpl[] {
    return [this.main, ...this.buckets.values()];
  }
}
