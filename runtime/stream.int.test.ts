// Streaming, a runtime feature of every agent: `ctx.emit(chunk)` sends parts
// of an answer before the reply; `ref.stream(msg)` yields them, then a `done`
// chunk; a plain ask takes them as keep-alives, so its timeout becomes an
// inactivity timeout while the agent keeps emitting. Against a real server.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useNatsServer } from "./testing/server.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import type { Chunk } from "./chunk.js";
import { AskTimeoutError, InvalidArgumentError, InvalidMessageError, RemoteError } from "./errors.js";
import { decodeEnvelope, Kind } from "./envelope.js";
import { encodeValue } from "./codec.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { Subjects } from "./subjects.js";

const nats = useNatsServer();
const NS = "streams";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Emits each word of `text` as a text chunk, then answers with the word count. */
const words = defineAgent({
  type: "words",
  persist: false,
  receive(msg: { text: string }, ctx) {
    const parts = msg.text.split(" ");
    for (const delta of parts) ctx.emit({ type: "text", delta });
    return { count: parts.length };
  },
});

/** Works for `ms`, emitting a status every `every` ms when `every` is given. */
const worker = defineAgent({
  type: "worker",
  persist: false,
  async receive(msg: { ms: number; every?: number }, ctx) {
    const end = Date.now() + msg.ms;
    while (Date.now() < end) {
      await sleep(msg.every ?? msg.ms);
      if (msg.every) ctx.emit({ type: "status", status: "working" });
    }
    return "finished";
  },
});

/** Emits one chunk, then never answers (a dead agent, as far as its caller can tell). */
const stuck = defineAgent({
  type: "stuck",
  persist: false,
  async receive(_msg: unknown, ctx) {
    ctx.emit({ type: "status", status: "started" });
    await new Promise(() => {});
  },
});

/** Tries to emit what is not a chunk. */
const badEmitter = defineAgent({
  type: "bad-emitter",
  persist: false,
  receive(msg: { chunk?: unknown; big?: number }, ctx) {
    try {
      ctx.emit((msg.big ? { type: "big", data: "x".repeat(msg.big) } : msg.chunk) as Chunk);
      return "sent";
    } catch (err) {
      return (err as Error).name;
    }
  },
});

describe("streams", () => {
  let node: TroupeNode;
  let raw: NatsConnection;

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: NS, name: "s1", agents: [words, worker, stuck, badEmitter] });
    for (const [type, key] of [["words", "w"], ["worker", "k"], ["stuck", "s"], ["bad-emitter", "b"]] as const) await node.spawn(type, { key });
    raw = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await node?.close();
    await raw?.close();
  });

  it("yields the emitted chunks in order, then the reply as a done chunk", async () => {
    const chunks: Chunk[] = [];
    for await (const chunk of node.ref("words", "w").stream({ text: "one two three" })) chunks.push(chunk);
    expect(chunks).toEqual([
      { type: "text", delta: "one" },
      { type: "text", delta: "two" },
      { type: "text", delta: "three" },
      { type: "done", count: 3, value: { count: 3 } },
    ]);
  });

  it("an ask to the same agent gets the reply alone", async () => {
    expect(await node.ref("words", "w").ask({ text: "a b" })).toEqual({ count: 2 });
  });

  it("a plain ask outlives its timeout while the agent emits keep-alives, and times out when it does not", async () => {
    const ref = node.ref("worker", "k");
    // Three times the ask timeout, with progress every tenth of it.
    expect(await ref.ask({ ms: 2400, every: 80 }, { timeoutMs: 800 })).toBe("finished");
    await expect(ref.ask({ ms: 2400 }, { timeoutMs: 800 })).rejects.toBeInstanceOf(AskTimeoutError);
  });

  it("a stream whose agent goes silent fails with AskTimeoutError after the chunks that came", async () => {
    const seen: Chunk[] = [];
    let error: unknown;
    try {
      for await (const chunk of node.ref("stuck", "s").stream("go", { inactivityMs: 400 })) seen.push(chunk);
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual([{ type: "status", status: "started" }]);
    expect(error).toBeInstanceOf(AskTimeoutError);
  });

  it("breaking out of a stream stops waiting for it", async () => {
    const stream = node.ref("words", "w").stream({ text: "x y z" });
    for await (const chunk of stream) {
      expect(chunk).toEqual({ type: "text", delta: "x" });
      break;
    }
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("ctx.emit refuses what is not a chunk with InvalidArgumentError", async () => {
    const ref = node.ref("bad-emitter", "b");
    expect(await ref.ask({ chunk: "text" })).toBe(InvalidArgumentError.name);
    expect(await ref.ask({ chunk: { delta: "no type" } })).toBe(InvalidArgumentError.name);
    expect(await ref.ask({ chunk: { type: "done", value: 1 } })).toBe(InvalidArgumentError.name);
    expect(await ref.ask({ chunk: { type: "note", text: "fine" } })).toBe("sent");
    // Too large for a stream: refused when it is encoded (a plain ask gets only a keep-alive, which is small).
    const chunks: Chunk[] = [];
    for await (const c of ref.stream({ big: DEFAULT_MAX_MESSAGE_BYTES })) chunks.push(c);
    expect(chunks).toEqual([{ type: "done", value: InvalidMessageError.name }]);
  });

  it("a bad stream option from a raw client is refused with InvalidMessageError, and the agent keeps working", async () => {
    const subject = new Subjects(NS).agent("words", "w");
    for (const stream of ["fast", 0, -5, 1.5, 10 ** 12]) {
      const payload = encodeValue([1, Kind.Ask, "raw-1", "hostile", null, { text: "a" }, stream]);
      const answer = decodeEnvelope((await raw.request(subject, payload, { timeout: 2000 })).data, DEFAULT_MAX_MESSAGE_BYTES);
      expect(answer.kind).toBe(Kind.Reply);
      expect(answer.error?.code).toBe("INVALID_MESSAGE");
    }
    // A raw client that asks for chunks gets them, then the reply.
    const inbox = raw.subscribe("_INBOX.rawstream.*");
    raw.publish(subject, encodeValue([1, Kind.Ask, "raw-2", "raw", null, { text: "p q" }, 1000]), { reply: "_INBOX.rawstream.1" });
    const kinds: number[] = [];
    for await (const m of inbox) {
      const env = decodeEnvelope(m.data, DEFAULT_MAX_MESSAGE_BYTES);
      kinds.push(env.kind);
      if (env.kind === Kind.Reply) break;
    }
    expect(kinds).toEqual([Kind.Chunk, Kind.Chunk, Kind.Reply]);
    expect(await node.ref("words", "w").ask({ text: "still here" })).toEqual({ count: 2 });
  });

  it("a stream to an agent that throws ends with its error", async () => {
    const thrower = defineAgent({ type: "stream-thrower", persist: false, receive: (_m: unknown, ctx) => { ctx.emit({ type: "status", status: "about to fail" }); throw new Error("nope"); } });
    const n = await startNode({ servers: nats.url, namespace: `${NS}2`, name: "s2", agents: [thrower] });
    try {
      await n.spawn("stream-thrower", { key: "t" });
      const seen: Chunk[] = [];
      await expect(
        (async () => {
          for await (const c of n.ref("stream-thrower", "t").stream("x")) seen.push(c);
        })(),
      ).rejects.toBeInstanceOf(RemoteError);
      expect(seen).toEqual([{ type: "status", status: "about to fail" }]);
    } finally {
      await n.close();
    }
  });
});
