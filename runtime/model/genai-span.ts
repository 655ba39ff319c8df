// OpenTelemetry spans for model agents, after the GenAI semantic conventions:
// one CLIENT span `chat <model>` per model call (covering its retries) and one
// INTERNAL span `execute_tool <name>` per tool call, each active while it
// runs so what it sends joins the trace. Made only while tracing is on
// (telemetry.ts: an SDK is registered and the node's `tracing` option allows
// it); otherwise the work runs bare.

import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { ModelError } from "../errors.js";
import { tracingEnabled } from "../telemetry.js";

const tracer = trace.getTracer("troupe");

/** The provider name the conventions give OpenAI-compatible APIs. */
const PROVIDER = "openai";

/** What a chat span knows before the call. */
export interface ChatSpanRequest {
  model: string;
  /** Host and port of the endpoint (`server.address`, `server.port`). */
  serverAddress: string;
  serverPort?: number;
  conversationId?: string;
  temperature?: number;
  maxTokens?: number;
}

/** What a chat span records from the answer. */
export interface ChatSpanResult {
  /** The model that answered, as the response named it. */
  responseModel?: string;
  responseId?: string;
  finishReason: string | null;
  usage: { inputTokens: number; outputTokens: number };
  attempts: number;
}

/**
 * Run one model call (`fn`, retries included) inside a span `chat <model>`
 * with the GenAI attributes: request model, response model, finish reasons,
 * token usage, conversation id, server address. A failure marks the span
 * with error status and `error.type` (the ModelError's kind, or the error's name).
 */
export async function chatSpan<T extends ChatSpanResult>(request: ChatSpanRequest, fn: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return fn();
  const attributes: Attributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": PROVIDER,
    "gen_ai.system": PROVIDER,
    "gen_ai.request.model": request.model,
    "server.address": request.serverAddress,
  };
  if (request.serverPort !== undefined) attributes["server.port"] = request.serverPort;
  if (request.conversationId !== undefined) attributes["gen_ai.conversation.id"] = request.conversationId;
  if (request.temperature !== undefined) attributes["gen_ai.request.temperature"] = request.temperature;
  if (request.maxTokens !== undefined) attributes["gen_ai.request.max_tokens"] = request.maxTokens;
  return inSpan(`chat ${request.model}`, SpanKind.CLIENT, attributes, fn, (span, result) => {
    span.setAttributes({
      "gen_ai.response.model": result.responseModel ?? request.model,
      "gen_ai.response.finish_reasons": result.finishReason === null ? [] : [result.finishReason],
      "gen_ai.usage.input_tokens": result.usage.inputTokens,
      "gen_ai.usage.output_tokens": result.usage.outputTokens,
      "troupe.model.attempts": result.attempts,
    });
    if (result.responseId !== undefined) span.setAttribute("gen_ai.response.id", result.responseId);
  });
}

/**
 * Run one tool call inside a span `execute_tool <name>` (`gen_ai.tool.name`,
 * `gen_ai.tool.call.id`, `gen_ai.conversation.id`); asks and messages the
 * tool sends are part of the same trace.
 *
 * @example
 * const result = await toolSpan("add", call.id, agentId, () => tools.add.execute(args, ctx));
 */
export async function toolSpan<T>(
  name: string,
  toolCallId: string,
  conversationId: string | undefined,
  fn: () => T | Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return fn();
  const attributes: Attributes = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": name,
    "gen_ai.tool.call.id": toolCallId,
    "gen_ai.tool.type": "function",
  };
  if (conversationId !== undefined) attributes["gen_ai.conversation.id"] = conversationId;
  return inSpan(`execute_tool ${name}`, SpanKind.INTERNAL, attributes, fn);
}

async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: () => T | Promise<T>,
  onResult?: (span: Span, result: T) => void,
): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), fn);
    onResult?.(span, result);
    return result;
  } catch (err) {
    span.setAttribute("error.type", errorType(err));
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** A low-cardinality name for a failure: a ModelError's kind, else the error's class name. */
function errorType(err: unknown): string {
  if (err instanceof ModelError) return err.kind;
  return err instanceof Error && err.name ? err.name : "_OTHER";
}
