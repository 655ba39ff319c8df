// How agentctl shows a model agent's conversation (`agentctl transcript`):
// the journal read back request by request, each with its messages, the log
// lines that belong to it (approvals, refusals, budget stops, model errors)
// placed beside the tool call they are about, and its usage. Model text,
// tool results and arguments are hostile input: control characters are
// replaced before anything reaches the terminal.

import { isJournal, type Journal, type LogEntry, type PendingApproval } from "../runtime/model/journal.js";
import type { WireError } from "../runtime/errors.js";
import { formatDuration, toJson } from "./output.js";

/** The widest text a transcript line shows; longer text ends in `…` (`--json` has it in full). */
export const TRANSCRIPT_WIDTH = 100;

/** A stored state that is not a model agent's conversation was asked for as one (exit 1). */
export class NotAConversationError extends Error {
  override readonly name = "NotAConversationError";
  constructor(id: string) {
    super(`${id} is not a model agent (its state is not a conversation)`);
  }
}

/** The state of `id` as a journal, or NotAConversationError. */
export function journalOf(id: string, value: unknown): Journal {
  if (!isJournal(value)) throw new NotAConversationError(id);
  return value;
}

/** One line of a request in the transcript. */
export type TranscriptEntry =
  | { kind: "user"; text: string }
  | { kind: "system"; text: string }
  | { kind: "assistant"; text: string }
  | { kind: "tool_call"; id: string; name: string; args: unknown }
  | { kind: "tool_result"; id: string; name: string; result: unknown }
  | { kind: "log"; entry: LogEntry };

/**
 * Where a request stands: answered, failed, still open, or `earlier` (its
 * outcome is no longer kept, so its id and usage are not known, or only its
 * log lines are).
 */
export type RequestStatus = "done" | "failed" | "open" | "earlier";

/** One request of the conversation and what happened in it. */
export interface TranscriptRequest {
  /** The request's id; null for an earlier one whose outcome is no longer kept. */
  id: string | null;
  status: RequestStatus;
  /** Tokens of a finished request (done), or so far (open). */
  usage?: { inputTokens: number; outputTokens: number };
  /** Model calls of a finished request (done), or so far (open). */
  steps?: number;
  error?: WireError;
  entries: TranscriptEntry[];
}

/** A model agent's conversation, request by request, with the conversation's totals. */
export interface Transcript {
  id: string;
  requests: TranscriptRequest[];
  /** The conversation's totals over every finished request. */
  spent: Journal["spent"];
  /** The approval the open request waits for, if any. */
  waiting: PendingApproval | null;
}

/**
 * The conversation in a journal, request by request. The journal keeps the
 * messages of answered requests (a failed one's are taken out) and the
 * outcomes of the latest requests in order, so the answered outcomes are
 * matched to the conversation's exchanges from the newest back; older
 * exchanges are `earlier` requests.
 */
export function transcriptOf(id: string, j: Journal): Transcript {
  const exchanges = splitExchanges(j);
  const openExchange = j.request !== null && exchanges.length > 0 && exchanges[exchanges.length - 1]!.first === j.request.first ? exchanges.pop()! : undefined;
  const answered = j.outcomes.filter((o) => o.value !== undefined).length;
  const unmatched = Math.max(0, exchanges.length - answered);
  const requests: TranscriptRequest[] = exchanges.slice(0, unmatched).map((x) => ({ id: null, status: "earlier", entries: x.entries }));
  let next = unmatched;
  // Answered outcomes older than every kept exchange (only a journal edited by hand has them) get none.
  let skip = Math.max(0, answered - exchanges.length);
  for (const o of j.outcomes) {
    if (o.value !== undefined) {
      let entries: TranscriptEntry[] = [];
      if (skip > 0) skip--;
      else entries = exchanges[next++]!.entries;
      requests.push({ id: o.id, status: "done", usage: o.value.usage, steps: o.value.steps, entries });
    } else {
      requests.push({ id: o.id, status: "failed", ...(o.error ? { error: o.error } : {}), entries: [] });
    }
  }
  if (j.request) {
    const r = j.request;
    requests.push({ id: r.id, status: "open", usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens }, steps: r.modelCalls, entries: openExchange?.entries ?? [] });
  }
  placeLog(requests, j.log);
  return { id, requests, spent: j.spent, waiting: j.request?.approval ?? null };
}

