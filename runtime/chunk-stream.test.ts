// The caller's end of a stream on its own: order, the done chunk, the error
// after the chunks before it, the bounds on what waits for a slow consumer,
// and breaking out.

import { describe, expect, it } from "vitest";
import { ChunkStream, MAX_WAITING_BYTES, MAX_WAITING_CHUNKS } from "./chunk-stream.js";
import { StreamOverflowError } from "./errors.js";
import type { Chunk } from "./chunk.js";

async function drain(stream: ChunkStream): Promise<{ chunks: Chunk[]; error?: unknown }> {
  const chunks: Chunk[] = [];
  try {
    for await (const c of stream) chunks.push(c);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

describe("ChunkStream", () => {
  it("yields what arrived in order, then the reply as done, then ends", async () => {
    const s = new ChunkStream("a/1", () => {});
    s.push({ type: "text", delta: "x" }, 10);
    s.end({ text: "x" });
    s.push({ type: "text", delta: "late" }, 10);
    expect(await drain(s)).toEqual({ chunks: [{ type: "text", delta: "x" }, { type: "done", text: "x", value: { text: "x" } }] });
  });

  it("throws the ask's error after the chunks that came before it", async () => {
    const s = new ChunkStream("a/1", () => {});
    s.push({ type: "status", status: "working" });
    s.fail(new Error("gone"));
    const { chunks, error } = await drain(s);
    expect(chunks).toEqual([{ type: "status", status: "working" }]);
    expect((error as Error).message).toBe("gone");
  });

  it("ends with StreamOverflowError when more chunks or more bytes wait than it holds, and stops the ask", async () => {
    let cancelled = 0;
    const byCount = new ChunkStream("a/1", () => cancelled++);
    for (let i = 0; i <= MAX_WAITING_CHUNKS; i++) byCount.push({ type: "text", delta: "." }, 1);
    expect((await drain(byCount)).error).toBeInstanceOf(StreamOverflowError);
    const byBytes = new ChunkStream("a/1", () => cancelled++);
    byBytes.push({ type: "blob" }, MAX_WAITING_BYTES - 10);
    byBytes.push({ type: "blob" }, 11);
    const { chunks, error } = await drain(byBytes);
    expect(chunks).toEqual([{ type: "blob" }]);
    expect(error).toBeInstanceOf(StreamOverflowError);
    expect(cancelled).toBe(2);
  });

  it("stops the ask once when the consumer breaks out, and takes nothing more", async () => {
    let cancelled = 0;
    const s = new ChunkStream("a/1", () => cancelled++);
    s.push({ type: "text", delta: "a" });
    s.push({ type: "text", delta: "b" });
    for await (const c of s) {
      expect(c).toEqual({ type: "text", delta: "a" });
      break;
    }
    s.push({ type: "text", delta: "c" });
    expect(await s.next()).toEqual({ value: undefined, done: true });
    expect(cancelled).toBe(1);
  });
});
