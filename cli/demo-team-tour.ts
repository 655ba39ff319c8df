// The last part of `agentctl demo`: the model-agent team at work. Streams the
// planner's answer and prints each step as it comes (its tool calls, the
// workers' and the reviewer's answers, its text), approves the reviewer's
// `publish` as the demo operator after printing what it approves, and ends
// with the usage.

import { EventKind, parseAgentId, type ModelReply, type TroupeEvent, type TroupeNode } from "../actors/index.js";
import { DEMO_PROMPT, TITLE } from "./demo-model-script.js";
import { PUBLISHED_KEY, TeamTool, TeamType } from "./demo-team.js";
import { toJson } from "./output.js";

/** How the tour writes: whole lines, and parts of a line as text streams in. */
export interface TourOutput {
  line(text?: string): void;
  write(text: string): void;
}

/** The planner's conversation, and the key of the reviewer it asks. */
const CONVERSATION = "p1";

/** Nothing at all from the planner for this long (keep-alives count) fails the stream. */
const INACTIVITY_MS = 30_000;

/** Longest value shown on one line. */
const WIDTH = 96;

/** `text` on one line: its lines joined with " / ", cut at `max` characters. */
export function oneLine(text: string, max = WIDTH): string {
  const flat = text.trim().split(/\s*\n\s*/).join(" / ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A tool result for people: a model agent's reply by its text, anything else as JSON. */
function resultText(result: unknown): string {
  if (result !== null && typeof result === "object" && typeof (result as { text?: unknown }).text === "string") return (result as ModelReply).text;
  return typeof result === "string" ? result : toJson(result);
}

/** The agent a planner's tool call reaches, for the story. */
function target(tool: string, args: unknown): string {
  const a = (args ?? {}) as { worker?: unknown };
  if (tool === TeamTool.Delegate && typeof a.worker === "string") return `${TeamType.Worker}/${a.worker}`;
  if (tool === TeamTool.Review) return `${TeamType.Reviewer}/${CONVERSATION}`;
  return tool;
}

/** The arguments of an approval, a field a line (a string's lines each on its own, up to five). */
function argumentLines(args: unknown): string[] {
  if (args === null || typeof args !== "object" || Array.isArray(args)) return [oneLine(toJson(args))];
  const entries = Object.entries(args as Record<string, unknown>);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.flatMap(([k, v]) => {
    const lines = typeof v === "string" ? v.trim().split("\n").slice(0, 5) : [toJson(v)];
    return lines.map((l, i) => `${(i === 0 ? k : "").padEnd(width)}  ${oneLine(l, WIDTH - width)}`);
  });
}

/**
 * Run the team once: prompt the planner, print what happens, approve the
 * reviewer's publish. `scripted` says the model is the demo's own, so the
 * story is known: then a missing step is a problem. Returns the problems.
 */
export async function teamTour(node: TroupeNode, out: TourOutput, scripted: boolean): Promise<string[]> {
  const problems: string[] = [];
  let lineOpen = false;
  const say = (text = ""): void => {
    if (lineOpen) out.write("\n");
    lineOpen = false;
    out.line(text);
  };
  const approvals: Promise<void>[] = [];
  let approved = 0;

  // The reviewer's approval waits for a person: the demo plays that person.
  const onApproval = (e: TroupeEvent): void => {
    const { type, key } = parseAgentId(e.id);
    say(`   ⏸ ${e.id} waits for a person to approve ${String(e.tool)}:`);
    for (const l of argumentLines(e.args)) say(`        ${l}`);
    say("   ✓ approving as the demo operator");
    approvals.push(
      node
        .ref(type, key)
        .approve(String(e.approval))
        .then(
          () => void approved++,
          (err: Error) => void problems.push(`the approval of ${e.id} failed: ${err.message}`),
        ),
    );
  };
  const stopWatching = node.onEvent(onApproval, { kind: EventKind.ApprovalRequested, type: TeamType.Reviewer });

  const planner = node.ref(TeamType.Planner, CONVERSATION);
  const calls = new Map<string, string>();
  let reply: ModelReply | undefined;
  say(`   stream ${planner.id} ${toJson(DEMO_PROMPT)}`);
  try {
    for await (const c of planner.stream<ModelReply>({ prompt: DEMO_PROMPT }, { inactivityMs: INACTIVITY_MS })) {
      if (c.type === "tool_call") {
        const { id, name, args } = c as { id: string; name: string; args: unknown };
        const who = target(name, args);
        calls.set(id, who);
        const task = (args as { prompt?: unknown } | null)?.prompt;
        say(`   → ${name} ${who}  ${typeof task === "string" ? oneLine(task) : oneLine(toJson(args))}`);
      } else if (c.type === "tool_result") {
        const { id, name, result, error } = c as { id: string; name: string; result?: unknown; error?: string };
        const who = calls.get(id) ?? name;
        say(error === undefined ? `   ← ${who}  ${oneLine(resultText(result))}` : `   ✗ ${who}  ${oneLine(error)}`);
      } else if (c.type === "text") {
        if (!lineOpen) out.write(`   ${planner.id}: `);
        lineOpen = true;
        out.write((c as { delta: string }).delta.replace(/\n/g, "\n      "));
      } else if (c.type === "done") {
        reply = (c as { value: ModelReply }).value;
      }
    }
  } catch (err) {
    say(`   ✗ ${planner.id} failed: ${(err as Error).message}`);
    problems.push(`the planner failed: ${(err as Error).message}`);
  } finally {
    stopWatching();
    await Promise.all(approvals);
  }
  if (reply) {
    if (!lineOpen && reply.text !== "") say(`   ${planner.id}: ${reply.text}`);
    say(`   done   ${reply.steps} model calls, ${reply.usage.inputTokens} tokens in, ${reply.usage.outputTokens} out`);
  }
  const published = await node.memory.get(PUBLISHED_KEY);
  if (published) {
    const value = published.value as { title?: unknown; by?: unknown };
    say(`   kv get ${PUBLISHED_KEY}  →  ${toJson(value.title)} by ${String(value.by)} (revision ${published.revision})`);
  }
  if (scripted) {
    if (approved !== 1) problems.push(`the reviewer's publish was approved ${approved} times, not once`);
    if (!reply) problems.push("the planner did not answer");
    if ((published?.value as { title?: unknown } | undefined)?.title !== TITLE) problems.push(`nothing was published at ${PUBLISHED_KEY}`);
  }
  return problems;
}