/** The conversation's exchanges: each user message with the messages that follow it. */
function splitExchanges(j: Journal): Array<{ first: number; entries: TranscriptEntry[] }> {
  const names = new Map<string, string>();
  const exchanges: Array<{ first: number; entries: TranscriptEntry[] }> = [];
  j.messages.forEach((m, i) => {
    if (m.role === "user" || exchanges.length === 0) exchanges.push({ first: i, entries: [] });
    const entries = exchanges[exchanges.length - 1]!.entries;
    switch (m.role) {
      case "user":
      case "system":
        entries.push({ kind: m.role, text: m.content });
        break;
      case "assistant":
        if (m.content) entries.push({ kind: "assistant", text: m.content });
        for (const c of m.tool_calls ?? []) {
          names.set(c.id, c.function.name);
          entries.push({ kind: "tool_call", id: c.id, name: c.function.name, args: parseJson(c.function.arguments) });
        }
        break;
      case "tool":
        entries.push({ kind: "tool_result", id: m.tool_call_id, name: names.get(m.tool_call_id) ?? "?", result: parseJson(m.content) });
        break;
    }
  });
  return exchanges;
}

/**
 * Put each log line in its request: a line about a tool call (an approval, a
 * refusal) right after that call, the rest at the request's end. Log lines
 * whose request is no longer known make `earlier` requests of their own,
 * before the known ones (they are older).
 */
function placeLog(requests: TranscriptRequest[], log: readonly LogEntry[]): void {
  const byId = new Map<string, TranscriptRequest>();
  for (const r of requests) if (r.id !== null) byId.set(r.id, r);
  const orphans: TranscriptRequest[] = [];
  const grouped = new Map<TranscriptRequest, LogEntry[]>();
  for (const entry of log) {
    let r = byId.get(entry.request);
    if (r === undefined) {
      r = { id: entry.request, status: "earlier", entries: [] };
      byId.set(entry.request, r);
      orphans.push(r);
    }
    const lines = grouped.get(r) ?? [];
    lines.push(entry);
    grouped.set(r, lines);
  }
  for (const [r, lines] of grouped) r.entries = interleave(r.entries, lines);
  const firstKnown = requests.findIndex((r) => r.status !== "earlier");
  requests.splice(firstKnown === -1 ? requests.length : firstKnown, 0, ...orphans);
}

/** A request's entries with its log lines placed after the tool calls they name, in order. */
function interleave(entries: readonly TranscriptEntry[], lines: readonly LogEntry[]): TranscriptEntry[] {
  const after = new Map<number, LogEntry[]>();
  const tail: LogEntry[] = [];
  const approvals = new Map<string, number>();
  let claimed = -1;
  for (const line of lines) {
    const tool = typeof line.tool === "string" ? line.tool : undefined;
    const approval = typeof line.approval === "string" ? line.approval : undefined;
    let at = approval !== undefined ? approvals.get(approval) : undefined;
    if (at === undefined && tool !== undefined) {
      // A new approval or a refusal is about the next call of that tool.
      at = entries.findIndex((e, i) => i > claimed && e.kind === "tool_call" && e.name === tool);
      if (at === -1) at = undefined;
      else claimed = at;
    }
    if (at === undefined) {
      tail.push(line);
      continue;
    }
    if (approval !== undefined) approvals.set(approval, at);
    const list = after.get(at) ?? [];
    list.push(line);
    after.set(at, list);
  }
  const out: TranscriptEntry[] = [];
  entries.forEach((e, i) => {
    out.push(e);
    for (const entry of after.get(i) ?? []) out.push({ kind: "log", entry });
  });
  for (const entry of tail) out.push({ kind: "log", entry });
  return out;
}

