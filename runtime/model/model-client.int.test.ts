// The model client against the scripted OpenAI-compatible server over real
// HTTP: replies, tool calls, streams, and every failure class with its retry
// rule. Waits (backoff, retry-after, timeouts) run on a FakeClock, so each
// test moves time itself and nothing sleeps.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { InvalidConfigError, ModelError, ModelErrorKind } from "../errors.js";
import {
  contextLengthError,
  rateLimitError,
  serverError,
  toolResults,
  type ModelScript,
} from "../testing/model-script.js";
import { startModelServer, type ModelServer, type ModelServerOptions } from "../testing/model-server.js";
import { waitFor } from "../testing/wait.js";
import { checkModelOptions, ModelClient, type ModelMessage, type ModelOptions, type ToolSpec } from "./model-client.js";

const servers: ModelServer[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all([...servers.splice(0).map((s) => s.close()), ...closers.splice(0).map((c) => c())]);
});

async function useModel(script: ModelScript, options?: ModelServerOptions): Promise<ModelServer> {
  const server = await startModelServer(script, options);
  servers.push(server);
  return server;
}

function clientFor(model: ModelServer, clock: FakeClock, options: Partial<ModelOptions> = {}): ModelClient {
  return new ModelClient({ baseURL: model.url, model: "m", apiKey: "test-key", ...options }, clock);
}

const ask = (content: string): ModelMessage[] => [{ role: "user", content }];

const addTool: ToolSpec = {
  name: "add",
  description: "Add two numbers",
  parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
};

/** Records retries; `pass(clock, n)` waits for each of the first n and moves the clock through its wait. */
function retries() {
  const seen: Array<{ err: ModelError; delayMs: number; attempt: number }> = [];
  return {
    seen,
    onRetry: (err: ModelError, delayMs: number, attempt: number) => void seen.push({ err, delayMs, attempt }),
    async pass(clock: FakeClock, n: number) {
      for (let i = 0; i < n; i++) {
        await waitFor(() => seen.length > i, `retry ${i + 1}`);
        await clock.advance(seen[i]!.delayMs);
      }
    },
  };
}

