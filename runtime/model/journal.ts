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
    (j.request === null || (typeof j.request === "object" && typeof j.request.id === "string")) &&
    Array.isArray(j.outcomes) &&
    Array.isArray(j.log)
  );
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
 * The next step of the request: the tool calls of the last model answer that
 * have no result yet; else the final answer when the model answered without
 * tool calls; else a model call.
 */
export function nextStep(j: Journal, request: OpenRequest): NextStep {
  const last = j.messages[j.messages.length - 1];
  if (last === undefined || last.role !== "assistant" || j.messages.length - 1 < request.first) return { kind: "model" };
  const calls = last.tool_calls ?? [];
  if (calls.length === 0) return { kind: "done", text: last.content ?? "" };
  const answered = new Set<string>();
  for (let i = j.messages.length - 1; i > request.first; i--) {
    const m = j.messages[i]!;
    if (m.role === "tool") answered.add(m.tool_call_id);
  }
  return { kind: "tools", calls: calls.filter((c) => !answered.has(c.id)) };
}

/** The tool calls of the last model answer that got results: none pending means the model is called next. */
export function toolResultCount(j: Journal, request: OpenRequest): number {
  let n = 0;
  for (let i = j.messages.length - 1; i > request.first && j.messages[i]!.role === "tool"; i--) n++;
  return n;
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