/** The transcript as plain JSON data: full text, times as ISO strings. */
export function transcriptJson(t: Transcript): Record<string, unknown> {
  return {
    id: t.id,
    spent: t.spent,
    waiting: t.waiting ? { ...t.waiting, deadline: isoTime(t.waiting.deadline) } : null,
    requests: t.requests.map((r) => ({
      ...r,
      entries: r.entries.map((e) => (e.kind === "log" ? { kind: "log", ...e.entry, at: isoTime(e.entry.at) } : e)),
    })),
  };
}

/** The transcript as lines of text, each cut to {@link TRANSCRIPT_WIDTH}. */
export function transcriptText(t: Transcript): string[] {
  const lines: string[] = [`conversation of ${t.id}`];
  if (t.requests.length === 0) lines.push("", "no requests yet");
  for (const r of t.requests) {
    lines.push("", requestHeader(r));
    for (const e of r.entries) lines.push(entryLine(e));
  }
  const s = t.spent;
  lines.push("", `usage: ${s.tokens} tokens, ${s.modelCalls} model call${s.modelCalls === 1 ? "" : "s"}, ${formatDuration(s.wallMs)} wall time over the finished requests`);
  return lines;
}

function requestHeader(r: TranscriptRequest): string {
  const name = r.id === null ? "earlier request" : `request ${clean(r.id)}`;
  switch (r.status) {
    case "done":
      return `${name}: done, ${usageText(r)}`;
    case "failed":
      return cut(`${name}: failed, ${r.error ? `${r.error.name}: ${r.error.message}` : "no error kept"}`, TRANSCRIPT_WIDTH);
    case "open":
      return `${name}: in progress, ${usageText(r)} so far`;
    case "earlier":
      return `${name} (its outcome is no longer kept)`;
  }
}

function usageText(r: TranscriptRequest): string {
  const steps = r.steps ?? 0;
  const u = r.usage ?? { inputTokens: 0, outputTokens: 0 };
  return `${steps} model call${steps === 1 ? "" : "s"}, ${u.inputTokens} input + ${u.outputTokens} output tokens`;
}

function entryLine(e: TranscriptEntry): string {
  switch (e.kind) {
    case "user":
      return `  user       ${cut(e.text, TRANSCRIPT_WIDTH)}`;
    case "system":
      return `  system     ${cut(e.text, TRANSCRIPT_WIDTH)}`;
    case "assistant":
      return `  assistant  ${cut(e.text, TRANSCRIPT_WIDTH)}`;
    case "tool_call":
      return `  tool call  ${cut(`${e.name}(${compact(e.args)})`, TRANSCRIPT_WIDTH)}`;
    case "tool_result":
      return `  result     ${cut(`${e.name}: ${compact(e.result)}`, TRANSCRIPT_WIDTH)}`;
    case "log":
      return `  event      ${cut(logText(e.entry), TRANSCRIPT_WIDTH)}`;
  }
}

/** A log line in words. */
function logText(l: LogEntry): string {
  const by = typeof l.by === "string" ? ` by ${l.by}` : "";
  switch (l.event) {
    case "approval_requested":
      return `approval ${l.approval} requested for ${l.tool}(${compact(l.args)})`;
    case "approved":
      return `approval ${l.approval} approved${by}`;
    case "denied":
      return `approval ${l.approval} denied${by}: ${l.reason}`;
    case "approval_timeout":
      return `approval ${l.approval} timed out (${l.reason}); the call was denied`;
    case "tool_refused":
      return `tool call ${l.tool} refused (${l.refusal}): ${l.error}`;
    case "budget_exceeded":
      return `stopped by its budget: ${l.error}`;
    case "model_error":
      return `model error: ${l.error}`;
    default: {
      const { at: _at, request: _request, event, ...rest } = l;
      return `${event} ${compact(rest)}`;
    }
  }
}

/** JSON text that parses, as its value; other text as it is. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A value on one line: a string as it is, anything else as compact JSON. */
function compact(value: unknown): string {
  return typeof value === "string" ? value : toJson(value);
}

/** An agent's clock time (ms since the epoch) as an ISO string; a bad one as it is. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** Text on one line: newlines and tabs as spaces, other control characters (escape sequences) as `?`. */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\n\t]/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** `text` on one line, at most `width` characters. */
function cut(text: string, width: number): string {
  const one = clean(text);
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}
