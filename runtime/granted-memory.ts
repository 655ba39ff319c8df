// An agent's shared memory as its type's `can.memory` allows: reads (get,
// history, keys, watch) of granted keys, writes (put, create, update, delete;
// modify, which reads too, needs both) of granted keys, in the shared bucket
// and in named buckets. Over a pattern (keys, watch, history) wider than the
// grant, only granted keys come back; a pattern the grant does not touch at all
// is refused. A refusal is the error `refuse` makes (counted, reported).

import { GrantOperation, type AgentGrant, type KeyGrant } from "./agent-grant.js";
import { validateKey, validatePattern } from "./memory/keys.js";
import type { GetOptions, HistoryOptions, Memory, MemoryBucket, MemoryChange, MemoryEntry, MemoryValue, MemoryWatch, ModifyOptions } from "./memory/types.js";

/** Makes the error for a refused operation on `target` (`bucket:key`), and records it. */
export type Refuse = (operation: GrantOperation, target: string) => Error;

/**
 * `memory` limited to what `grant` allows. `close()` does nothing, like the
 * writer view it usually wraps.
 */
export function grantedMemory(memory: Memory, grant: AgentGrant, refuse: Refuse): Memory {
  return new GrantedMemory(memory, grant, refuse);
}

class GrantedBucket implements MemoryBucket {
  constructor(
    protected readonly inner: MemoryBucket,
    /** The bucket's name in the grant: undefined for the shared bucket. */
    private readonly grantName: string | undefined,
    protected readonly grant: AgentGrant,
    protected readonly refuse: Refuse,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async get<T = unknown>(key: string, options?: GetOptions): Promise<MemoryValue<T> | undefined> {
    this.check(this.grant.read, GrantOperation.MemoryRead, validateKey(key));
    return this.inner.get<T>(key, options);
  }

  keys(pattern = ">"): AsyncIterable<string> {
    this.checkPattern(validatePattern(pattern));
    return this.filtered(this.inner.keys(pattern), (key) => key);
  }

  history<T = unknown>(key: string, options?: HistoryOptions): AsyncIterable<MemoryEntry<T>> {
    this.checkPattern(validatePattern(key));
    return this.filtered(this.inner.history<T>(key, options), (e) => e.key);
  }

  watch<T = unknown>(pattern = ">"): MemoryWatch<T> {
    this.checkPattern(validatePattern(pattern));
    return new GrantedWatch(this.inner.watch<T>(pattern), (key) => this.grant.read.allows(this.grantName, key));
  }

  async put(key: string, value: unknown): Promise<number> {
    this.check(this.grant.write, GrantOperation.MemoryWrite, validateKey(key));
    return this.inner.put(key, value);
  }

  async create(key: string, value: unknown): Promise<number> {
    this.check(this.grant.write, GrantOperation.MemoryWrite, validateKey(key));
    return this.inner.create(key, value);
  }

  async update(key: string, value: unknown, revision: number): Promise<number> {
    this.check(this.grant.write, GrantOperation.MemoryWrite, validateKey(key));
    return this.inner.update(key, value, revision);
  }

  async modify<T = unknown>(key: string, fn: (current: T | undefined) => T | Promise<T>, options?: ModifyOptions): Promise<MemoryValue<T>> {
    this.check(this.grant.write, GrantOperation.MemoryWrite, validateKey(key));
    this.check(this.grant.read, GrantOperation.MemoryRead, key);
    return this.inner.modify<T>(key, fn, options);
  }

  async delete(key: string): Promise<number> {
    this.check(this.grant.write, GrantOperation.MemoryWrite, validateKey(key));
    return this.inner.delete(key);
  }

  private check(keys: KeyGrant, operation: GrantOperation, key: string): void {
    if (!keys.allows(this.grantName, key)) throw this.refuse(operation, `${this.inner.name}:${key}`);
  }

  /** A read over a pattern: refused when no granted key can match it. */
  private checkPattern(pattern: string): void {
    if (!this.grant.read.overlaps(this.grantName, pattern)) throw this.refuse(GrantOperation.MemoryRead, `${this.inner.name}:${pattern}`);
  }

  private async *filtered<X>(source: AsyncIterable<X>, keyOf: (x: X) => string): AsyncGenerator<X> {
    for await (const x of source) if (this.grant.read.allows(this.grantName, keyOf(x))) yield x;
  }
}

class GrantedMemory extends GrantedBucket implements Memory {
  /** Views of the named buckets this agent used; they go with the view. */
  private readonly named = new Map<string, GrantedBucket>();

  constructor(
    private readonly memory: Memory,
    grant: AgentGrant,
    refuse: Refuse,
  ) {
    super(memory, undefined, grant, refuse);
  }

  bucket(name: string): MemoryBucket {
    let b = this.named.get(name);
    if (b === undefined) {
      b = new GrantedBucket(this.memory.bucket(name), name, this.grant, this.refuse);
      this.named.set(name, b);
    }
    return b;
  }

  async close(): Promise<void> {}
}

/** A watch that passes on only the changes of granted keys. */
class GrantedWatch<T> implements MemoryWatch<T> {
  readonly ready: Promise<void>;

  constructor(
    private readonly inner: MemoryWatch<T>,
    private readonly allows: (key: string) => boolean,
  ) {
    this.ready = inner.ready;
  }

  async next(): Promise<IteratorResult<MemoryChange<T>>> {
    for (;;) {
      const r = await this.inner.next();
      if (r.done === true || this.allows(r.value.key)) return r;
    }
  }

  async return(value?: unknown): Promise<IteratorResult<MemoryChange<T>>> {
    if (this.inner.return) return this.inner.return(value);
    this.inner.stop();
    return { done: true, value: undefined };
  }

  stop(): void {
    this.inner.stop();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
