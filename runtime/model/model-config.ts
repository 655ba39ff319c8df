// The options of a model-backed agent type (defineAgent with `model`),
// checked once with defaults merged: instructions, tools, budget and the
// loop's limits. Each bad field is an InvalidConfigError that names it. The
// `model` field itself is checked by the model client's own check, passed in.

import { InvalidConfigError } from "../errors.js";
import { checkBudget, type Budget, type BudgetLimits } from "./budget.js";
import { Toolbox } from "./toolbox.js";

/** A model agent type's checked configuration. */
export interface ModelAgentConfig<M = unknown> {
  /** The model options, as the model client's check returned them. */
  model: M;
  /** The system message that opens every conversation. */
  instructions: string;
  toolbox: Toolbox;
  budget?: Budget;
  /** How long an approval may wait before the call is denied. */
  approvalTimeoutMs: number;
  /** Model calls per request when the budget sets no `modelCalls`. */
  maxSteps: number;
  /** Interval of keep-alive chunks while the model thinks. */
  keepAliveMs: number;
}

/** Default wait for a human approval: 24 hours. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60_000;
/** Default model calls per request when no budget says otherwise. */
export const DEFAULT_MAX_STEPS = 32;
/** Default interval of keep-alive chunks. */
export const DEFAULT_KEEP_ALIVE_MS = 1000;

/** Options of a function or machine agent that a model agent does not take (it runs the built-in loop). */
const NOT_FOR_MODEL_AGENTS: Readonly<Record<string, string>> = {
  receive: "a model agent runs the built-in model loop: give either `model` or `receive`, not both",
  machine: "a model agent runs the built-in model loop: give either `model` or `machine`, not both",
  state: "a model agent's state is its conversation, kept by the runtime: remove `state`",
};

/**
 * Check a model agent's options (defineAgent's options object): `model`
 * through `checkModel`, then `instructions` (default ""), `tools` (default
 * none), `budget`, `approvalTimeoutMs` (default 24 h), `maxSteps` (default
 * 32) and `keepAliveMs` (default 1000).
 *
 * @example
 * const config = checkModelAgent(options, checkModelOptions);
 */
export function checkModelAgent<M>(options: Record<string, unknown>, checkModel: (value: unknown) => M): ModelAgentConfig<M> {
  for (const [field, why] of Object.entries(NOT_FOR_MODEL_AGENTS)) {
    if (options[field] !== undefined) throw new InvalidConfigError(field, why);
  }
  const model = checkModel(options.model);
  const instructions = options.instructions ?? "";
  if (typeof instructions !== "string") throw new InvalidConfigError("instructions", `must be a string (the system message), got ${JSON.stringify(instructions)}`);
  const budget = checkBudget(options.budget, "budget");
  return Object.freeze({
    model,
    instructions,
    toolbox: Toolbox.from(options.tools ?? {}, "tools"),
    ...(budget ? { budget } : {}),
    approvalTimeoutMs: checkPositiveInteger("approvalTimeoutMs", options.approvalTimeoutMs) ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    maxSteps: checkPositiveInteger("maxSteps", options.maxSteps) ?? DEFAULT_MAX_STEPS,
    keepAliveMs: checkPositiveInteger("keepAliveMs", options.keepAliveMs) ?? DEFAULT_KEEP_ALIVE_MS,
  });
}

/**
 * The limits of one request: the budget's, with `maxSteps` as the model-call
 * limit when the budget sets none.
 */
export function requestLimits(config: Pick<ModelAgentConfig, "budget" | "maxSteps">): BudgetLimits {
  const { tokens, modelCalls, wallMs } = config.budget ?? {};
  return {
    ...(tokens !== undefined ? { tokens } : {}),
    modelCalls: modelCalls ?? config.maxSteps,
    ...(wallMs !== undefined ? { wallMs } : {}),
  };
}

function checkPositiveInteger(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidConfigError(field, `must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}
