// The options of a model agent type: defaults merged once, each bad field an
// InvalidConfigError that names it, the model field checked by the check
// given, and the request's limits with maxSteps folded in.

import { describe, expect, it } from "vitest";
import { InvalidConfigError } from "../errors.js";
import { tool } from "./tool.js";
import { checkModelAgent, requestLimits, DEFAULT_APPROVAL_TIMEOUT_MS } from "./model-config.js";

/** Stands for the model client's check: takes `{ model: string }`. */
function checkModel(value: unknown): { model: string } {
  if (typeof (value as { model?: unknown } | undefined)?.model !== "string") throw new InvalidConfigError("model.model", "must be a model name");
  return { model: (value as { model: string }).model };
}

const model = { model: "qwen2.5" };
const add = tool({ description: "Add", parameters: { type: "object", properties: { a: { type: "number" } } }, execute: () => 1 });

function fieldOf(options: Record<string, unknown>): string {
  try {
    checkModelAgent(options, checkModel);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return (err as InvalidConfigError).field;
  }
  throw new Error("expected an InvalidConfigError");
}

describe("checkModelAgent", () => {
  it("merges the defaults", () => {
    const config = checkModelAgent({ type: "assistant", model }, checkModel);
    expect(config).toMatchObject({ model: { model: "qwen2.5" }, instructions: "", approvalTimeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS, maxSteps: 32, keepAliveMs: 1000 });
    expect(DEFAULT_APPROVAL_TIMEOUT_MS).toBe(86_400_000);
    expect(config.toolbox.size).toBe(0);
    expect(config.budget).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("takes every field it knows", () => {
    const config = checkModelAgent(
      { type: "assistant", model, instructions: "Be brief.", tools: { add }, budget: { tokens: 100 }, approvalTimeoutMs: 60_000, maxSteps: 4, keepAliveMs: 250 },
      checkModel,
    );
    expect(config).toMatchObject({ instructions: "Be brief.", budget: { tokens: 100 }, approvalTimeoutMs: 60_000, maxSteps: 4, keepAliveMs: 250 });
    expect(config.toolbox.specs.map((s) => s.name)).toEqual(["add"]);
  });

  it.each([
    [{ model: {} }, "model.model"],
    [{ model, instructions: 42 }, "instructions"],
    [{ model, tools: [add] }, "tools"],
    [{ model, tools: { add: { description: "Add", parameters: { type: "object" } } } }, "tools.add"],
    [{ model, tools: { lookup: { agent: "orders", description: "d", parameters: { type: "number" } } } }, "tools.lookup.parameters"],
    [{ model, budget: { tokens: -1 } }, "budget.tokens"],
    [{ model, budget: { conversation: { wallMs: 0 } } }, "budget.conversation.wallMs"],
    [{ model, approvalTimeoutMs: 0 }, "approvalTimeoutMs"],
    [{ model, maxSteps: 1.5 }, "maxSteps"],
    [{ model, keepAliveMs: "1s" }, "keepAliveMs"],
    [{ model, receive: () => 1 }, "receive"],
    [{ model, machine: {} }, "machine"],
    [{ model, state: () => ({}) }, "state"],
  ])("refuses %j, naming %s", (options, field) => {
    expect(fieldOf({ type: "assistant", ...options })).toBe(field);
  });
});

describe("requestLimits", () => {
  it("uses maxSteps as the model-call limit unless the budget sets one", () => {
    expect(requestLimits({ maxSteps: 32 })).toEqual({ modelCalls: 32 });
    expect(requestLimits({ maxSteps: 32, budget: { tokens: 500, wallMs: 9000, conversation: { tokens: 10 } } })).toEqual({ tokens: 500, modelCalls: 32, wallMs: 9000 });
    expect(requestLimits({ maxSteps: 32, budget: { modelCalls: 50 } })).toEqual({ modelCalls: 50 });
  });
});
