// What a stream yields: typed chunks of an answer, sent by the agent with
// `ctx.emit(chunk)` while it works, then one `done` chunk made from its
// reply. Model agents send the kinds named here; any agent may send its own
// (an object with a string `type`).

/** A piece of the answer's text. */
export interface TextChunk {
  type: "text";
  delta: string;
}

/** The model asked for a tool. */
export interface ToolCallChunk {
  type: "tool_call";
  id: string;
  name: string;
  args: unknown;
}

/** A tool answered (or failed: `error` says why, and the model is told). */
export interface ToolResultChunk {
  type: "tool_result";
  id: string;
  name: string;
  result?: unknown;
  error?: string;
}

/** Progress without content: a keep-alive while the model thinks, or what the agent waits for. */
export interface StatusChunk {
  type: "status";
  status: string;
}

/** A tool call waits for a person: answer with `ref.approve(id)` or `ref.deny(id, reason)`. */
export interface ApprovalChunk {
  type: "approval";
  id: string;
  tool: string;
  args: unknown;
}

/**
 * The last chunk: the agent's reply. For a model agent the reply is
 * `{ text, usage, steps }`, and those fields are the chunk's too; `value` is
 * always the reply as `ask` would have returned it.
 */
export interface DoneChunk<R = unknown> {
  type: "done";
  value: R;
  text?: string;
  usage?: { inputTokens: number; outputTokens: number };
  steps?: number;
}

/** A chunk an agent made up itself. */
export interface CustomChunk {
  type: string;
  [field: string]: unknown;
}

/** Anything a stream yields. */
export type Chunk<R = unknown> = TextChunk | ToolCallChunk | ToolResultChunk | StatusChunk | ApprovalChunk | DoneChunk<R> | CustomChunk;

/** The status chunk a plain ask gets as a keep-alive (it carries nothing an asker reads). */
export const KEEP_ALIVE: StatusChunk = Object.freeze({ type: "status", status: "working" }) as StatusChunk;

/** The `done` chunk for a reply: the reply as `value`, and a reply object's own fields beside it. */
export function doneChunk<R>(value: R): DoneChunk<R> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return { ...(value as object), type: "done", value } as DoneChunk<R>;
  }
  return { type: "done", value };
}

/** Whether `chunk` is something `ctx.emit` takes: a plain object with a string `type`, not `done` (the reply makes that). */
export function isEmittable(chunk: unknown): chunk is Chunk {
  return (
    chunk !== null &&
    typeof chunk === "object" &&
    !Array.isArray(chunk) &&
    typeof (chunk as { type?: unknown }).type === "string" &&
    (chunk as { type: string }).type !== "done"
  );
}
