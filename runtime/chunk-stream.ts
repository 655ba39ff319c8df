// The caller's end of a stream: chunks as they arrive, then the reply as a
// `done` chunk, or the ask's typed error thrown from the iterator. What the
// consumer has not taken yet waits here, up to MAX_WAITING_CHUNKS chunks and
// MAX_WAITING_BYTES bytes; a consumer that falls further behind ends the
// stream with StreamOverflowError rather than holding an unbounded queue.
// Breaking out of the loop stops waiting for the answer (the agent is not
// told; what it still sends is dropped on arrival).

import { doneChunk, type Chunk } from "./chunk.js";
import { StreamOverflowError } from "./errors.js";

/** Chunks that may wait for a slow consumer. */
export const MAX_WAITING_CHUNKS = 10_000;

/** Bytes (as they arrived) of the chunks that may wait for a slow consumer. */
export const MAX_WAITING_BYTES = 16 * 1024 * 1024;

/** An async iterator over one streamed answer. */
export class ChunkStream<R = unknown> implements AsyncIterableIterator<Chunk<R>> {
  private readonly waiting: Array<{ chunk: Chunk<R>; bytes: number }> = [];
  private waitingBytes = 0;
  /** The reader waiting for the next chunk, if any. */
  private reader: { resolve(r: IteratorResult<Chunk<R>>): void; reject(err: Error): void } | undefined;
  /** Settled: the reply (as its `done` chunk) or the error are queued or thrown; nothing more comes. */
  private finished = false;
  private error: Error | undefined;

  constructor(
    private readonly agent: string,
    /** Stop waiting for the answer (the consumer broke out). */
    private readonly cancel: () => void,
  ) {}

  /** A chunk arrived, `bytes` long on the wire. */
  push(chunk: Chunk<R>, bytes = 0): void {
    if (this.finished) return;
    if (this.reader) {
      const r = this.reader;
      this.reader = undefined;
      r.resolve({ value: chunk, done: false });
      return;
    }
    if (this.waiting.length >= MAX_WAITING_CHUNKS || this.waitingBytes + bytes > MAX_WAITING_BYTES) {
      this.cancel();
      this.fail(new StreamOverflowError(this.agent, MAX_WAITING_CHUNKS, MAX_WAITING_BYTES));
      return;
    }
    this.waiting.push({ chunk, bytes });
    this.waitingBytes += bytes;
  }

  /** The reply arrived: it is the last chunk. */
  end(value: R): void {
    if (this.finished) return;
    this.push(doneChunk(value));
    this.finished = true;
  }

  /** The ask failed: the iterator throws `err` once the chunks before it are taken. */
  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.error = err;
    if (this.reader) {
      const r = this.reader;
      this.reader = undefined;
      r.reject(err);
    }
  }

  next(): Promise<IteratorResult<Chunk<R>>> {
    const first = this.waiting.shift();
    if (first !== undefined) {
      this.waitingBytes -= first.bytes;
      return Promise.resolve({ value: first.chunk, done: false });
    }
    if (this.error) {
      const err = this.error;
      this.error = undefined;
      return Promise.reject(err);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  /** The consumer stopped early (`break`): stop waiting, drop what is queued. */
  return(): Promise<IteratorResult<Chunk<R>>> {
    if (!this.finished) {
      this.finished = true;
      this.cancel();
    }
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.error = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