function settledFlag(p: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  p.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

describe("ModelClient", () => {
  it("makes a plain call and returns the reply, usage and finish reason", async () => {
    const model = await useModel([{ text: "Hello there.", usage: { promptTokens: 11, completionTokens: 3 } }], { apiKey: "test-key" });
    const turn = await clientFor(model, new FakeClock(0), { temperature: 0.2, maxTokens: 50 }).complete({
      messages: [{ role: "system", content: "Be brief." }, ...ask("Hi")],
      tools: [],
    });
    expect(turn).toMatchObject({
      message: { role: "assistant", content: "Hello there." },
      usage: { inputTokens: 11, outputTokens: 3 },
      finishReason: "stop",
      attempts: 1,
      responseModel: "m",
    });
    expect(turn.message.tool_calls).toBeUndefined();
    expect(turn.usageEstimated).toBeUndefined();
    const sent = model.requests[0]!;
    expect(sent).toMatchObject({ model: "m", temperature: 0.2, max_tokens: 50 });
    expect(sent.messages).toEqual([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }]);
    expect("tools" in sent).toBe(false);
    expect(sent.stream).not.toBe(true);
  });

  it("returns tool calls, sends tools in OpenAI's shape, and takes the tool results back", async () => {
    const args = { query: "orders of customer 42", limit: 10 };
    const model = await useModel([
      { toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
      (req) => ({ text: `The sum is ${toolResults(req)[0]?.content}.` }),
      { text: "Looking it up. ", toolCalls: [{ name: "lookup", args }, { name: "add", args: { a: 1, b: 2 } }] },
    ]);
    const client = clientFor(model, new FakeClock(0));

    const first = await client.complete({ messages: ask("What is 2+3?"), tools: [addTool] });
    expect(first.finishReason).toBe("tool_calls");
    expect(first.message.content).toBeNull();
    expect(first.message.tool_calls).toEqual([{ id: "call_1_1", type: "function", function: { name: "add", arguments: '{"a":2,"b":3}' } }]);
    expect(model.requests[0]!.tools).toEqual([{ type: "function", function: addTool }]);

    const history: ModelMessage[] = [...ask("What is 2+3?"), first.message, { role: "tool", tool_call_id: "call_1_1", content: "5" }];
    const second = await client.complete({ messages: history, tools: [addTool] });
    expect(second.message.content).toBe("The sum is 5.");
    expect(model.requests[1]!.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1_1", type: "function", function: { name: "add", arguments: '{"a":2,"b":3}' } }],
    });

    // Streamed, each call's arguments arrive split over several chunks and are joined by index.
    const deltas: string[] = [];
    const third = await client.complete({ messages: ask("find"), tools: [addTool], onDelta: (d) => deltas.push(d) });
    expect(deltas.join("")).toBe("Looking it up. ");
    expect(third.finishReason).toBe("tool_calls");
    expect(third.message.content).toBe("Looking it up. ");
    expect(third.message.tool_calls!.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["call_3_1", "lookup", args],
      ["call_3_2", "add", { a: 1, b: 2 }],
    ]);
  });

  it("streams text deltas in order, with the usage of the final chunk", async () => {
    const model = await useModel([{ text: ["The ", "quick ", "brown ", "fox."], usage: { promptTokens: 7, completionTokens: 4 } }]);
    const deltas: string[] = [];
    const turn = await clientFor(model, new FakeClock(0)).complete({ messages: ask("fox?"), tools: [], onDelta: (d) => deltas.push(d) });
    expect(deltas).toEqual(["The ", "quick ", "brown ", "fox."]);
    expect(turn.message).toEqual({ role: "assistant", content: "The quick brown fox." });
    expect(turn.usage).toEqual({ inputTokens: 7, outputTokens: 4 });
    expect(turn.usageEstimated).toBeUndefined();
    expect(model.requests[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("estimates usage at about four characters a token when the server reports none", async () => {
    const reply = JSON.stringify({
      id: "x",
      object: "chat.completion",
      created: 0,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "twelve chars" }, finish_reason: "stop" }],
    });
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(reply));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const client = new ModelClient({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: "m" }, new FakeClock(0));
    const messages = ask("x".repeat(100));
    const turn = await client.complete({ messages, tools: [] });
    expect(turn.usageEstimated).toBe(true);
    expect(turn.usage).toEqual({ inputTokens: Math.ceil(JSON.stringify(messages).length / 4), outputTokens: 3 });
  });

  it("waits what a 429's retry-after asks, on its clock, then makes the call again", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([rateLimitError(2), { text: "after the wait" }]);
    const r = retries();
    const call = clientFor(model, clock).complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry });
    const flag = settledFlag(call);
    await waitFor(() => r.seen.length === 1, "the 429");
    const { err, delayMs, attempt } = r.seen[0]!;
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ kind: ModelErrorKind.RateLimit, status: 429, retryable: true, retryAfterMs: 2_000 });
    expect(err.message).toMatch(/^model call failed \(rate_limit, HTTP 429\): Rate limit reached/);
    expect([delayMs, attempt]).toEqual([2_000, 1]);

    await clock.advance(1_999);
    expect(clock.pending).toBe(1); // still waiting: the retry has not been sent
    expect(model.calls).toBe(1);
    expect(flag.settled).toBe(false);
    await clock.advance(1);
    const turn = await call;
    expect(turn.message.content).toBe("after the wait");
    expect(turn.attempts).toBe(2);
    expect(model.calls).toBe(2);
  });

  it("retries server errors with growing backoff and succeeds", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([serverError(), serverError(503), { text: "recovered" }]);
    const r = retries();
    const call = clientFor(model, clock).complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry });
    await r.pass(clock, 2);
    const turn = await call;
    expect(turn.message.content).toBe("recovered");
    expect(turn.attempts).toBe(3);
    expect(model.calls).toBe(3);
    expect(r.seen.map((s) => [s.err.kind, s.err.status, s.attempt])).toEqual([
      [ModelErrorKind.Server, 500, 1],
      [ModelErrorKind.Server, 503, 2],
    ]);
    // 500 ms doubled per attempt, half of it random.
    expect(r.seen[0]!.delayMs).toBeGreaterThanOrEqual(250);
    expect(r.seen[0]!.delayMs).toBeLessThanOrEqual(500);
    expect(r.seen[1]!.delayMs).toBeGreaterThanOrEqual(500);
    expect(r.seen[1]!.delayMs).toBeLessThanOrEqual(1_000);
  });

  it("gives up after maxRetries with the last failure's class", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([serverError(), serverError(502), serverError(), { text: "never sent" }]);
    const r = retries();
    const call = clientFor(model, clock, { maxRetries: 2 })
      .complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry })
      .catch((e: unknown) => e);
    await r.pass(clock, 2);
    const err = await call;
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ kind: ModelErrorKind.Server, status: 500, retryable: true, code: "MODEL_ERROR" });
    expect((err as ModelError).message).toBe("model call failed (server, HTTP 500): The server had an error while processing your request.");
    expect(model.calls).toBe(3);
    expect(r.seen).toHaveLength(2);
  });

  it("does not retry a context that is too long", async () => {
    const model = await useModel([contextLengthError(4096), { text: "never sent" }]);
    const r = retries();
    const err = await clientFor(model, new FakeClock(0))
      .complete({ messages: ask("a very long story"), tools: [], onRetry: r.onRetry })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: ModelErrorKind.ContextLength, status: 400, retryable: false });
    expect((err as Error).message).toContain("model call failed (context_length, HTTP 400): This model's maximum context length is 4096 tokens");
    expect(model.calls).toBe(1);
    expect(r.seen).toEqual([]);
  });

  it("does not retry an auth failure", async () => {
    const scripted = await useModel([{ error: { status: 401, code: "invalid_api_key", message: "Incorrect API key provided." } }, { text: "never" }]);
    const r = retries();
    const err = await clientFor(scripted, new FakeClock(0))
      .complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: ModelErrorKind.Auth, status: 401, retryable: false });
    expect(scripted.calls).toBe(1);
    expect(r.seen).toEqual([]);

    // A server that checks the key: the wrong one is refused, the right one answers.
    const guarded = await useModel([{ text: "welcome" }], { apiKey: "right" });
    const refused = await clientFor(guarded, new FakeClock(0), { apiKey: "wrong" })
      .complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: ModelErrorKind.Auth, status: 401 });
    expect(r.seen).toEqual([]);
    const ok = await clientFor(guarded, new FakeClock(0), { apiKey: "right" }).complete({ messages: ask("hi"), tools: [] });
    expect(ok.message.content).toBe("welcome");
  });

  it("does not retry what the server says not to (x-should-retry: false)", async () => {
    const model = await useModel([{ text: "only one" }]);
    const client = clientFor(model, new FakeClock(0));
    await client.complete({ messages: ask("1"), tools: [] });
    const err = await client.complete({ messages: ask("2"), tools: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: ModelErrorKind.Server, status: 500, retryable: false });
    expect((err as Error).message).toContain("no step for call 2");
    expect(model.calls).toBe(2);
  });

  it("times out a model that stays silent past timeoutMs, and retries", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([{ text: "too slow", delayMs: 200_000 }, { text: "quick" }], { clock });
    const r = retries();
    const call = clientFor(model, clock, { timeoutMs: 10_000, maxRetries: 1 }).complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry });
    await waitFor(() => model.calls === 1 && clock.pending === 2, "the call to wait at the server");
    await clock.advance(9_999);
    expect(r.seen).toEqual([]);
    await clock.advance(1);
    await waitFor(() => r.seen.length === 1, "the timeout");
    expect(r.seen[0]!.err).toMatchObject({ kind: ModelErrorKind.Timeout, retryable: true });
    expect(r.seen[0]!.err.message).toBe("model call failed (timeout): no response from the model within 10000 ms");
    await clock.advance(r.seen[0]!.delayMs);
    const turn = await call;
    expect(turn.message.content).toBe("quick");
    expect(turn.attempts).toBe(2);
    expect(model.calls).toBe(2);
  });

  it("completes a stream far longer than timeoutMs while chunks keep coming", async () => {
    const serverClock = new FakeClock(0);
    const clientClock = new FakeClock(0);
    const words = ["one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight ", "nine ", "ten"];
    const model = await useModel([{ text: words, chunkDelayMs: 30_000 }], { clock: serverClock });
    const deltas: string[] = [];
    const call = clientFor(model, clientClock, { timeoutMs: 60_000, maxRetries: 0 }).complete({
      messages: ask("count slowly"),
      tools: [],
      onDelta: (d) => deltas.push(d),
    });
    const flag = settledFlag(call);
    const nextChunk = async () => {
      await waitFor(() => serverClock.pending === 1 || flag.settled, "the server to hold its next chunk");
      if (!flag.settled) await serverClock.advance(30_000);
    };
    for (const [i, word] of words.entries()) {
      await nextChunk();
      await waitFor(() => deltas.length === i + 1, `delta ${i + 1}`);
      expect(deltas[i]).toBe(word);
      await clientClock.advance(30_000); // the same time passes for the client
    }
    while (!flag.settled) await nextChunk(); // the finish chunk and the usage chunk
    const turn = await call;
    expect(clientClock.now()).toBe(300_000); // five times timeoutMs
    expect(turn.message.content).toBe(words.join(""));
    expect(turn.finishReason).toBe("stop");
    expect(turn.attempts).toBe(1);
    expect(model.calls).toBe(1);
  });

  it("times out a stream that goes silent for timeoutMs", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([{ text: ["a ", "b "], chunkDelayMs: 90_000 }], { clock });
    const call = clientFor(model, clock, { timeoutMs: 60_000, maxRetries: 0 })
      .complete({ messages: ask("hi"), tools: [], onDelta: () => undefined })
      .catch((e: unknown) => e);
    await waitFor(() => model.calls === 1 && clock.pending === 2, "the stream to start");
    await clock.advance(60_000);
    const err = await call;
    expect(err).toMatchObject({ kind: ModelErrorKind.Timeout, retryable: true });
    expect((err as Error).message).toBe("model call failed (timeout): the model sent nothing for 60000 ms");
  });

  it("retries a stream that drops mid-way as a connection failure; deltas already given stay given", async () => {
    const clock = new FakeClock(0);
    const text = ["a ", "b ", "c ", "d"];
    const model = await useModel([{ text, dropAfterChunks: 3 }, { drop: true }, { text }]);
    const r = retries();
    const deltas: string[] = [];
    const call = clientFor(model, clock).complete({ messages: ask("go"), tools: [], onDelta: (d) => deltas.push(d), onRetry: r.onRetry });
    await r.pass(clock, 2);
    const turn = await call;
    expect(turn.message.content).toBe("a b c d");
    expect(turn.attempts).toBe(3);
    expect(deltas).toEqual(["a ", "b ", "a ", "b ", "c ", "d"]);
    expect(r.seen.map((s) => [s.err.kind, s.err.retryable])).toEqual([
      [ModelErrorKind.Connection, true],
      [ModelErrorKind.Connection, true],
    ]);
    expect(model.calls).toBe(3);
  });

  it("stops at once when its signal aborts, throwing the signal's reason", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([
      { text: "never", delayMs: 60_000 },
      { text: ["a ", "b ", "c "] },
      serverError(),
      { text: "never" },
    ], { clock });
    const client = clientFor(model, clock);

    // While waiting for the answer.
    const waiting = new AbortController();
    const first = client.complete({ messages: ask("1"), tools: [], signal: waiting.signal }).catch((e: unknown) => e);
    await waitFor(() => model.calls === 1, "the first call");
    const reason = new Error("the caller gave up");
    waiting.abort(reason);
    expect(await first).toBe(reason);

    // Mid-stream.
    const streaming = new AbortController();
    const deltas: string[] = [];
    const onDelta = (d: string) => {
      deltas.push(d);
      streaming.abort(new Error("enough"));
    };
    const second = await client.complete({ messages: ask("2"), tools: [], signal: streaming.signal, onDelta }).catch((e: unknown) => e);
    expect(second).toBe(streaming.signal.reason);
    expect(deltas).toEqual(["a "]);

    // During the backoff before a retry: no retry is sent.
    const backingOff = new AbortController();
    const r = retries();
    const third = client.complete({ messages: ask("3"), tools: [], signal: backingOff.signal, onRetry: r.onRetry }).catch((e: unknown) => e);
    await waitFor(() => r.seen.length === 1, "the server error");
    backingOff.abort("shutting down");
    const err = await third;
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ kind: ModelErrorKind.Aborted, retryable: false });
    expect((err as Error).message).toBe("model call failed (aborted): the call was aborted: shutting down");
    expect(model.calls).toBe(3);

    // Already aborted: nothing is sent.
    const before = AbortSignal.abort(new Error("too late"));
    expect(await client.complete({ messages: ask("4"), tools: [], signal: before }).catch((e: unknown) => e)).toBe(before.reason);
    expect(model.calls).toBe(3);
  });

  it("passes an exception of onDelta through, without retrying", async () => {
    const model = await useModel([{ text: ["a ", "b "] }, { text: "never" }]);
    const mine = new TypeError("my callback broke");
    const r = retries();
    const err = await clientFor(model, new FakeClock(0))
      .complete({ messages: ask("hi"), tools: [], onRetry: r.onRetry, onDelta: () => { throw mine; } })
      .catch((e: unknown) => e);
    expect(err).toBe(mine);
    expect(r.seen).toEqual([]);
    expect(model.calls).toBe(1);
  });
});

