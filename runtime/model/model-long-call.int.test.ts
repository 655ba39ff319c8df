// A model that streams for five minutes, on a fake clock shared by the node
// and the scripted model server: the request completes, because each chunk
// starts the stream's inactivity timeout (10 s) and the model call's own
// timeout (60 s) again, while neither allows anything near five minutes.

import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { useNatsServer } from "../testing/server.js";
import { startModelServer } from "../testing/model-server.js";
import { startNode } from "../node.js";
import { defineAgent } from "../define-agent.js";
import type { Chunk } from "../chunk.js";

const nats = useNatsServer();
const closing: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const c of closing.reverse()) await c.close().catch(() => {});
});

describe("a five-minute model call", () => {
  it("completes through a stream whose inactivity timeout is 10 s", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const words = Array.from({ length: 300 }, (_, i) => `w${i} `);
    const model = await startModelServer(() => ({ text: words, chunkDelayMs: 1_000 }), { clock });
    closing.push(model);
    const node = await startNode({
      servers: nats.url,
      namespace: "longcall",
      name: "l1",
      clock,
      agents: [defineAgent({ type: "writer", keepAliveMs: 2_000, model: { baseURL: model.url, model: "m", apiKey: "k", timeoutMs: 60_000 } })],
    });
    closing.push(node);
    const started = clock.now();
    const chunks: Chunk[] = [];
    const reading = (async () => {
      for await (const c of node.ref("writer", "essay").stream("write", { inactivityMs: 10_000 })) chunks.push(c);
    })();
    let failed: unknown;
    reading.catch((e: unknown) => (failed = e));
    const done = (): boolean => chunks.some((c) => c.type === "done") || failed !== undefined;
    // Let each second of model time pass, then wait (real time) for the chunk it sets off to arrive before the next
    // second, so a slow machine never lets the fake clock outrun the stream.
    while (!done() && clock.now() - started < 400_000) {
      const seen = chunks.length;
      await clock.advance(1_000);
      for (let i = 0; i < 1_000 && !done() && chunks.length === seen; i++) await new Promise((r) => setTimeout(r, 1));
    }
    await reading;
    expect(failed).toBeUndefined();
    expect(clock.now() - started).toBeGreaterThanOrEqual(300_000);
    expect(chunks.filter((c) => c.type === "text").length).toBe(300);
    expect(chunks[chunks.length - 1]).toMatchObject({ type: "done", text: words.join("") });
  }, 120_000);
});
