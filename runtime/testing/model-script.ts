// What the scripted model server answers: the steps of a script (a text reply,
// tool calls, an error in OpenAI's shape, a dropped connection, each with
// optional delays), builders for the usual provider errors, the request as the
// server parsed it, and helpers for scripts that match on the request. Part of
// `troupe/testing`; the server that plays a script is in model-server.ts.

import { InvalidConfigError } from "../errors.js";

/** A chat message as an OpenAI-compatible client sends it (`content` is a string or a list of parts). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type?: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  name?: string;
  [field: string]: unknown;
}

/** A chat completions request body, as parsed by the server (fields it does not know are kept). */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  [field: string]: unknown;
}

/** The reasons a reply can finish with. */
export const FinishReason = {
  Stop: "stop",
  ToolCalls: "tool_calls",
  Length: "length",
  ContentFilter: "content_filter",
} as const;
export type FinishReason = (typeof FinishReason)[keyof typeof FinishReason];

/** One tool call the model makes: a name and JSON arguments (or `arguments`, sent verbatim, to script malformed ones). */
export interface ScriptedToolCall {
  name: string;
  /** Encoded as JSON. Default `{}`. */
  args?: Record<string, unknown>;
  /** The arguments text exactly as sent (for example invalid JSON); wins over `args`. */
  arguments?: string;
  /** Default `call_<call>_<n>`. */
  id?: string;
}

/** Token counts reported for a step; a missing one is derived from lengths (about four characters a token). */
export interface ScriptedUsage {
  promptTokens?: number;
  completionTokens?: number;
}

/** Timing shared by every step. */
export interface StepTiming {
  /** Wait this long (on the server's clock) before the response starts. */
  delayMs?: number;
}

/** A reply: text, tool calls, or both. Streamed as chunks when the request asks for `stream: true`. */
export interface ReplyStep extends StepTiming {
  /** The reply text; a list gives the exact stream deltas (joined when not streaming). Default: split after each whitespace. */
  text?: string | readonly string[];
  toolCalls?: readonly ScriptedToolCall[];
  usage?: ScriptedUsage;
  /** Default `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: FinishReason;
  /** Streaming: wait this long between chunks (a long answer that keeps streaming). */
  chunkDelayMs?: number;
  /** Streaming: drop the connection after this many chunks, without a final chunk or `[DONE]`. */
  dropAfterChunks?: number;
}

/** An error answer in OpenAI's shape `{ error: { message, type, param, code } }`. */
export interface ScriptedError {
  /** HTTP status: 429 rate limit, 400 bad request (context too long), 500, 503... */
  status: number;
  message?: string;
  type?: string;
  code?: string | null;
  param?: string | null;
  /** Seconds, sent as the `retry-after` header. */
  retryAfter?: number;
  /** More response headers. */
  headers?: Readonly<Record<string, string>>;
}

/** Answer with an HTTP error. */
export interface ErrorStep extends StepTiming {
  error: ScriptedError;
}

/** Close the connection without answering (the client sees a connection error). */
export interface DropStep extends StepTiming {
  drop: true;
}

/** One answer of the scripted model. */
export type ModelStep = ReplyStep | ErrorStep | DropStep;

/** Chooses the answer from the request; `call` counts chat requests from 0. */
export type ModelResponder = (request: ChatRequest, call: number) => ModelStep | Promise<ModelStep>;

/**
 * What the server answers: steps in order (each may be a responder that looks at
 * the request), or one responder for every call.
 *
 * @example
 * const script: ModelScript = [
 *   { toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
 *   (req) => ({ text: `The sum is ${toolResults(req)[0]?.content}` }),
 * ];
 */
export type ModelScript = readonly (ModelStep | ModelResponder)[] | ModelResponder;

