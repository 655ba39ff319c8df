// Troupe's stream chunks as the NATS agent protocol's (0.3, §6): `{type, data}`
// JSON, the mandatory `ack`, the zero-byte terminator, and a Troupe error as
// the status code and description of §9 (only the codes of §9.2).

import type { Chunk } from "../chunk.js";
import { ErrorCode, errorText, TroupeError } from "../errors.js";

/** A protocol chunk: `{ type, data }`. */
export interface ProtocolChunk {
  type: string;
  data: unknown;
}

/** The first message of every stream (§6.4), also sent as a keep-alive. */
export const ACK_CHUNK: ProtocolChunk = Object.freeze({ type: "status", data: "ack" });

/** Troupe status values that only keep a stream alive: the protocol's periodic `ack` stands in for them. */
const KEEP_ALIVE_STATUSES = new Set(["working", "thinking", "awaiting_approval"]);

/**
 * The protocol chunk for a Troupe chunk, or undefined when nothing is sent.
 * `textSent` says whether `text` deltas already carried the answer (then the
 * `done` chunk adds nothing, as callers concatenate response texts).
 * `approval` chunks are not mapped here: they become queries (see agent-prompt.ts).
 */
export function protocolChunk(chunk: Chunk, textSent: boolean): ProtocolChunk | undefined {
  switch (chunk.type) {
    case "text":
      return { type: "response", data: String((chunk as { delta: unknown }).delta) };
    case "status": {
      const status = String((chunk as { status: unknown }).status);
      return KEEP_ALIVE_STATUSES.has(status) ? undefined : { type: "status", data: status };
    }
    case "done": {
      const value = (chunk as { value: unknown }).value;
      const text = (chunk as { text?: unknown }).text;
      if (typeof text === "string") return textSent ? undefined : { type: "response", data: text };
      if (typeof value === "string") return { type: "response", data: value };
      return { type: "response", data: { text: value === undefined ? "" : JSON.stringify(value), value: value ?? null } };
    }
    case "approval":
      return undefined;
    default: {
      // tool_call, tool_result and an agent's own chunks: unknown types, which callers skip (§6.2).
      const { type, ...rest } = chunk as { type: string };
      return { type, data: rest };
    }
  }
}

/** Status codes of §9.2. */
export const ProtocolStatus = { BadRequest: 400, Forbidden: 403, NotFound: 404, Conflict: 409, RateLimited: 429, Internal: 500 } as const;
export type ProtocolStatus = (typeof ProtocolStatus)[keyof typeof ProtocolStatus];

/** Which §9.2 code a Troupe error is. */
const CODES: Partial<Record<string, ProtocolStatus>> = {
  [ErrorCode.InvalidMessage]: ProtocolStatus.BadRequest,
  [ErrorCode.InvalidArgument]: ProtocolStatus.BadRequest,
  [ErrorCode.StreamOverflow]: ProtocolStatus.BadRequest,
  [ErrorCode.PermissionDenied]: ProtocolStatus.Forbidden,
  [ErrorCode.UnverifiedSender]: ProtocolStatus.Forbidden,
  [ErrorCode.AgentNotFound]: ProtocolStatus.NotFound,
  [ErrorCode.UnknownAgentType]: ProtocolStatus.NotFound,
  [ErrorCode.NoNodeForType]: ProtocolStatus.NotFound,
  [ErrorCode.AgentStopped]: ProtocolStatus.NotFound,
  [ErrorCode.ApprovalNotFound]: ProtocolStatus.NotFound,
  [ErrorCode.ConversationBusy]: ProtocolStatus.Conflict,
  [ErrorCode.AgentExists]: ProtocolStatus.Conflict,
  [ErrorCode.StateConflict]: ProtocolStatus.Conflict,
  [ErrorCode.AgentFenced]: ProtocolStatus.Conflict,
  [ErrorCode.MailboxFull]: ProtocolStatus.RateLimited,
  [ErrorCode.BudgetExceeded]: ProtocolStatus.RateLimited,
};

/** The §9 error of a failure: code, one-line description (header), and the JSON body `{ error, message, name }`. */
export function protocolError(err: unknown): { code: ProtocolStatus; description: string; body: { error: string; message: string; name?: string } } {
  const message = errorText(err);
  if (err instanceof TroupeError) {
    let code = CODES[err.code] ?? ProtocolStatus.Internal;
    if (err.code === ErrorCode.Model && (err as { kind?: unknown }).kind === "rate_limit") code = ProtocolStatus.RateLimited;
    return { code, description: headerText(message), body: { error: err.code.toLowerCase(), message, name: err.name } };
  }
  return { code: ProtocolStatus.Internal, description: headerText(message), body: { error: "internal", message } };
}

/** Header values are one line: newlines go, and it is cut to 200 characters (richer text is in the body). */
export function headerText(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ");
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** `max_payload` as §2.1 writes it: an integer and B, KB or MB (rounded down). */
export function formatMaxPayload(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MB`;
  if (bytes >= 1024) return `${Math.floor(bytes / 1024)}KB`;
  return `${bytes}B`;
}
