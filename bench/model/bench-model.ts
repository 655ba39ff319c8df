// What the `model` scenario runs: a scripted model that answers by the prompt
// (a loop of ten steps, a runaway loop that never stops calling its tool, a
// long streamed answer), the `step` tool, and the model agent types built on
// them. Shared by the scenario and the node process it kills
// (model-node-main.ts), so both ends of a failover run the same agent.

import { defineAgent, tool, type AgentType, type FunctionTool } from "../../actors/index.js";
import { lastUserText, type ChatRequest, type ModelStep } from "../../runtime/testing/model-script.js";

/** Model calls in one request of the step loop: 9 tool calls, then the answer. */
export const LOOP_STEPS = 10;

/** The system message of every agent here, and of the loop written directly. */
export const INSTRUCTIONS = "You run numbered steps with the step tool, one at a time, then say you are done.";

/** How long the resume scenario's tool takes: long enough to be killed in the middle of it. */
export const SLOW_STEP_MS = 200;

/** The model agent types of the scenario. */
export const BenchModelType = {
  /** The step loop, with a tool that returns at once: what one step costs. */
  Steps: "bench-steps",
  /** The step loop, with a tool that takes {@link SLOW_STEP_MS} and reports each execution: resume after SIGKILL. */
  Resume: "bench-resume",
  /** A runaway loop under a budget of {@link RUNAWAY_BUDGET} model calls. */
  Runaway: "bench-runaway",
  /** One long streamed answer, no tools. */
  Long: "bench-long",
} as const;

/** The runaway type's budget: model calls per request. */
export const RUNAWAY_BUDGET = 8;

/** Prompts the scripted model answers; `run` makes each request's conversation its own. */
export const Prompt = {
  loop: (run: string): string => `loop ${run}`,
  runaway: (run: string): string => `runaway ${run}`,
  /** Stream text for `ms`, a chunk every `everyMs`. */
  long: (run: string, ms: number, everyMs: number): string => `long ${ms} ${everyMs} ${run}`,
} as const;

/** The step tool's arguments and result. */
export interface StepArgs {
  n: number;
}

/** What the step tool does: nothing but answer (the loop written directly calls this same function). */
export function runStep({ n }: StepArgs): { step: number } {
  return { step: n };
}

const STEP_TOOL = {
  description: "Run step n of the task",
  parameters: { type: "object", properties: { n: { type: "integer", minimum: 1 } }, required: ["n"], additionalProperties: false },
} as const;

/** The step tool as the model is told of it (the loop written directly sends this too). */
export const STEP_TOOL_SPEC = { name: "step", description: STEP_TOOL.description, parameters: { ...STEP_TOOL.parameters } };

/** One execution of the slow step tool, as it reports it. */
export interface StepReport {
  key: string;
  phase: "start" | "end";
}

/** The step tool that takes {@link SLOW_STEP_MS} and reports the start and the end of each execution with its idempotency key. */
export function slowStepTool(report: (r: StepReport) => void): FunctionTool<StepArgs> {
  return tool<StepArgs>({
    ...STEP_TOOL,
    execute: async (args, ctx) => {
      report({ key: ctx.idempotencyKey, phase: "start" });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, SLOW_STEP_MS);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
      report({ key: ctx.idempotencyKey, phase: "end" });
      return runStep(args);
    },
  });
}

/** Model options for the scripted server at `url`. */
function modelAt(url: string) {
  return { baseURL: url, model: "scripted", apiKey: "bench" };
}

/** The step loop's agent, with the tool that returns at once. */
export function stepsAgent(modelUrl: string): AgentType {
  return defineAgent({ type: BenchModelType.Steps, model: modelAt(modelUrl), instructions: INSTRUCTIONS, tools: { step: tool<StepArgs>({ ...STEP_TOOL, execute: runStep }) } });
}

/** The step loop's agent with the slow, reporting tool (the same definition on both nodes of the resume run). */
export function resumeAgent(modelUrl: string, report: (r: StepReport) => void): AgentType {
  return defineAgent({ type: BenchModelType.Resume, model: modelAt(modelUrl), instructions: INSTRUCTIONS, tools: { step: slowStepTool(report) } });
}

/** The runaway loop's agent: the budget stops it. */
export function runawayAgent(modelUrl: string): AgentType {
  return defineAgent({
    type: BenchModelType.Runaway,
    model: modelAt(modelUrl),
    instructions: INSTRUCTIONS,
    tools: { step: tool<StepArgs>({ ...STEP_TOOL, execute: runStep }) },
    budget: { modelCalls: RUNAWAY_BUDGET },
  });
}

/** The long answer's model client gives up after this long without a chunk (each chunk resets it). */
export const LONG_MODEL_TIMEOUT_MS = 2_000;

/** The long answer's agent: its model calls may stay silent for {@link LONG_MODEL_TIMEOUT_MS} at most; keep-alives every 500 ms. */
export function longAgent(modelUrl: string): AgentType {
  return defineAgent({ type: BenchModelType.Long, model: { ...modelAt(modelUrl), timeoutMs: LONG_MODEL_TIMEOUT_MS }, instructions: INSTRUCTIONS, keepAliveMs: 500 });
}

/** Tool results since the last user message: the steps done so far in this request. */
function stepsDone(req: ChatRequest): number {
  let n = 0;
  for (let i = req.messages.length - 1; i >= 0 && req.messages[i]!.role !== "user"; i--) if (req.messages[i]!.role === "tool") n++;
  return n;
}

/**
 * The scripted model: by the prompt, the next step of the loop (the tool call
 * for step n, with the id `step_<n>` so a call asked again has the same
 * idempotency key), a runaway tool call, or a long streamed answer. It notes
 * when each call of a loop arrives, per prompt, until the scenario takes them.
 */
export class BenchModel {
  /** Arrival times (performance.now) of the loop's model calls per prompt; an entry leaves when taken. */
  private readonly arrivals = new Map<string, number[]>();

  readonly respond = (req: ChatRequest): ModelStep => {
    const prompt = lastUserText(req) ?? "";
    const [kind, ...rest] = prompt.split(" ");
    const done = stepsDone(req);
    if (kind === "loop") {
      const at = performance.now();
      const seen = this.arrivals.get(prompt);
      if (seen) seen.push(at);
      else this.arrivals.set(prompt, [at]);
      if (done < LOOP_STEPS - 1) return { toolCalls: [{ name: "step", args: { n: done + 1 }, id: `step_${done + 1}` }] };
      return { text: `done after ${done} steps` };
    }
    if (kind === "runaway") return { toolCalls: [{ name: "step", args: { n: done + 1 }, id: `step_${done + 1}` }] };
    if (kind === "long") {
      const [ms, everyMs] = rest.map(Number) as [number, number];
      const chunks = Math.max(1, Math.round(ms / everyMs));
      return { text: Array.from({ length: chunks }, (_, i) => `w${i} `), chunkDelayMs: everyMs };
    }
    return { text: `unknown prompt: ${prompt}` };
  };

  /** The arrival times of the calls made for `prompt`, forgotten here once taken. */
  take(prompt: string): number[] {
    const seen = this.arrivals.get(prompt) ?? [];
    this.arrivals.delete(prompt);
    return seen;
  }
}