describe("checkModelOptions", () => {
  it("fills in the defaults and keeps the rest", () => {
    expect(checkModelOptions({ model: "qwen2.5" })).toEqual({ model: "qwen2.5", timeoutMs: 120_000, maxRetries: 3 });
    const full = { model: "m", baseURL: "https://api.example.com/v1", apiKey: "k", timeoutMs: 5_000, maxRetries: 0, temperature: 0, maxTokens: 10, headers: { "x-a": "b" } };
    expect(checkModelOptions(full)).toEqual(full);
    expect(Object.isFrozen(checkModelOptions(full))).toBe(true);
  });

  it.each([
    [undefined, "model"],
    ["qwen2.5", "model"],
    [{}, "model.model"],
    [{ model: "  " }, "model.model"],
    [{ model: "m", baseURL: "localhost:11434" }, "model.baseURL"],
    [{ model: "m", baseURL: "ftp://example.com/v1" }, "model.baseURL"],
    [{ model: "m", baseURL: 42 }, "model.baseURL"],
    [{ model: "m", apiKey: 42 }, "model.apiKey"],
    [{ model: "m", timeoutMs: 0 }, "model.timeoutMs"],
    [{ model: "m", timeoutMs: 1.5 }, "model.timeoutMs"],
    [{ model: "m", timeoutMs: "60s" }, "model.timeoutMs"],
    [{ model: "m", maxRetries: -1 }, "model.maxRetries"],
    [{ model: "m", maxRetries: 1_000 }, "model.maxRetries"],
    [{ model: "m", temperature: 3 }, "model.temperature"],
    [{ model: "m", maxTokens: 0 }, "model.maxTokens"],
    [{ model: "m", headers: ["x"] }, "model.headers"],
    [{ model: "m", headers: { "x-n": 1 } }, "model.headers.x-n"],
    [{ model: "m", timeout: 5 }, "model.timeout"],
  ])("refuses %j, naming %s", (value, field) => {
    const err = (() => {
      try {
        checkModelOptions(value);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field).toBe(field);
  });

  it("names the field it was given, and the client checks its options too", () => {
    expect(() => checkModelOptions({ model: "" }, "agents.planner.model")).toThrow(/invalid agents\.planner\.model\.model/);
    expect(() => new ModelClient({ model: "m", baseURL: "nope" }, new FakeClock(0))).toThrow(InvalidConfigError);
  });
});
