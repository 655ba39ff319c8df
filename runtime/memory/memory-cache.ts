// The read cache of one bucket: a bounded LRU of the latest known revision of
// each key (a value or "absent"), kept coherent by the bucket's watch.
//
// Rules, in one place:
// - Entries are trusted only while the watch is live and caught up (trust()).
//   distrust() (disconnect, watch failure) makes every read bypass the cache and
//   bumps the epoch, so results of operations begun before it are not installed.
// - A watch change replaces an entry only if its revision is newer; the watch's
//   position is the last revision it applied, in stream order.
// - Server reads and a node's own writes are installed only if no newer revision
//   is already there. A watch change for a key with an operation in flight
//   (begin/end) is recorded even when the key is not cached, so a read that
//   raced a newer write can never install the older value over it.
// - A result that cannot be installed (the cache was not trusted throughout)
//   still drops an older entry for its key: a write that ends while the watch is
//   re-arming may reach the watch only after the cache is trusted again, and the
//   entry it replaced must not answer meanwhile (a node reads its own writes).
// - A read that finds no key records "absent" at the watch position taken when
//   the read began: every later write has a higher revision and replaces it.
// Values are decoded on first hit and kept decoded; callers share them.

import { LRUCache } from "lru-cache";
import type { ValueDecodeError } from "../errors.js";
import type { MemoryValue } from "./types.js";
import { decodeMemoryValue } from "./value.js";

/** Returned by lookup() when the cache cannot answer. */
export const MISS: unique symbol = Symbol("memory.cache.miss");

/** Bookkeeping per entry beyond the encoded value (objects, key string, LRU links). */
const ENTRY_OVERHEAD_BYTES = 96;

interface Slot {
  readonly revision: number;
  /** Encoded value, until decoded; undefined for an absent key. */
  bytes: Uint8Array | undefined;
  /** The decoded answer once known; undefined while still encoded, or for an absent key. */
  hit: MemoryValue | undefined;
  readonly size: number;
}

/** An operation in flight on one key, from begin() to end(). */
export interface CacheTicket {
  readonly key: string;
  /** The epoch at begin(), or -1 when the cache was not trusted then. */
  readonly epoch: number;
  /** The watch position at begin(). */
  readonly position: number;
}

/** Limits of a cache; maxEntries 0 turns it off. */
export interface CacheLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export class MemoryCache {
  /** True while the watch is live and caught up; read by the hot path. */
  trusted = false;
  /** Last revision the watch applied (or the stream's last revision when it was armed). */
  position = 0;
  private epoch = 0;
  private readonly lru: LRUCache<string, Slot> | undefined;
  private readonly inFlight = new Map<string, number>();

  constructor(limits: CacheLimits) {
    this.lru =
      limits.maxEntries > 0
        ? new LRUCache<string, Slot>({
            max: limits.maxEntries,
            maxSize: limits.maxBytes,
            sizeCalculation: (slot) => slot.size,
          })
        : undefined;
  }

  /** Number of entries held (for tests and metrics). */
  get size(): number {
    return this.lru?.size ?? 0;
  }

  /**
   * The cached answer for `key`: its value, `undefined` for a key known to be absent,
   * or MISS. Call only while `trusted`. Throws ValueDecodeError (and forgets the entry)
   * when the cached bytes do not decode.
   */
  lookup(key: string): MemoryValue | undefined | typeof MISS {
    const slot = this.lru?.get(key);
    if (slot === undefined) return MISS;
    if (slot.hit !== undefined) return slot.hit;
    if (slot.bytes === undefined) return undefined;
    try {
      slot.hit = { value: decodeMemoryValue(key, slot.bytes), revision: slot.revision };
    } catch (err) {
      this.lru?.delete(key);
      throw err as ValueDecodeError;
    }
    slot.bytes = undefined;
    return slot.hit;
  }

  /** The watch is live and caught up: answer reads from the cache. */
  trust(): void {
    this.trusted = true;
  }

  /** Stop answering reads, and refuse to install results of operations already in flight. */
  distrust(): void {
    this.trusted = false;
    this.epoch++;
  }

  /** Forget every entry (the stream was reset or lost history we had not seen). */
  clear(): void {
    this.lru?.clear();
    this.epoch++;
  }

  /** Mark an operation on `key` as in flight; pair with end() in a finally. */
  begin(key: string): CacheTicket {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    return { key, epoch: this.trusted ? this.epoch : -1, position: this.position };
  }

  /** The operation of `ticket` is over. */
  end(ticket: CacheTicket): void {
    const n = (this.inFlight.get(ticket.key) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(ticket.key);
    else this.inFlight.set(ticket.key, n);
  }

  /**
   * Install what an operation learned: `bytes` (encoded) or `hit` (decoded) at `revision`,
   * or neither for an absent key. Ignored when something newer is cached; when the cache
   * was not trusted throughout the operation, the older entry is dropped instead.
   */
  install(ticket: CacheTicket, revision: number, bytes?: Uint8Array, hit?: MemoryValue): void {
    if (this.lru === undefined) return;
    const current = this.lru.peek(ticket.key);
    if (current !== undefined && current.revision >= revision) return;
    if (!this.trusted || ticket.epoch !== this.epoch) this.lru.delete(ticket.key);
    else this.lru.set(ticket.key, slot(ticket.key, revision, bytes, hit));
  }

  /** Install "absent" for a key a read did not find, at the position the read began at. */
  installAbsent(ticket: CacheTicket): void {
    this.install(ticket, ticket.position);
  }

  /**
   * Apply a change delivered by the watch (in stream order): `bytes` for a put,
   * undefined for a delete. Advances the position.
   */
  applyChange(key: string, revision: number, bytes: Uint8Array | undefined): void {
    if (revision > this.position) this.position = revision;
    if (this.lru === undefined) return;
    const current = this.lru.peek(key);
    if (current !== undefined) {
      if (current.revision >= revision) return;
    } else if (!this.inFlight.has(key)) {
      return;
    }
    this.lru.set(key, slot(key, revision, bytes, undefined));
  }
}

function slot(key: string, revision: number, bytes: Uint8Array | undefined, hit: MemoryValue | undefined): Slot {
  const size = (bytes?.byteLength ?? 0) + key.length * 2 + ENTRY_OVERHEAD_BYTES;
  return { revision, bytes: hit === undefined ? bytes : undefined, hit, size };
}
