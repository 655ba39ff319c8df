// One call at a time to a language model over the OpenAI-compatible chat
// completions API, which hosted providers and local servers (Ollama,
// llama.cpp, vLLM) all speak. The wire (HTTP, JSON, server-sent events) is the
// official `openai` client's; what a runtime needs around it is ours, on the
// injected Clock: an inactivity timeout each streamed chunk resets, retries
// with backoff that honour `retry-after`, failures classified as ModelError,
// an abort signal that ends the HTTP call at once, and a GenAI span per call.

import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import type {
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { MAX_TIMER_MS, type Clock } from "../clock.js";
import { InvalidArgumentError, InvalidConfigError, ModelError, ModelErrorKind } from "../errors.js";
import { chatSpan } from "./genai-span.js";
import { classifyModelError, retryDelayMs, worthRetrying } from "./model-error.js";

/** Where and how to call the model: what `defineAgent({ model })` takes. */
export interface ModelOptions {
  /** The API's base URL, e.g. `http://localhost:11434/v1`. Default: the `openai` client's (`OPENAI_BASE_URL`, else OpenAI's API). */
  baseURL?: string;
  /** The model name the endpoint knows, e.g. `gpt-4o-mini` or `qwen2.5`. */
  model: string;
  /** Default `OPENAI_API_KEY`, else `"none"` (local servers need no key). */
  apiKey?: string;
  /**
   * Longest silence from the model, per attempt: no response for this long, or
   * (streaming) no chunk for this long, and the attempt fails with kind
   * `timeout`. Each chunk resets it, so a long answer that keeps streaming
   * never times out. Default 120 000.
   */
  timeoutMs?: number;
  /** Retries of retryable failures (429, 5xx, timeout, connection) inside one call. Default 3. */
  maxRetries?: number;
  temperature?: number;
  /** Sent as `max_tokens` (the field local servers accept). */
  maxTokens?: number;
  /** More HTTP headers on every request. */
  headers?: Record<string, string>;
}

/** Model options after {@link checkModelOptions}: defaults filled in, frozen. */
export type CheckedModelOptions = Readonly<Required<Pick<ModelOptions, "model" | "timeoutMs" | "maxRetries">> & ModelOptions>;

/** A chat message in OpenAI's shape: plain JSON, so a conversation can be persisted as is. */
export type ModelMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ModelToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** A tool call the model made; `arguments` is the JSON text it wrote (not yet validated). */
export interface ModelToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A tool as the model sees it; `parameters` is a JSON Schema. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** Tokens one call used. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What one model call gave back. */
export interface ModelTurn {
  message: Extract<ModelMessage, { role: "assistant" }>;
  usage: ModelUsage;
  /** `stop`, `tool_calls`, `length`, ...; null when the server gave none. */
  finishReason: string | null;
  /** HTTP attempts made, 1 when the first succeeded. */
  attempts: number;
  /**
   * True when the server reported no usage and `usage` is an estimate: about
   * four characters a token, of the request's messages and tools for input and
   * of the reply's text and tool-call arguments for output.
   */
  usageEstimated?: boolean;
  /** The model that answered, as the response named it. */
  responseModel?: string;
  /** The response's id (`chatcmpl-...`). */
  responseId?: string;
}

/** One model call. */
export interface ModelCallRequest {
  messages: readonly ModelMessage[];
  /** The tools the model may call; empty sends no `tools` field. */
  tools: readonly ToolSpec[];
  /** Aborting it ends the HTTP call at once and makes `complete` throw the signal's reason (no retry). */
  signal?: AbortSignal;
  /**
   * Given: the call streams, and this gets each piece of text as it arrives,
   * in order. A stream that drops mid-way is retried as a whole call; the
   * pieces already given are not taken back, so after a retry the text starts
   * again from the beginning (`onRetry` tells when). An exception it throws
   * ends the call and is thrown by `complete` as it is.
   */
  onDelta?: (text: string) => void;
  /** Called before each retry with the failure, the wait about to start, and the attempt that failed (1 for the first). */
  onRetry?: (err: ModelError, delayMs: number, attempt: number) => void;
  /** Recorded on the span as `gen_ai.conversation.id`. */
  conversationId?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_RETRIES = 3;
/** More retries than this inside one call is a configuration mistake. */
const MAX_RETRIES_LIMIT = 100;
const OPTION_NAMES = ["baseURL", "model", "apiKey", "timeoutMs", "maxRetries", "temperature", "maxTokens", "headers"] as const;

/**
 * Check model options once, naming the bad field (`model.baseURL`,
 * `model.timeoutMs`, ...) in an InvalidConfigError, and fill in the defaults.
 * The API key is not resolved here (it stays out of anything persisted).
 */
export function checkModelOptions(value: unknown, field = "model"): CheckedModelOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidConfigError(field, `must be an object with at least { model: "<model name>" }, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  const name = (key: string): string => `${field}.${key}`;
  for (const key of Object.keys(o)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new InvalidConfigError(name(key), `is not a model option (they are: ${OPTION_NAMES.join(", ")})`);
    }
  }
  if (typeof o.model !== "string" || o.model.trim() === "") {
    throw new InvalidConfigError(name("model"), `must be a non-empty string naming the model, got ${describe(o.model)}`);
  }
  if (o.baseURL !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof o.baseURL === "string" ? new URL(o.baseURL) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new InvalidConfigError(name("baseURL"), `must be an http(s) URL such as http://localhost:11434/v1, got ${describe(o.baseURL)}`);
    }
  }
  if (o.apiKey !== undefined && typeof o.apiKey !== "string") {
    throw new InvalidConfigError(name("apiKey"), `must be a string, got ${describe(o.apiKey)}`);
  }
  if (o.timeoutMs !== undefined && !(isInteger(o.timeoutMs) && o.timeoutMs > 0 && o.timeoutMs <= MAX_TIMER_MS)) {
    throw new InvalidConfigError(name("timeoutMs"), `must be a whole number of milliseconds, 1 to ${MAX_TIMER_MS}, got ${describe(o.timeoutMs)}`);
  }
  if (o.maxRetries !== undefined && !(isInteger(o.maxRetries) && o.maxRetries >= 0 && o.maxRetries <= MAX_RETRIES_LIMIT)) {
    throw new InvalidConfigError(name("maxRetries"), `must be a whole number, 0 to ${MAX_RETRIES_LIMIT}, got ${describe(o.maxRetries)}`);
  }
  if (o.temperature !== undefined && !(typeof o.temperature === "number" && o.temperature >= 0 && o.temperature <= 2)) {
    throw new InvalidConfigError(name("temperature"), `must be a number from 0 to 2, got ${describe(o.temperature)}`);
  }
  if (o.maxTokens !== undefined && !(isInteger(o.maxTokens) && o.maxTokens > 0)) {
    throw new InvalidConfigError(name("maxTokens"), `must be a positive whole number, got ${describe(o.maxTokens)}`);
  }
  if (o.headers !== undefined) {
    const h = o.headers;
    if (typeof h !== "object" || h === null || Array.isArray(h)) {
      throw new InvalidConfigError(name("headers"), `must be an object of header names to strings, got ${describe(h)}`);
    }
    for (const [k, v] of Object.entries(h)) {
      if (typeof v !== "string") throw new InvalidConfigError(`${name("headers")}.${k}`, `must be a string, got ${describe(v)}`);
    }
  }
  const checked: ModelOptions & { timeoutMs: number; maxRetries: number } = {
    model: o.model,
    timeoutMs: (o.timeoutMs as number | undefined) ?? DEFAULT_TIMEOUT_MS,
    maxRetries: (o.maxRetries as number | undefined) ?? DEFAULT_MAX_RETRIES,
  };
  if (o.baseURL !== undefined) checked.baseURL = o.baseURL as string;
  if (o.apiKey !== undefined) checked.apiKey = o.apiKey;
  if (o.temperature !== undefined) checked.temperature = o.temperature as number;
  if (o.maxTokens !== undefined) checked.maxTokens = o.maxTokens as number;
  if (o.headers !== undefined) checked.headers = Object.freeze({ ...(o.headers as Record<string, string>) }) as Record<string, string>;
  return Object.freeze(checked);
}

