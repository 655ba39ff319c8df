// The wire form of a scripted reply, as OpenAI's chat completions API sends it:
// one `chat.completion` object, or the `chat.completion.chunk` objects of a
// stream (role, content deltas, tool call deltas with arguments split over
// several chunks, the finish reason, usage when asked). Pure functions; the
// scripted model server (model-server.ts) writes what they build.

import { FinishReason, messageText, type ChatRequest, type ReplyStep } from "./model-script.js";

/** Fields every completion and chunk of one answer share. */
export interface CompletionBase {
  id: string;
  created: number;
  model: string;
  /** Counts chat requests from 0; names the tool calls (`call_<call+1>_<n>`). */
  call: number;
}

/** `usage` as the API reports it. */
export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The text of a reply, as the deltas a stream sends. */
export function textDeltas(step: ReplyStep): string[] {
  if (step.text === undefined) return [];
  if (typeof step.text !== "string") return [...step.text];
  return step.text === "" ? [] : step.text.split(/(?<=\s)/);
}

/** The tool calls of a reply with their ids and encoded arguments. */
export function wireToolCalls(step: ReplyStep, call: number): WireToolCall[] {
  return (step.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${call + 1}_${i + 1}`,
    type: "function" as const,
    function: { name: c.name, arguments: c.arguments ?? JSON.stringify(c.args ?? {}) },
  }));
}

/** The token counts of a reply: scripted ones, or about four characters a token. */
export function usageOf(step: ReplyStep, request: ChatRequest, call: number): WireUsage {
  const promptChars = request.messages.reduce(
    (n, m) => n + messageText(m).length + (m.tool_calls ? JSON.stringify(m.tool_calls).length : 0),
    0,
  );
  const completionChars =
    textDeltas(step).join("").length +
    wireToolCalls(step, call).reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
  const prompt_tokens = step.usage?.promptTokens ?? Math.max(1, Math.ceil(promptChars / 4));
  const completion_tokens = step.usage?.completionTokens ?? Math.ceil(completionChars / 4);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function finishReasonOf(step: ReplyStep): FinishReason {
  return step.finishReason ?? (step.toolCalls?.length ? FinishReason.ToolCalls : FinishReason.Stop);
}

/** The whole answer as one `chat.completion` object. */
export function completion(step: ReplyStep, base: CompletionBase, usage: WireUsage): Record<string, unknown> {
  const toolCalls = wireToolCalls(step, base.call);
  const text = textDeltas(step).join("");
  return {
    id: base.id,
    object: "chat.completion",
    created: base.created,
    model: base.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: step.text === undefined ? null : text,
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReasonOf(step),
      },
    ],
    usage,
  };
}

/** Splits arguments text into up to three non-empty pieces, so a client has to join them. */
function argumentPieces(args: string): string[] {
  if (args.length < 3) return [args];
  const size = Math.ceil(args.length / 3);
  const pieces: string[] = [];
  for (let at = 0; at < args.length; at += size) pieces.push(args.slice(at, at + size));
  return pieces;
}

/**
 * The answer as stream chunks: the role, each content delta, each tool call
 * (id, type and name first, then its arguments in pieces), the finish reason,
 * and with `includeUsage` a last chunk with no choices and the usage (every
 * other chunk then carries `usage: null`, as the API does).
 */
export function completionChunks(
  step: ReplyStep,
  base: CompletionBase,
  usage: WireUsage,
  includeUsage: boolean,
): Record<string, unknown>[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: base.id,
    object: "chat.completion.chunk",
    created: base.created,
    model: base.model,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const delta = (d: Record<string, unknown>) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: null }]);

  const chunks = [delta({ role: "assistant", content: "", refusal: null })];
  for (const text of textDeltas(step)) chunks.push(delta({ content: text }));
  wireToolCalls(step, base.call).forEach((call, index) => {
    chunks.push(
      delta({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] }),
    );
    for (const piece of argumentPieces(call.function.arguments)) {
      chunks.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunks.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReasonOf(step) }]));
  if (includeUsage) chunks.push(chunk([], { usage }));
  return chunks;
}

/** The body of an error answer, in OpenAI's shape. */
export function errorBody(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } };
}
