// The scripted model server, driven by the official `openai` client exactly as
// the runtime will use it: text and tool-call replies, streams assembled from
// chunks, provider errors surfacing as the client's typed errors, delays and
// slow streams on a fake clock, dropped connections; and the wire shape, read
// with plain fetch.

import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { InvalidConfigError } from "../errors.js";
import {
  contextLengthError,
  lastUserText,
  rateLimitError,
  serverError,
  toolResults,
  type ModelScript,
} from "./model-script.js";
import { startModelServer, type ModelServer, type ModelServerOptions } from "./model-server.js";
import { waitFor } from "./wait.js";

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function useModel(script: ModelScript, options?: ModelServerOptions): Promise<ModelServer> {
  const server = await startModelServer(script, options);
  servers.push(server);
  return server;
}

/** The official client against `server`; no retries unless asked, so each call is one request. */
function clientFor(server: ModelServer, maxRetries = 0): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: "test-key", maxRetries });
}

const addTool: ChatCompletionTool = {
  type: "function",
  function: {
    name: "add",
    description: "Add two numbers",
    parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
  },
};

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe("the scripted model server with the openai client", () => {
  it("answers a text reply with usage, and records the request", async () => {
    const model = await useModel([{ text: "Hello there.", usage: { promptTokens: 11, completionTokens: 3 } }, { text: "Again." }]);
    const client = clientFor(model);
    const first = await client.chat.completions.create({
      model: "qwen2.5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
    });
    expect(first.object).toBe("chat.completion");
    expect(first.model).toBe("qwen2.5");
    expect(first.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hello there." });
    expect(first.choices[0]!.finish_reason).toBe("stop");
    expect(first.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });

    const second = await client.chat.completions.create({ model: "qwen2.5", messages: [{ role: "user", content: "12345678" }] });
    expect(second.choices[0]!.message.content).toBe("Again.");
    // Derived from lengths: 8 characters in, 6 out, about four a token.
    expect(second.usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    expect(second.id).not.toBe(first.id);

    expect(model.calls).toBe(2);
    expect(model.requests[0]!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);
    expect(lastUserText(model.requests[1]!)).toBe("12345678");
  });

  it("answers a tool call, then matches on the tool result with a responder", async () => {
    const model = await useModel([
      { toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
      (request) => {
        const results = toolResults(request);
        return results.length ? { text: `The sum is ${results[0]!.content}.` } : { text: "no tool result" };
      },
    ]);
    const client = clientFor(model);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is 2+3?" }];
    const first = await client.chat.completions.create({ model: "m", messages, tools: [addTool] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    if (call.type !== "function") throw new Error("a function call was expected");
    expect(call.function.name).toBe("add");
    expect(JSON.parse(call.function.arguments)).toEqual({ a: 2, b: 3 });

    messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: "5" });
    const second = await client.chat.completions.create({ model: "m", messages, tools: [addTool] });
    expect(second.choices[0]!.message.content).toBe("The sum is 5.");
    expect(model.requests[0]!.tools).toEqual([addTool]);
    expect(toolResults(model.requests[1]!)).toEqual([{ toolCallId: call.id, content: "5" }]);
  });

  it("streams a reply in chunks the client assembles, with usage when asked", async () => {
    const model = await useModel([{ text: "The quick brown fox.", usage: { promptTokens: 7, completionTokens: 5 } }]);
    const stream = await clientFor(model).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Tell me about the fox" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = await collect(stream);
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ""));
    expect(deltas.filter((d) => d !== "")).toEqual(["The ", "quick ", "brown ", "fox."]);
    expect(deltas.join("")).toBe("The quick brown fox.");
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual(["stop"]);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("streams a tool call with its arguments split over several chunks", async () => {
    const args = { query: "orders of customer 42", limit: 10 };
    const model = await useModel([
      { text: "Looking it up. ", toolCalls: [{ name: "lookup", args }, { name: "add", args: { a: 1, b: 2 } }] },
      { toolCalls: [{ name: "lookup", args }] },
    ]);
    const client = clientFor(model);
    const request = { model: "m", messages: [{ role: "user" as const, content: "find" }], tools: [addTool] };

    // The client's stream helper joins the deltas into one message.
    const helper = client.chat.completions.stream(request);
    const final = await helper.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.content).toBe("Looking it up. ");
    const calls = message.tool_calls!.map((c) => (c.type === "function" ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : c));
    expect(calls).toEqual([
      ["call_1_1", "lookup", args],
      ["call_1_2", "add", { a: 1, b: 2 }],
    ]);

    // On the wire: a first delta with id and name, then the arguments in pieces.
    const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }));
    const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(toolDeltas[0]).toMatchObject({ index: 0, id: "call_2_1", type: "function", function: { name: "lookup", arguments: "" } });
    const pieces = toolDeltas.slice(1).map((d) => d.function?.arguments);
    expect(pieces.length).toBeGreaterThan(1);
    expect(JSON.parse(pieces.join(""))).toEqual(args);
    expect(toolDeltas.slice(1).every((d) => d.index === 0 && d.id === undefined)).toBe(true);
  });

  it("surfaces a 429 as RateLimitError with the retry-after header, and a retry takes the next step", async () => {
    const model = await useModel([rateLimitError(2), rateLimitError(0), { text: "after the wait" }]);
    const error = await clientFor(model)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers?.get("retry-after")).toBe("2");
    expect(rateLimit.code).toBe("rate_limit_exceeded");
    expect(rateLimit.type).toBe("requests");

    // A client that retries honours retry-after (0 s here) and gets the next step.
    const reply = await clientFor(model, 1).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(reply.choices[0]!.message.content).toBe("after the wait");
    expect(model.calls).toBe(3);
  });

  it("answers context too long as a 400 with code context_length_exceeded, and server errors as InternalServerError", async () => {
    const model = await useModel([contextLengthError(4096), serverError(503), serverError()]);
    const client = clientFor(model);
    const ask = () => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);

    const tooLong = (await ask()) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooLong.status).toBe(400);
    expect(tooLong.code).toBe("context_length_exceeded");
    expect(tooLong.param).toBe("messages");
    expect(tooLong.message).toContain("maximum context length is 4096 tokens");

    const overloaded = (await ask()) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(overloaded).toBeInstanceOf(OpenAI.InternalServerError);
    expect(overloaded.status).toBe(503);
    const failed = (await ask()) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(failed.status).toBe(500);
    expect(failed.type).toBe("server_error");
  });

  it("holds an answer for its delay on the server's clock", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const model = await useModel([{ text: "thought about it", delayMs: 90_000 }], { clock });
    let settled = false;
    const reply = clientFor(model)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "think hard" }] })
      .finally(() => (settled = true));
    await waitFor(() => model.calls === 1 && clock.pending === 1, "the request to arrive and wait");
    await clock.advance(89_999);
    expect(settled).toBe(false);
    await clock.advance(1);
    const answer = await reply;
    expect(answer.choices[0]!.message.content).toBe("thought about it");
    expect(answer.created).toBe(1_700_000_090);
  });

  it("plays a five-minute stream: one chunk a minute, each only when the clock has moved", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([{ text: ["one ", "two ", "three ", "four ", "five"], chunkDelayMs: 60_000 }], { clock });
    const stream = await clientFor(model).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "count slowly" }],
      stream: true,
    });
    const text: string[] = [];
    let ended = false;
    const reading = (async () => {
      for await (const chunk of stream) text.push(chunk.choices[0]?.delta.content ?? "");
      ended = true;
    })();

    // The role chunk comes at once; then each word waits for a minute of the server's clock.
    await waitFor(() => text.length === 1 && clock.pending === 1, "the first chunk");
    for (const [minute, word] of ["one ", "two ", "three ", "four ", "five"].entries()) {
      expect(text.length).toBe(minute + 1);
      await clock.advance(60_000);
      await waitFor(() => text.at(-1) === word, `the word sent at minute ${minute + 1}`);
    }
    expect(ended).toBe(false);
    await clock.advance(60_000); // the finish chunk, then [DONE]
    await reading;
    expect(text.join("")).toBe("one two three four five");
    expect(clock.now()).toBe(6 * 60_000);
  });

  it("drops a stream mid-way: the client sees an error after the chunks that came", async () => {
    const model = await useModel([{ text: ["a ", "b ", "c ", "d"], dropAfterChunks: 3 }, { drop: true }]);
    const client = clientFor(model);
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "go" }], stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(seen).toEqual(["", "a ", "b "]);

    // A dropped connection before any answer is a connection error.
    const dropped = await client.chat.completions
      .create({ model: "m", messages: [{ role: "user", content: "go" }] })
      .catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(model.calls).toBe(2);
  });

  it("answers past the end of its script with a 500 the client does not retry", async () => {
    const model = await useModel([{ text: "only one" }]);
    const client = clientFor(model, 2);
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "1" }] });
    const error = (await client.chat.completions
      .create({ model: "m", messages: [{ role: "user", content: "2" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.message).toContain("no step for call 2");
    expect(model.calls).toBe(2);
  });

  it("refuses a wrong API key when it is given one", async () => {
    const model = await useModel([{ text: "ok" }], { apiKey: "right" });
    const error = await clientFor(model)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const ok = await new OpenAI({ baseURL: model.url, apiKey: "right", maxRetries: 0 }).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(ok.choices[0]!.message.content).toBe("ok");
    expect(model.calls).toBe(1);
  });

  it("lists its model", async () => {
    const model = await useModel([], { model: "scripted-7b" });
    const models = await clientFor(model).models.list();
    expect(models.data.map((m) => m.id)).toEqual(["scripted-7b"]);
  });
});

