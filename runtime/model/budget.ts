// A model agent's budget: limits on tokens, model calls and wall time, per
// request and per conversation, checked once at definition time; and the
// small pure arithmetic of what was spent and whether a limit is reached.
// What was spent is plain JSON, kept in the agent's persisted state.

import { BudgetExceededError, InvalidConfigError } from "../errors.js";

/** Limits of one scope; a missing one is no limit. */
export interface BudgetLimits {
  /** Input plus output tokens, as the model server reports them. */
  tokens?: number;
  /** Model calls (chat completions). */
  modelCalls?: number;
  /** Wall time, in milliseconds of the agent's clock. */
  wallMs?: number;
}

/** defineAgent's `budget`: limits per request, and per conversation (all the requests to one agent id). */
export interface Budget extends BudgetLimits {
  conversation?: BudgetLimits;
}

/** What was spent, in one scope. Plain JSON (persisted). */
export interface Spent {
  tokens: number;
  modelCalls: number;
  wallMs: number;
}

/** A limit of a budget. */
export type BudgetLimit = "tokens" | "modelCalls" | "wallMs";

/** Whose limit: the request's, or the conversation's. */
export type BudgetScope = "request" | "conversation";

/** A reached limit: which, how much it allows and how much was spent. */
export interface OverBudget {
  limit: BudgetLimit;
  allowed: number;
  spent: number;
}

const LIMITS: readonly BudgetLimit[] = ["tokens", "modelCalls", "wallMs"];

/** Nothing spent yet. */
export function nothingSpent(): Spent {
  return { tokens: 0, modelCalls: 0, wallMs: 0 };
}

/** `spent` plus `more` (missing parts of `more` add nothing). */
export function addSpent(spent: Spent, more: Partial<Spent>): Spent {
  return {
    tokens: spent.tokens + (more.tokens ?? 0),
    modelCalls: spent.modelCalls + (more.modelCalls ?? 0),
    wallMs: spent.wallMs + (more.wallMs ?? 0),
  };
}

/**
 * Check a `budget` option. Each limit is a positive whole number; `conversation`
 * holds the same limits; anything else is an InvalidConfigError naming the
 * field (`budget.conversation.tokens`). Undefined stays undefined.
 *
 * @example
 * checkBudget({ tokens: 50_000, modelCalls: 20, conversation: { tokens: 1_000_000 } });
 */
export function checkBudget(value: unknown, field = "budget"): Budget | undefined {
  if (value === undefined) return undefined;
  const limits = checkLimits(value, field, true);
  const conversation = (value as Budget).conversation;
  const budget: Budget = { ...limits };
  if (conversation !== undefined) budget.conversation = Object.freeze(checkLimits(conversation, `${field}.conversation`, false));
  return Object.freeze(budget);
}

function checkLimits(value: unknown, field: string, topLevel: boolean): BudgetLimits {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidConfigError(field, `must be an object like { tokens: 50000, modelCalls: 20, wallMs: 120000 }, got ${JSON.stringify(value)}`);
  }
  const limits: BudgetLimits = {};
  for (const [name, v] of Object.entries(value)) {
    if (topLevel && name === "conversation") continue;
    if (!(LIMITS as readonly string[]).includes(name)) {
      const known = topLevel ? [...LIMITS, "conversation"] : LIMITS;
      throw new InvalidConfigError(`${field}.${name}`, `is not a budget limit (the limits are ${known.join(", ")})`);
    }
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidConfigError(`${field}.${name}`, `must be a positive whole number, got ${JSON.stringify(v)}`);
    }
    limits[name as BudgetLimit] = v;
  }
  return limits;
}

/**
 * The first limit that `spent` has reached (spent at or past what it allows),
 * or undefined. Ask it before each model call: a reached limit means nothing
 * more may be spent, so with `modelCalls: 20` exactly 20 calls are made.
 */
export function overBudget(limits: BudgetLimits | undefined, spent: Spent): OverBudget | undefined {
  if (limits === undefined) return undefined;
  for (const limit of LIMITS) {
    const allowed = limits[limit];
    if (allowed !== undefined && spent[limit] >= allowed) return { limit, allowed, spent: spent[limit] };
  }
  return undefined;
}

/**
 * The error that ends a request when the request's limits or the
 * conversation's are reached (the request's are asked first), or undefined.
 * `requestLimits` are the request's (a model agent's `maxSteps` folded in:
 * see `requestLimits` in model-config.ts).
 */
export function budgetExceeded(
  requestLimits: BudgetLimits | undefined,
  conversationLimits: BudgetLimits | undefined,
  request: Spent,
  conversation: Spent,
): BudgetExceededError | undefined {
  const scopes: [BudgetScope, BudgetLimits | undefined, Spent][] = [
    ["request", requestLimits, request],
    ["conversation", conversationLimits, conversation],
  ];
  for (const [scope, limits, spent] of scopes) {
    const over = overBudget(limits, spent);
    if (over) return new BudgetExceededError(scope, over.limit, over.allowed, over.spent);
  }
  return undefined;
}

/**
 * What was spent, read back from persisted state: a missing or malformed
 * value (an older state, a hand edit) counts as nothing spent, part by part.
 */
export function spentFrom(value: unknown): Spent {
  const v = (value !== null && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const part = (x: unknown): number => (typeof x === "number" && Number.isFinite(x) && x > 0 ? x : 0);
  return { tokens: part(v.tokens), modelCalls: part(v.modelCalls), wallMs: part(v.wallMs) };
}
