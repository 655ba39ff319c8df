// The model agent of the resume-after-crash tests and bench: `looper` runs a
// loop of tool calls that the scripted model (loopScript) drives, one `step`
// per model call, and says when each tool call starts and finishes.

import { defineAgent, type AgentType } from "../../define-agent.js";
import { tool } from "../../model/tool.js";
import type { ModelResponder } from "../model-script.js";
import { toolResults } from "../model-script.js";

/** What the looper's tool reports, by idempotency key. */
export type StepReport = { started: string } | { finished: string };

/**
 * The looper: each model call asks for the tool `step` with `{ n }`, which
 * reports its start and end and takes `toolMs` (on the system clock: it is a
 * stand-in for real work).
 */
export function looperAgent(modelUrl: string, toolMs: number, report: (r: StepReport) => void): AgentType {
  return defineAgent({
    type: "looper",
    activation: "spawn",
    model: { baseURL: modelUrl, model: "scripted", apiKey: "test", maxRetries: 0 },
    keepAliveMs: 200,
    tools: {
      step: tool({
        description: "Do one step of the work",
        parameters: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
        async execute({ n }: { n: number }, ctx) {
          report({ started: ctx.idempotencyKey });
          await new Promise((r) => setTimeout(r, toolMs));
          report({ finished: ctx.idempotencyKey });
          return { step: n, done: true };
        },
      }),
    },
  });
}

/**
 * The scripted model of a loop of `steps` model calls: a `step` tool call for
 * each of the first steps-1, then the answer. The step is the number of tool
 * results in the conversation so far, so a call sent again after a crash gets
 * the same answer.
 */
export function loopScript(steps: number): ModelResponder {
  return (req) => {
    const done = req.messages.filter((m) => m.role === "tool").length;
    if (done >= steps - 1) return { text: `finished ${done} steps` };
    return { toolCalls: [{ name: "step", args: { n: done + 1 }, id: `call_${done + 1}` }] };
  };
}

/** How many model requests carried the same conversation more than once (each would be a repeated model call). */
export function repeatedModelCalls(requests: readonly { messages: readonly unknown[] }[]): number {
  const seen = new Map<number, number>();
  for (const r of requests) seen.set(r.messages.length, (seen.get(r.messages.length) ?? 0) + 1);
  let repeated = 0;
  for (const n of seen.values()) repeated += n - 1;
  return repeated;
}
