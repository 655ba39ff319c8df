// A model agent's persisted state: its conversation and the journal of the
// request in progress. Every completed model call and every completed tool
// call is in here, committed, before the loop moves on, so an activation that
// starts from it (after a crash, a restart, a failover) repeats neither: it
// sends the model only what is not answered yet, and runs again only a tool
// call that was started and has no result (with the same idempotency key).
//
// Plain JSON throughout: it is encoded with the agent's state and read back
// by `agentctl transcript`.

import type { WireError } from "../errors.js";
import type { Spent } from "./budget.js";
import type { ModelMessage, ModelToolCall } from "./model-client.js";

/** The journal's shape version; a stored state of another shape is not taken for a journal. */
export const JOURNAL_VERSION = 1;

/** Outcomes of finished requests kept to answer an ask sent again with the same id. */
export const KEPT_OUTCOMES = 32;

/** Entries of the journal's log (approvals, refusals, failures) kept for the transcript. */
export const KEPT_LOG = 200;

/** What a model agent answers: the final text, the tokens the request used, and how many model calls it took. */
export interface ModelReply {
  text: string;
  usage: { inputTokens: number; outputTokens: number };
  steps: number;
}

/** Where the asker of a request waits: the reply subject and message id, and whether it streams. */
export interface RequestChannel {
  reply: string;
  id: string;
  /** A stream's inactivity timeout; null for a plain ask. */
  stream: number | null;
}

/** A tool call that waits for a person. */
export interface PendingApproval {
  id: string;
  toolCallId: string;
  tool: string;
  /** Exactly the arguments the approval showed; the approved call runs with these. */
  args: unknown;
  /** When it is denied for want of an answer, on the agent's clock. */
  deadline: number;
}

/** The request in progress. */
export interface OpenRequest {
  id: string;
  /** Index in `messages` of the request's user message: what a failed request takes back out. */
  first: number;
  startedAt: number;
  /** Input and output tokens of this request's model calls. */
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
  /** Tool calls a person approved (they run without asking again). */
  approved: string[];
  approval: PendingApproval | null;
  /** Where the asker waits, when someone asked (a tell has nobody). */
  channel: RequestChannel | null;
}

/** How a finished request ended, kept for an ask sent again with its id. */
export interface StoredOutcome {
  id: string;
  value?: ModelReply;
  error?: WireError;
}

/** One line of the journal's log, for the transcript. */
export interface LogEntry {
  at: number;
  request: string;
  event: string;
  [field: string]: unknown;
}

/** A model agent's persisted state. */
export interface Journal {
  v: typeof JOURNAL_VERSION;
  /** The conversation, without the instructions (they come from the agent type). */
  messages: ModelMessage[];
  /** The conversation's totals over every request. */
  spent: Spent;
  request: OpenRequest | null;
  outcomes: StoredOutcome[];
  log: LogEntry[];
}

/** A fresh journal: no conversation yet. */
export function newJournal(): Journal {
  return { v: JOURNAL_VERSION, messages: [], spent: { tokens: 0, modelCalls: 0, wallMs: 0 }, request: null, outcomes: [], log: [] };
}

/** Whether a stored state is a journal of this version (checked field by field: it came from the wire). */
export function isJournal(value: unknown): value is Journal {
  if (value === null || typeof value !== "object") return false;
  const j = value as Partial<Journal>;
  return (
    j.v === JOURNAL_VERSION &&
    Array.isArray(j.messages) &&
    j.spent !== null &&
    typeof j.spent === "object" &&
    (j.request === null || isOpenRequest(j.request)) &&
    Array.isArray(j.outcomes) &&
    Array.isArray(j.log)
  );
}

function isOpenRequest(value: unknown): value is OpenRequest {
  if (value === null || typeof value !== "object") return false;
  const r = value as Partial<OpenRequest>;
  const counts = [r.first, r.startedAt, r.inputTokens, r.outputTokens, r.modelCalls].every((n) => typeof n === "number" && Number.isFinite(n));
  const approval = r.approval === null || (typeof r.approval === "object" && typeof r.approval?.id === "string" && typeof r.approval.toolCallId === "string");
  const channel = r.channel === null || (typeof r.channel === "object" && typeof r.channel?.reply === "string" && typeof r.channel.id === "string");
  return typeof r.id === "string" && counts && Array.isArray(r.approved) && approval && channel;
}