/**
 * Calls a model, one call at a time per `complete`. All waiting (backoff,
 * timeouts) is on the clock given, so a FakeClock drives it in tests.
 *
 * @example
 * const client = new ModelClient({ baseURL: "http://localhost:11434/v1", model: "qwen2.5" }, systemClock);
 * const turn = await client.complete({ messages: [{ role: "user", content: "What is 2+3?" }], tools: [] });
 * turn.message.content; // "5"
 */
export class ModelClient {
  readonly options: CheckedModelOptions;
  private readonly openai: OpenAI;
  private readonly server: { address: string; port?: number };

  constructor(
    options: ModelOptions,
    private readonly clock: Clock,
  ) {
    this.options = checkModelOptions(options);
    this.openai = new OpenAI({
      ...(this.options.baseURL === undefined ? {} : { baseURL: this.options.baseURL }),
      apiKey: this.options.apiKey ?? process.env.OPENAI_API_KEY ?? "none",
      // Retries and timeouts are ours, on the injected clock.
      maxRetries: 0,
      timeout: MAX_TIMER_MS,
      ...(this.options.headers === undefined ? {} : { defaultHeaders: this.options.headers }),
    });
    this.server = serverOf(this.openai.baseURL);
  }

  /**
   * Make one model call: streamed when `onDelta` is given, else one JSON
   * response. Retryable failures are retried up to `maxRetries` times, waiting
   * what a 429 asked for or an exponential backoff with jitter. Throws
   * ModelError when it gives up, or the signal's reason when aborted.
   */
  async complete(req: ModelCallRequest): Promise<ModelTurn> {
    if (!Array.isArray(req.messages) || req.messages.length === 0) {
      throw new InvalidArgumentError("messages", "a model call needs at least one message");
    }
    const o = this.options;
    return chatSpan(
      {
        model: o.model,
        serverAddress: this.server.address,
        ...(this.server.port === undefined ? {} : { serverPort: this.server.port }),
        ...(req.conversationId === undefined ? {} : { conversationId: req.conversationId }),
        ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
        ...(o.maxTokens === undefined ? {} : { maxTokens: o.maxTokens }),
      },
      () => this.withRetries(req),
    );
  }