/** A 429 as OpenAI sends it, with a `retry-after` header when `retryAfterSeconds` is given. */
export function rateLimitError(retryAfterSeconds?: number): ErrorStep {
  return {
    error: {
      status: 429,
      type: "requests",
      code: "rate_limit_exceeded",
      message: `Rate limit reached for requests. Please try again${retryAfterSeconds === undefined ? " later" : ` in ${retryAfterSeconds}s`}.`,
      ...(retryAfterSeconds === undefined ? {} : { retryAfter: retryAfterSeconds }),
    },
  };
}

/** A 400 with code `context_length_exceeded`: the conversation no longer fits the model. */
export function contextLengthError(maxTokens = 8192): ErrorStep {
  return {
    error: {
      status: 400,
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: "messages",
      message: `This model's maximum context length is ${maxTokens} tokens. Please reduce the length of the messages.`,
    },
  };
}

/** A server-side failure: 500 by default, 503 for an overloaded model. */
export function serverError(status: 500 | 502 | 503 | 504 = 500): ErrorStep {
  return {
    error: {
      status,
      type: "server_error",
      message:
        status === 503
          ? "The model is currently overloaded. Please try again later."
          : "The server had an error while processing your request.",
    },
  };
}

/** The text of a message: its string content, or its text parts joined. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** The text of the last user message, or undefined when there is none. */
export function lastUserText(request: ChatRequest): string | undefined {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === "user") return messageText(m);
  }
  return undefined;
}

/** The tool results sent after the last assistant message (empty when the last turn is not tool results). */
export function toolResults(request: ChatRequest): Array<{ toolCallId: string; content: string }> {
  const results: Array<{ toolCallId: string; content: string }> = [];
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== "tool") break;
    results.unshift({ toolCallId: m.tool_call_id ?? "", content: messageText(m) });
  }
  return results;
}

/** Why `step` cannot be played, or undefined when it can. */
export function stepProblem(step: unknown): string | undefined {
  if (!isRecord(step)) return "a step is an object ({ text }, { toolCalls }, { error }, { drop: true })";
  for (const field of ["delayMs", "chunkDelayMs", "dropAfterChunks"] as const) {
    const v = step[field];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      return `${field} must be a number >= 0`;
    }
  }
  if ("error" in step) {
    const e = step.error;
    if (!isRecord(e) || typeof e.status !== "number" || !Number.isInteger(e.status) || e.status < 400 || e.status > 599) {
      return "error.status must be an HTTP error status (400-599)";
    }
    if (e.retryAfter !== undefined && !(typeof e.retryAfter === "number" && e.retryAfter >= 0)) {
      return "error.retryAfter must be a number of seconds >= 0";
    }
    return undefined;
  }
  if ("drop" in step) return step.drop === true ? undefined : "drop must be true";
  const { text, toolCalls } = step;
  if (text === undefined && toolCalls === undefined) return "a reply step needs text or toolCalls";
  if (text !== undefined && typeof text !== "string" && !(Array.isArray(text) && text.every((t) => typeof t === "string"))) {
    return "text must be a string or a list of strings";
  }
  if (toolCalls !== undefined) {
    if (!Array.isArray(toolCalls)) return "toolCalls must be a list";
    for (const [i, call] of toolCalls.entries()) {
      if (!isRecord(call) || typeof call.name !== "string" || call.name === "") return `toolCalls[${i}].name must be a non-empty string`;
      if (call.arguments !== undefined && typeof call.arguments !== "string") return `toolCalls[${i}].arguments must be a string`;
      if (call.args !== undefined && !isRecord(call.args)) return `toolCalls[${i}].args must be an object`;
    }
  }
  return undefined;
}

/** Checks a script once, before the server starts; a bad step is named by its place. */
export function validateScript(script: ModelScript): void {
  if (typeof script === "function") return;
  if (!Array.isArray(script)) throw new InvalidConfigError("script", "a script is a list of steps or a function");
  script.forEach((step: unknown, i) => {
    if (typeof step === "function") return;
    const problem = stepProblem(step);
    if (problem) throw new InvalidConfigError(`script[${i}]`, problem);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
