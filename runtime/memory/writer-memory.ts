// A view of a Memory whose writes are recorded as one writer's: an agent's
// `ctx.memory` is the node's memory, seen through this, so history() shows the
// agent that wrote, not the node. Reads, watches and the cache are the node's
// (one watch per bucket however many views); the view owns nothing to close.

import { InvalidArgumentError } from "../errors.js";
import { checkWriter } from "./kv-publish.js";
import { MemoryImpl } from "./memory.js";
import type { MemoryBucketImpl } from "./memory-bucket.js";
import type { GetOptions, HistoryOptions, Memory, MemoryBucket, MemoryEntry, MemoryValue, MemoryWatch, ModifyOptions } from "./types.js";

/**
 * `memory`, with every write recorded as made by `writer` (an agent id, for
 * instance). `close()` on the view does nothing: the memory's owner closes it.
 *
 * @throws InvalidArgumentError for a writer a header cannot carry, or a Memory not made by openMemory
 */
export function memoryAs(memory: Memory, writer: string): Memory {
  if (!(memory instanceof MemoryImpl)) throw new InvalidArgumentError("memory", "a writer view needs a Memory made by openMemory");
  return new WriterMemory(memory, checkWriter(writer));
}

class WriterBucket implements MemoryBucket {
  constructor(
    protected readonly impl: MemoryBucketImpl,
    protected readonly writer: string,
  ) {}

  get name(): string {
    return this.impl.name;
  }
  get<T = unknown>(key: string, options?: GetOptions): Promise<MemoryValue<T> | undefined> {
    return this.impl.get<T>(key, options);
  }
  keys(pattern?: string): AsyncIterable<string> {
    return this.impl.keys(pattern);
  }
  history<T = unknown>(key: string, options?: HistoryOptions): AsyncIterable<MemoryEntry<T>> {
    return this.impl.history<T>(key, options);
  }
  watch<T = unknown>(pattern?: string): MemoryWatch<T> {
    return this.impl.watch<T>(pattern);
  }
  put(key: string, value: unknown): Promise<number> {
    return this.impl.put(key, value, this.writer);
  }
  create(key: string, value: unknown): Promise<number> {
    return this.impl.create(key, value, this.writer);
  }
  update(key: string, value: unknown, revision: number): Promise<number> {
    return this.impl.update(key, value, revision, this.writer);
  }
  modify<T = unknown>(key: string, fn: (current: T | undefined) => T | Promise<T>, options?: ModifyOptions): Promise<MemoryValue<T>> {
    return this.impl.modify<T>(key, fn, options, this.writer);
  }
  delete(key: string): Promise<number> {
    return this.impl.delete(key, this.writer);
  }
}

class WriterMemory extends WriterBucket implements Memory {
  /** Views of the named buckets this writer used; they go with the view. */
  private readonly named = new Map<string, WriterBucket>();

  constructor(
    private readonly memory: MemoryImpl,
    writer: string,
  ) {
    super(memory.bucketImpl(), writer);
  }

  bucket(name: string): MemoryBucket {
    let b = this.named.get(name);
    if (b === undefined) {
      b = new WriterBucket(this.memory.bucketImpl(name), this.writer);
      this.named.set(name, b);
    }
    return b;
  }

  async close(): Promise<void> {}
}
