// What the scripted model says in `agentctl demo`: one responder for the
// whole team, which tells the planner, a worker and the reviewer apart by the
// tools their requests offer, and answers from the conversation it is sent.
// The planner delegates three tasks, then asks for a review, then answers; a
// worker answers its task; the reviewer publishes, then says what it did.

import { lastUserText, toolResults, type ChatRequest, type ModelStep } from "../runtime/testing/model-script.js";
import { TeamTool, WORKERS, type DelegateArgs, type PublishArgs } from "./demo-team.js";

/** What the demo asks the planner. */
export const DEMO_PROMPT = "Write a three-line welcome note for new Troupe users.";

/** The planner's tasks, one per worker, and what each worker answers. */
export const TASKS: ReadonlyArray<{ worker: DelegateArgs["worker"]; prompt: string; answer: string }> = [
  { worker: WORKERS[0], prompt: "Say in one line what an agent is.", answer: "An agent is an actor with an address, a mailbox and its own state." },
  { worker: WORKERS[1], prompt: "Say in one line what a supervisor does.", answer: "A supervisor restarts the agents that fail." },
  { worker: WORKERS[2], prompt: "Say in one line why streaming matters.", answer: "Answers stream as they are written, so nobody waits in silence." },
];

/** The title the reviewer publishes under. */
export const TITLE = "Welcome to Troupe";

/** The tool names a request offers the model. */
function toolNames(req: ChatRequest): string[] {
  return (req.tools ?? []).map((t) => (t as { function?: { name?: string } }).function?.name ?? "");
}

/** The names of the tool calls in the last assistant message. */
function lastCalls(req: ChatRequest): string[] {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === "assistant") return (m.tool_calls ?? []).map((c) => c.function.name);
  }
  return [];
}

/** The `text` of a tool result that is a model agent's reply, else the result as it is. */
function replyText(content: string): string {
  try {
    const value = JSON.parse(content) as unknown;
    if (value !== null && typeof value === "object" && typeof (value as { text?: unknown }).text === "string") return (value as { text: string }).text;
  } catch {
    // a plain string
  }
  return content;
}

/** A tool result as an object (a result that is not a JSON object is taken as an error text). */
function parsed(content: string): { error?: string; published?: string } {
  try {
    const value = JSON.parse(content) as unknown;
    if (value !== null && typeof value === "object") return value as { error?: string; published?: string };
  } catch {
    // not JSON
  }
  return { error: content };
}

function planner(req: ChatRequest): ModelStep {
  const results = toolResults(req);
  if (results.length === 0) {
    return { toolCalls: TASKS.map((t) => ({ name: TeamTool.Delegate, args: { worker: t.worker, prompt: t.prompt } })) };
  }
  if (lastCalls(req).includes(TeamTool.Delegate)) {
    const draft = results.map((r) => replyText(r.content)).join("\n");
    return { toolCalls: [{ name: TeamTool.Review, args: { prompt: draft } }] };
  }
  const review = replyText(results[0]?.content ?? "");
  return { text: `The note is ready: three workers wrote a line each, and the reviewer says: ${review}` };
}

function worker(req: ChatRequest): ModelStep {
  const task = lastUserText(req) ?? "";
  return { text: TASKS.find((t) => t.prompt === task)?.answer ?? `Done: ${task}` };
}

function reviewer(req: ChatRequest): ModelStep {
  const results = toolResults(req);
  if (results.length === 0) {
    const publish: PublishArgs = { title: TITLE, text: lastUserText(req) ?? "" };
    return { toolCalls: [{ name: TeamTool.Publish, args: { ...publish } }] };
  }
  const outcome = parsed(results[0]!.content);
  return { text: outcome.error ? `Not published: ${outcome.error}` : `Published "${TITLE}" at ${outcome.published}.` };
}

/**
 * The demo team's scripted model: the answer for any request of the
 * planner, a worker or the reviewer.
 *
 * @example
 * const model = await startModelServer(demoResponder);
 */
export function demoResponder(req: ChatRequest): ModelStep {
  const tools = toolNames(req);
  if (tools.includes(TeamTool.Delegate)) return planner(req);
  if (tools.includes(TeamTool.Publish)) return reviewer(req);
  return worker(req);
}