/** Open a request: its user message joins the conversation. */
export function openRequest(j: Journal, id: string, prompt: string, now: number, channel: RequestChannel | null): OpenRequest {
  const request: OpenRequest = {
    id,
    first: j.messages.length,
    startedAt: now,
    inputTokens: 0,
    outputTokens: 0,
    modelCalls: 0,
    approved: [],
    approval: null,
    channel,
  };
  j.messages.push({ role: "user", content: prompt });
  j.request = request;
  return request;
}

/** What the loop does next for the open request, as the journal says. */
export type NextStep =
  | { kind: "model" }
  | { kind: "tools"; calls: ModelToolCall[] }
  | { kind: "done"; text: string };

/**
 * The next step of the request, from the journal alone: the tool calls of
 * the request's last model answer that have no result yet; else the final
 * answer, when that answer called no tool; else a model call (also when
 * every tool call of the last answer has its result).
 */
export function nextStep(j: Journal, request: OpenRequest): NextStep {
  let last = j.messages.length - 1;
  while (last > request.first && j.messages[last]!.role === "tool") last--;
  const answer = j.messages[last];
  if (last <= request.first || answer === undefined || answer.role !== "assistant") return { kind: "model" };
  const calls = answer.tool_calls ?? [];
  if (calls.length === 0) return { kind: "done", text: answer.content ?? "" };
  const answered = new Set<string>();
  for (let i = last + 1; i < j.messages.length; i++) {
    const m = j.messages[i]!;
    if (m.role === "tool") answered.add(m.tool_call_id);
  }
  const open = calls.filter((c) => !answered.has(c.id));
  return open.length === 0 ? { kind: "model" } : { kind: "tools", calls: open };
}

/** The ids of the tool calls the request's model answers made so far (each id names one call: see model-behavior.ts). */
export function toolCallIds(j: Journal, request: OpenRequest): Set<string> {
  const ids = new Set<string>();
  for (let i = request.first + 1; i < j.messages.length; i++) {
    const m = j.messages[i]!;
    if (m.role === "assistant") for (const c of m.tool_calls ?? []) ids.add(c.id);
  }
  return ids;
}

/**
 * Drop the oldest exchanges of the conversation (whole requests, before the
 * open one) until the journal's encoding, as `size` measures it, is within
 * `limit`. False when it is still over: the open request alone does not fit.
 */
export function fitJournal(j: Journal, limit: number, size: (j: Journal) => number): boolean {
  while (size(j) > limit) {
    const end = j.request ? j.request.first : j.messages.length;
    if (end === 0) return false; // nothing left before the open request
    // The oldest exchange: from the first message to the next prompt (or to the open request).
    let next = 1;
    while (next < end && j.messages[next]!.role !== "user") next++;
    j.messages.splice(0, next);
    if (j.request) j.request.first -= next;
  }
  return true;
}

/** Remember how a request ended (the oldest outcome goes past KEPT_OUTCOMES). */
export function keepOutcome(j: Journal, outcome: StoredOutcome): void {
  j.outcomes.push(outcome);
  if (j.outcomes.length > KEPT_OUTCOMES) j.outcomes.splice(0, j.outcomes.length - KEPT_OUTCOMES);
}

/** Add a line to the log (the oldest goes past KEPT_LOG). */
export function logEvent(j: Journal, entry: LogEntry): void {
  j.log.push(entry);
  if (j.log.length > KEPT_LOG) j.log.splice(0, j.log.length - KEPT_LOG);
}

/** The outcome of request `id`, if it finished and is still kept. */
export function outcomeOf(j: Journal, id: string): StoredOutcome | undefined {
  for (let i = j.outcomes.length - 1; i >= 0; i--) if (j.outcomes[i]!.id === id) return j.outcomes[i];
  return undefined;
}