  private async withRetries(req: ModelCallRequest): Promise<ModelTurn> {
    for (let attempt = 1; ; attempt++) {
      if (req.signal?.aborted) throw abortReason(req.signal);
      try {
        return { ...(await this.attempt(req)), attempts: attempt };
      } catch (err) {
        if (req.signal?.aborted) throw abortReason(req.signal);
        if (err instanceof CallerError) throw err.error;
        const failure = classifyModelError(err, this.clock.now());
        if (attempt > this.options.maxRetries || !worthRetrying(failure)) throw failure;
        const delay = retryDelayMs(failure, attempt, Math.random());
        req.onRetry?.(failure, delay, attempt);
        await sleep(this.clock, delay, req.signal);
      }
    }
  }

  /** One HTTP attempt under the inactivity timeout and the caller's signal. */
  private async attempt(req: ModelCallRequest): Promise<Omit<ModelTurn, "attempts">> {
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs;
    let timedOut = false;
    const expire = (): void => {
      timedOut = true;
      controller.abort();
    };
    let timer = this.clock.setTimeout(expire, timeoutMs);
    const alive = (): void => {
      this.clock.clearTimeout(timer);
      timer = this.clock.setTimeout(expire, timeoutMs);
    };
    const onAbort = (): void => controller.abort();
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const timeout = (cause?: unknown): ModelError =>
      new ModelError(
        ModelErrorKind.Timeout,
        req.onDelta ? `the model sent nothing for ${timeoutMs} ms` : `no response from the model within ${timeoutMs} ms`,
        { retryable: true, ...(cause === undefined ? {} : { cause }) },
      );
    try {
      const turn = req.onDelta
        ? await this.streamed(req, req.onDelta, controller.signal, alive)
        : await this.whole(req, controller.signal);
      // An aborted stream ends quietly: what ended it decides the outcome.
      if (req.signal?.aborted) throw abortReason(req.signal);
      if (timedOut) throw timeout();
      return turn;
    } catch (err) {
      if (timedOut && !req.signal?.aborted && !(err instanceof CallerError) && !(err instanceof ModelError)) throw timeout(err);
      throw err;
    } finally {
      this.clock.clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
    }
  }

  private body(req: ModelCallRequest): ChatCompletionCreateParamsBase {
    const o = this.options;
    const body: ChatCompletionCreateParamsBase = {
      model: o.model,
      messages: req.messages as ChatCompletionMessageParam[],
    };
    if (req.tools.length > 0) body.tools = req.tools.map(toolParam);
    if (o.temperature !== undefined) body.temperature = o.temperature;
    if (o.maxTokens !== undefined) body.max_tokens = o.maxTokens;
    return body;
  }

