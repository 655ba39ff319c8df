// GenAI spans: a model call through the client (against the scripted model
// server) and a tool call each make one span with the semantic conventions'
// name, kind and attributes; a failure marks its span; with tracing off there
// are none.

import { AsyncLocalStorage } from "node:async_hooks";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { FakeClock } from "../clock.js";
import { configureTracing } from "../telemetry.js";
import { contextLengthError } from "../testing/model-script.js";
import { startModelServer, type ModelServer } from "../testing/model-server.js";
import { waitFor } from "../testing/wait.js";
import { chatSpan, toolSpan } from "./genai-span.js";
import { ModelClient } from "./model-client.js";

/** The active context carried across awaits, as an SDK's Node context manager does. */
class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

const spans = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncContextManager());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));

let model: ModelServer | undefined;
beforeEach(() => {
  configureTracing(true);
  spans.reset();
});
afterEach(async () => {
  await model?.close();
  model = undefined;
});
afterAll(() => configureTracing(false));

describe("GenAI spans", () => {
  it("makes one client span per model call, covering its retries", async () => {
    model = await startModelServer([{ drop: true }, { text: "Hi!", usage: { promptTokens: 9, completionTokens: 2 } }]);
    const clock = new FakeClock(0);
    const client = new ModelClient({ baseURL: model.url, model: "qwen2.5", temperature: 0.5 }, clock);
    const delays: number[] = [];
    const call = client.complete({
      messages: [{ role: "user", content: "hello" }],
      tools: [],
      conversationId: "assistant/u42",
      onRetry: (_err, delayMs) => void delays.push(delayMs),
    });
    await waitFor(() => delays.length === 1, "the retry");
    await clock.advance(delays[0]!);
    const turn = await call;
    expect(turn.attempts).toBe(2);
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(1);
    const span = finished[0]!;
    expect(span.name).toBe("chat qwen2.5");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.system": "openai",
      "gen_ai.request.model": "qwen2.5",
      "gen_ai.request.temperature": 0.5,
      "gen_ai.response.model": "qwen2.5",
      "gen_ai.response.id": "chatcmpl-2",
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": 9,
      "gen_ai.usage.output_tokens": 2,
      "gen_ai.conversation.id": "assistant/u42",
      "server.address": "127.0.0.1",
      "server.port": model.port,
      "troupe.model.attempts": 2,
    });
  });

  it("marks a failed model call with error status and error.type", async () => {
    model = await startModelServer([contextLengthError(1024)]);
    const client = new ModelClient({ baseURL: model.url, model: "m" }, new FakeClock(0));
    await expect(client.complete({ messages: [{ role: "user", content: "long" }], tools: [] })).rejects.toThrow(/context_length/);
    const [span] = spans.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes["error.type"]).toBe("context_length");
    expect(span?.events.some((e) => e.name === "exception")).toBe(true);
  });

  it("makes an internal span per tool call, parent of what the tool does", async () => {
    const result = await toolSpan("add", "call_1", "assistant/u42", async () => {
      await Promise.resolve();
      trace.getTracer("test").startSpan("inside the tool").end();
      return 5;
    });
    expect(result).toBe(5);
    const tool = spans.getFinishedSpans().find((s) => s.name === "execute_tool add")!;
    const inside = spans.getFinishedSpans().find((s) => s.name === "inside the tool")!;
    expect(tool.kind).toBe(SpanKind.INTERNAL);
    expect(tool.attributes).toEqual({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "add",
      "gen_ai.tool.call.id": "call_1",
      "gen_ai.tool.type": "function",
      "gen_ai.conversation.id": "assistant/u42",
    });
    expect(inside.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);

    const broken = new RangeError("no such order");
    await expect(toolSpan("refund", "call_2", undefined, () => Promise.reject(broken))).rejects.toBe(broken);
    const failed = spans.getFinishedSpans().find((s) => s.name === "execute_tool refund")!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes["error.type"]).toBe("RangeError");
    expect(failed.attributes["gen_ai.conversation.id"]).toBeUndefined();
  });

  it("makes no span while tracing is off", async () => {
    configureTracing(false);
    expect(await toolSpan("add", "call_1", undefined, () => 5)).toBe(5);
    const turn = await chatSpan({ model: "m", serverAddress: "localhost" }, async () => ({
      finishReason: "stop",
      usage: { inputTokens: 1, outputTokens: 1 },
      attempts: 1,
    }));
    expect(turn.attempts).toBe(1);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
