// The step loop written directly, as an application would without Troupe:
// the same ModelClient calling the same scripted model with the same system
// message and tool, the conversation in a local array, the tool function
// called in place. Nothing is journaled; it is the baseline of what one step
// costs the runtime.

import { ModelClient, type ModelMessage } from "../../runtime/model/model-client.js";
import { INSTRUCTIONS, runStep, STEP_TOOL_SPEC, type StepArgs } from "./bench-model.js";

/** What a run of the loop gave back. */
export interface DirectReply {
  text: string;
  /** Model calls made. */
  steps: number;
}

/**
 * Run `prompt` to its answer: call the model, run each tool call it makes,
 * give it the results, until it answers without tool calls (or `maxSteps`).
 */
export async function runDirectLoop(client: ModelClient, prompt: string, maxSteps = 32): Promise<DirectReply> {
  const messages: ModelMessage[] = [
    { role: "system", content: INSTRUCTIONS },
    { role: "user", content: prompt },
  ];
  for (let steps = 1; steps <= maxSteps; steps++) {
    const turn = await client.complete({ messages, tools: [STEP_TOOL_SPEC] });
    messages.push(turn.message);
    const calls = turn.message.tool_calls ?? [];
    if (calls.length === 0) return { text: turn.message.content ?? "", steps };
    for (const call of calls) {
      const result = runStep(JSON.parse(call.function.arguments) as StepArgs);
      messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  throw new Error(`the loop did not finish within ${maxSteps} model calls`);
}