  private async whole(req: ModelCallRequest, signal: AbortSignal): Promise<Omit<ModelTurn, "attempts">> {
    const completion = await this.openai.chat.completions.create({ ...this.body(req), stream: false }, { signal });
    const choice = completion.choices?.[0];
    if (choice === undefined) {
      throw new ModelError(ModelErrorKind.Server, "the response has no choices", { retryable: false });
    }
    const toolCalls: ModelToolCall[] = [];
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== "function") continue;
      toolCalls.push(toolCall(call.id, call.function.name, call.function.arguments));
    }
    const content = choice.message.content ?? (toolCalls.length > 0 ? null : "");
    return this.turn(req, content, toolCalls, choice.finish_reason ?? null, completion.usage, completion.model, completion.id);
  }

  private async streamed(
    req: ModelCallRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    alive: () => void,
  ): Promise<Omit<ModelTurn, "attempts">> {
    const stream = await this.openai.chat.completions.create(
      { ...this.body(req), stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    alive();
    let text = "";
    /** Tool calls by their `index`; arguments arrive in pieces. */
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    let finishReason: string | null = null;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined;
    let model: string | undefined;
    let id: string | undefined;
    for await (const chunk of stream) {
      // Chunks already read when the call was aborted are not passed on.
      if (signal.aborted) break;
      alive();
      if (typeof chunk.model === "string" && chunk.model !== "") model = chunk.model;
      if (typeof chunk.id === "string" && chunk.id !== "") id = chunk.id;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        if ((choice.index ?? 0) !== 0) continue;
        const delta = choice.delta;
        if (typeof delta?.content === "string" && delta.content !== "") {
          text += delta.content;
          try {
            onDelta(delta.content);
          } catch (err) {
            throw new CallerError(err);
          }
        }
        for (const part of delta?.tool_calls ?? []) {
          const at = typeof part.index === "number" ? part.index : part.id && !calls.some((c) => c?.id === part.id) ? calls.length : calls.length - 1;
          // The index comes from the server: a whole number below the cap, or the answer is not one we take.
          if (!Number.isInteger(at) || at < -1 || at >= MAX_TOOL_CALLS) {
            throw new ModelError(ModelErrorKind.Server, `the model's answer names tool call ${String(part.index)}; at most ${MAX_TOOL_CALLS} calls are taken`, { retryable: false });
          }
          const slot = (calls[Math.max(0, at)] ??= { id: "", name: "", arguments: "" });
          if (part.id) slot.id = part.id;
          if (part.function?.name) slot.name = part.function.name;
          if (part.function?.arguments) slot.arguments += part.function.arguments;
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
    if (finishReason === null && !signal.aborted) {
      throw new ModelError(ModelErrorKind.Connection, "the stream ended before the model finished its answer", { retryable: true });
    }
    const toolCalls = calls.filter((c) => c !== undefined && c.name !== "").map((c) => toolCall(c.id, c.name, c.arguments));
    const content = text === "" && toolCalls.length > 0 ? null : text;
    return this.turn(req, content, toolCalls, finishReason, usage, model, id);
  }

  private turn(
    req: ModelCallRequest,
    content: string | null,
    toolCalls: ModelToolCall[],
    finishReason: string | null,
    usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined,
    responseModel: string | undefined,
    responseId: string | undefined,
  ): Omit<ModelTurn, "attempts"> {
    const message: ModelTurn["message"] = { role: "assistant", content };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    const turn: Omit<ModelTurn, "attempts"> = { message, usage: { inputTokens: 0, outputTokens: 0 }, finishReason };
    if (usage && typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number") {
      turn.usage = { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
    } else {
      turn.usage = estimateUsage(req, message);
      turn.usageEstimated = true;
    }
    if (responseModel !== undefined) turn.responseModel = responseModel;
    if (responseId !== undefined) turn.responseId = responseId;
    return turn;
  }
}

/** Tool calls one model answer may make (a streamed call's `index` is checked against it). */
export const MAX_TOOL_CALLS = 128;

/** An exception of the caller's own callback (`onDelta`): passed through as it is, never retried. */
class CallerError extends Error {
  constructor(readonly error: unknown) {
    super("the onDelta callback threw");
  }
}

function toolParam(tool: ToolSpec): ChatCompletionTool {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/** A tool call as kept in the conversation; a server that gave no id gets a unique one, and no arguments are `{}`. */
function toolCall(id: string | undefined, name: string, args: string | undefined): ModelToolCall {
  return {
    id: id && id !== "" ? id : `call_${randomUUID()}`,
    type: "function",
    function: { name, arguments: args && args.trim() !== "" ? args : "{}" },
  };
}

/** About four characters a token: used only when the server reports no usage. */
function estimateUsage(req: ModelCallRequest, reply: ModelTurn["message"]): ModelUsage {
  const input = JSON.stringify(req.messages).length + (req.tools.length > 0 ? JSON.stringify(req.tools).length : 0);
  const output = (reply.content ?? "").length + (reply.tool_calls ?? []).reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
  return { inputTokens: Math.ceil(input / 4), outputTokens: Math.ceil(output / 4) };
}

/** What an aborted call throws: the signal's reason when it is an Error, else a ModelError of kind `aborted`. */
function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new ModelError(ModelErrorKind.Aborted, reason === undefined ? "the call was aborted" : `the call was aborted: ${String(reason)}`, {
    retryable: false,
  });
}

/** Wait `ms` on the clock; an abort of `signal` ends the wait with its reason. */
function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Host and port of the endpoint, for the span. */
function serverOf(baseURL: string): { address: string; port?: number } {
  try {
    const url = new URL(baseURL);
    const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : url.protocol === "http:" ? 80 : undefined;
    return port === undefined ? { address: url.hostname } : { address: url.hostname, port };
  } catch {
    return { address: baseURL };
  }
}

function isInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null || v === undefined || typeof v === "number" || typeof v === "boolean") return String(v);
  return Array.isArray(v) ? "an array" : typeof v;
}