describe("the scripted model server's wire shape", () => {
  const post = (server: ModelServer, body: string) =>
    fetch(`${server.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("answers JSON as chat.completion and a stream as server-sent events ending in [DONE]", async () => {
    const model = await useModel([
      { text: "Hi!", usage: { promptTokens: 4, completionTokens: 1 } },
      { toolCalls: [{ name: "add", args: { a: 1, b: 2 } }] },
    ]);
    const plain = await post(model, JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }));
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("application/json");
    expect(await plain.json()).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: expect.any(Number),
      model: "m",
      choices: [
        { index: 0, message: { role: "assistant", content: "Hi!", refusal: null }, logprobs: null, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
    });

    const streamed = await post(model, JSON.stringify({ model: "m", messages: [{ role: "user", content: "add" }], stream: true }));
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await streamed.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = text.split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)));
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(chunks[1].choices[0].delta.tool_calls).toEqual([
      { index: 0, id: "call_2_1", type: "function", function: { name: "add", arguments: "" } },
    ]);
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" });
    expect(chunks.every((c: { usage?: unknown }) => !("usage" in c))).toBe(true);
  });

  it("refuses a body that is not JSON or has no messages with 400 in OpenAI's error shape", async () => {
    const model = await useModel([{ text: "never" }]);
    const notJson = await post(model, "{ not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: { message: expect.stringContaining("parse the JSON"), type: "invalid_request_error", param: null, code: null },
    });
    for (const body of [{ model: "m" }, { model: "m", messages: [] }, { messages: ["hi"] }, [1]]) {
      const bad = await post(model, JSON.stringify(body));
      expect(bad.status).toBe(400);
      const { error } = (await bad.json()) as { error: { type: string; param: string } };
      expect(error.type).toBe("invalid_request_error");
      expect(error.param).toMatch(/^(messages|body)/);
    }
    const unknown = await fetch(`${model.url}/embeddings`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    expect(model.calls).toBe(0);
  });
});

describe("startModelServer", () => {
  it("refuses a bad script step, naming its place", async () => {
    const bad = [{ text: "fine" }, { toolCalls: [{ args: {} }] }] as unknown as ModelScript;
    const error = await startModelServer(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe("script[1]");
  });

  it("closes with a delayed answer pending: the client sees the connection end", async () => {
    const clock = new FakeClock(0);
    const model = await useModel([{ text: "too late", delayMs: 60_000 }], { clock });
    const reply = clientFor(model)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "wait" }] })
      .catch((e: unknown) => e);
    await waitFor(() => model.calls === 1 && clock.pending === 1, "the request to wait");
    await model.close();
    expect(await reply).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(clock.pending).toBe(0);
  });
});
