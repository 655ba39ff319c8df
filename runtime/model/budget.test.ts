// A model agent's budget: the option checked with errors naming the field,
// the arithmetic of what was spent and when a limit is reached, and the
// error that ends a request, which keeps its class and fields across the wire.

import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeReply } from "../envelope.js";
import { BudgetExceededError, ErrorCode, InvalidConfigError, toWireError } from "../errors.js";
import { agentFailure, fromWireError } from "../wire-error.js";
import { addSpent, budgetExceeded, checkBudget, nothingSpent, overBudget, spentFrom } from "./budget.js";

function fieldOf(value: unknown): string {
  try {
    checkBudget(value);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return (err as InvalidConfigError).field;
  }
  throw new Error("expected an InvalidConfigError");
}

describe("checkBudget", () => {
  it("takes limits per request and per conversation", () => {
    expect(checkBudget(undefined)).toBeUndefined();
    expect(checkBudget({ tokens: 50_000, modelCalls: 20 })).toEqual({ tokens: 50_000, modelCalls: 20 });
    expect(checkBudget({ wallMs: 60_000, conversation: { tokens: 1_000_000 } })).toEqual({ wallMs: 60_000, conversation: { tokens: 1_000_000 } });
  });

  it.each([
    [null, "budget"],
    [5, "budget"],
    [{ tokens: 0 }, "budget.tokens"],
    [{ modelCalls: 2.5 }, "budget.modelCalls"],
    [{ wallMs: "1m" }, "budget.wallMs"],
    [{ token: 10 }, "budget.token"],
    [{ conversation: [] }, "budget.conversation"],
    [{ conversation: { modelCalls: -1 } }, "budget.conversation.modelCalls"],
    [{ conversation: { conversation: {} } }, "budget.conversation.conversation"],
  ])("refuses %j, naming %s", (value, field) => {
    expect(fieldOf(value)).toBe(field);
  });

  it("copies what it was given", () => {
    const given = { tokens: 10, conversation: { tokens: 100 } };
    const budget = checkBudget(given)!;
    given.tokens = 1;
    given.conversation.tokens = 1;
    expect(budget).toEqual({ tokens: 10, conversation: { tokens: 100 } });
  });
});

describe("spending", () => {
  it("adds up what was spent", () => {
    let spent = nothingSpent();
    spent = addSpent(spent, { tokens: 120, modelCalls: 1 });
    spent = addSpent(spent, { tokens: 80, modelCalls: 1, wallMs: 500 });
    expect(spent).toEqual({ tokens: 200, modelCalls: 2, wallMs: 500 });
  });

  it.each([
    [{ modelCalls: 20 }, { tokens: 0, modelCalls: 19, wallMs: 0 }, undefined],
    [{ modelCalls: 20 }, { tokens: 0, modelCalls: 20, wallMs: 0 }, { limit: "modelCalls", allowed: 20, spent: 20 }],
    [{ tokens: 1000 }, { tokens: 999, modelCalls: 3, wallMs: 0 }, undefined],
    [{ tokens: 1000 }, { tokens: 1250, modelCalls: 3, wallMs: 0 }, { limit: "tokens", allowed: 1000, spent: 1250 }],
    [{ wallMs: 5000 }, { tokens: 0, modelCalls: 1, wallMs: 5000 }, { limit: "wallMs", allowed: 5000, spent: 5000 }],
    [{ tokens: 10, modelCalls: 1 }, { tokens: 10, modelCalls: 1, wallMs: 0 }, { limit: "tokens", allowed: 10, spent: 10 }],
    [{}, { tokens: 1e9, modelCalls: 1e6, wallMs: 1e9 }, undefined],
    [undefined, { tokens: 1e9, modelCalls: 1e6, wallMs: 1e9 }, undefined],
  ])("limits %j with %j spent: %j", (limits, spent, over) => {
    expect(overBudget(limits, spent)).toEqual(over);
  });

  it("a loop that asks before each call makes exactly modelCalls calls", () => {
    let spent = nothingSpent();
    let calls = 0;
    while (!overBudget({ modelCalls: 20 }, spent)) {
      calls++;
      spent = addSpent(spent, { modelCalls: 1, tokens: 10 });
    }
    expect(calls).toBe(20);
  });

  it("ends the request with the request's limit first, then the conversation's", () => {
    const request = { tokens: 0, modelCalls: 5, wallMs: 0 };
    const conversation = { tokens: 900, modelCalls: 40, wallMs: 0 };
    const both = budgetExceeded({ modelCalls: 5 }, { tokens: 900 }, request, conversation)!;
    expect(both).toBeInstanceOf(BudgetExceededError);
    expect(both).toMatchObject({ code: ErrorCode.BudgetExceeded, scope: "request", limit: "modelCalls", allowed: 5, spent: 5 });
    expect(both.message).toBe("budget exceeded: the request used 5 of its 5 model calls");
    const conv = budgetExceeded({ modelCalls: 6 }, { tokens: 900 }, request, conversation)!;
    expect(conv).toMatchObject({ scope: "conversation", limit: "tokens", allowed: 900, spent: 900 });
    expect(budgetExceeded({ modelCalls: 6 }, undefined, request, conversation)).toBeUndefined();
  });

  it("reads what was spent back from persisted state, a bad part counting as nothing", () => {
    expect(spentFrom({ tokens: 5, modelCalls: 2, wallMs: 30 })).toEqual({ tokens: 5, modelCalls: 2, wallMs: 30 });
    expect(spentFrom(undefined)).toEqual(nothingSpent());
    expect(spentFrom({ tokens: "x", modelCalls: -1, wallMs: Infinity })).toEqual(nothingSpent());
  });
});

describe("BudgetExceededError on the wire", () => {
  it("reaches the caller of the agent as itself, with its fields", () => {
    const original = new BudgetExceededError("conversation", "tokens", 50_000, 50_321);
    // As the agent answers an ask that failed: its own failure, kept by class.
    const env = decodeEnvelope(encodeReply("id", "assistant/u1", null, agentFailure(original), 1 << 20), 1 << 20);
    const back = fromWireError("assistant/u1", env.error!);
    expect(back).toBeInstanceOf(BudgetExceededError);
    expect(back.message).toBe(original.message);
    expect({ ...back }).toEqual({ ...original });
    expect(toWireError(original).fields).toEqual({ scope: "conversation", limit: "tokens", allowed: 50_000, spent: 50_321 });
  });
});
