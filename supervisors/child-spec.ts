// Supervisor and child specifications: plain data, with defaults merged once
// and every field validated once. A bad field throws SpecError naming it
// (`intensity`, `children[1].restart`), like OTP's `invalid_intensity`; the
// runtime reports it as InvalidConfigError, and checks that agent types and
// keys are valid address tokens.

import { SpecError } from "./spec-error.js";
import { DEFAULT_BACKOFF, type BackoffSpec } from "./backoff.js";
import { DEFAULT_INTENSITY, DEFAULT_PERIOD_MS } from "./restart-intensity.js";
import { RESTART_TYPES, RestartType, STRATEGIES, Strategy } from "./strategy.js";

/** A child as configured: the agent `type/key` a supervisor starts and watches. */
export interface ChildSpec {
  /** Unique among the supervisor's children. */
  id: string;
  /** Agent type (letters, digits, `_`, `-`; 1-128). */
  type: string;
  /** Agent key (letters, digits, `_`, `-`; 1-128). */
  key: string;
  /** Default `permanent`. */
  restart?: RestartType;
  /** Time the child gets to stop before it is killed, in ms. Default 5000. */
  shutdownMs?: number;
  /** Passed to the agent when it starts. */
  args?: unknown;
}

/** A supervisor as configured. */
export interface SupervisorSpec {
  /** The supervisor's own agent type. */
  type: string;
  /** Default `one_for_one`. */
  strategy?: Strategy;
  /** Most restarts allowed in `periodMs`. Default 1. */
  intensity?: number;
  /** Length of the restart window, in ms. Default 5000. */
  periodMs?: number;
  /** Delay between restarts. Absent: restart at once. Present (even `{}`): completed from {@link DEFAULT_BACKOFF}. */
  backoff?: Partial<BackoffSpec>;
  /** Children in start order. Default none. */
  children?: ChildSpec[];
}

/** A child spec with every default filled in. */
export interface NormalizedChildSpec {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly restart: RestartType;
  readonly shutdownMs: number;
  readonly args: unknown;
}

/** A supervisor spec with every default filled in. `backoff: null` means no delay between restarts. */
export interface NormalizedSupervisorSpec {
  readonly type: string;
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: Readonly<BackoffSpec> | null;
  readonly children: readonly NormalizedChildSpec[];
}

/** Default time a child gets to stop, in ms. */
export const DEFAULT_SHUTDOWN_MS = 5000;

const CHILD_FIELDS = ["id", "type", "key", "restart", "shutdownMs", "args"];
const SUPERVISOR_FIELDS = ["type", "strategy", "intensity", "periodMs", "backoff", "children"];
const BACKOFF_FIELDS = ["minMs", "maxMs", "factor", "jitter", "resetAfterMs"];

/**
 * Validate a child spec and fill in its defaults. `field` is the name errors
 * use for it (`children[2]` when called for a supervisor's children).
 *
 * @throws SpecError naming the bad field, e.g. `child.restart`
 */
export function normalizeChildSpec(input: unknown, field = "child"): NormalizedChildSpec {
  const spec = record(input, field);
  known(spec, CHILD_FIELDS, field);
  const id = spec.id;
  if (typeof id !== "string" || id.length === 0 || id.length > 256) {
    throw new SpecError(`${field}.id`, `must be a non-empty string of at most 256 characters, got ${show(id)}`);
  }
  return {
    id,
    type: token(spec.type, `${field}.type`),
    key: token(spec.key, `${field}.key`),
    restart: oneOf(spec.restart, RESTART_TYPES, RestartType.Permanent, `${field}.restart`),
    shutdownMs: integer(spec.shutdownMs, DEFAULT_SHUTDOWN_MS, 0, `${field}.shutdownMs`),
    args: spec.args,
  };
}

/**
 * Validate a supervisor spec and fill in its defaults: strategy
 * `one_for_one`, intensity 1 in 5000 ms, no backoff, children `permanent`
 * with 5000 ms to shut down. Unknown fields are rejected, so a misspelt
 * option fails instead of being silently ignored. Child ids must be unique,
 * and so must the agents (`type/key`) they start.
 *
 * @throws SpecError naming the bad field, e.g. `intensity` or `children[1].restart`
 * @example
 * normalizeSupervisorSpec({ type: "sup", children: [{ id: "a", type: "worker", key: "a" }] });
 * // { type: "sup", strategy: "one_for_one", intensity: 1, periodMs: 5000, backoff: null, children: [...] }
 */
export function normalizeSupervisorSpec(input: unknown): NormalizedSupervisorSpec {
  const spec = record(input, "supervisor spec");
  known(spec, SUPERVISOR_FIELDS, "");
  const type = token(spec.type, "type");
  const strategy = oneOf(spec.strategy, STRATEGIES, Strategy.OneForOne, "strategy");
  const intensity = integer(spec.intensity, DEFAULT_INTENSITY, 0, "intensity");
  const periodMs = integer(spec.periodMs, DEFAULT_PERIOD_MS, 1, "periodMs");
  const backoff = normalizeBackoff(spec.backoff);

  if (spec.children !== undefined && !Array.isArray(spec.children)) {
    throw new SpecError("children", `must be an array of child specs, got ${show(spec.children)}`);
  }
  const children: NormalizedChildSpec[] = [];
  const ids = new Map<string, number>();
  const agents = new Map<string, number>();
  for (const [i, raw] of (spec.children ?? []).entries()) {
    const child = normalizeChildSpec(raw, `children[${i}]`);
    const sameId = ids.get(child.id);
    if (sameId !== undefined) {
      throw new SpecError(`children[${i}].id`, `duplicate child id ${show(child.id)} (also children[${sameId}].id)`);
    }
    const agent = `${child.type}/${child.key}`;
    const sameAgent = agents.get(agent);
    if (sameAgent !== undefined) {
      throw new SpecError(`children[${i}].key`, `agent ${agent} is already started by children[${sameAgent}]`);
    }
    ids.set(child.id, i);
    agents.set(agent, i);
    children.push(child);
  }
  return { type, strategy, intensity, periodMs, backoff, children };
}

function normalizeBackoff(input: unknown): BackoffSpec | null {
  if (input === undefined || input === null) return null;
  const b = record(input, "backoff");
  known(b, BACKOFF_FIELDS, "backoff");
  const minMs = number(b.minMs, DEFAULT_BACKOFF.minMs, "backoff.minMs", (v) => v >= 0, "a non-negative number");
  const maxMs = number(b.maxMs, Math.max(DEFAULT_BACKOFF.maxMs, minMs), "backoff.maxMs", (v) => v >= minMs, `a number >= minMs (${minMs})`);
  const factor = number(b.factor, DEFAULT_BACKOFF.factor, "backoff.factor", (v) => v >= 1, "a number >= 1");
  const jitter = number(b.jitter, DEFAULT_BACKOFF.jitter, "backoff.jitter", (v) => v >= 0 && v <= 1, "a number from 0 to 1");
  const spec: BackoffSpec = { minMs, maxMs, factor, jitter };
  if (b.resetAfterMs !== undefined) {
    spec.resetAfterMs = number(b.resetAfterMs, 0, "backoff.resetAfterMs", (v) => v >= 0, "a non-negative number");
  }
  return spec;
}

function record(input: unknown, field: string): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SpecError(field, `must be an object, got ${show(input)}`);
  }
  return input as Record<string, unknown>;
}

function known(spec: Record<string, unknown>, fields: readonly string[], parent: string): void {
  for (const name of Object.keys(spec)) {
    if (!fields.includes(name)) {
      throw new SpecError(parent ? `${parent}.${name}` : name, `unknown field (known: ${fields.join(", ")})`);
    }
  }
}

/** An agent type or key: a non-empty string here; the runtime checks it is a valid address token. */
function token(value: unknown, field: string): string {
  if (typeof value === "string" && value.length > 0 && value.length <= 128) return value;
  throw new SpecError(field, `must be 1-128 letters, digits, "_" or "-", got ${show(value)}`);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, field: string): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new SpecError(field, `must be one of ${allowed.join(", ")}, got ${show(value)}`);
}

function integer(value: unknown, fallback: number, min: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min) return value;
  const what = min === 0 ? "a non-negative integer" : `an integer >= ${min}`;
  throw new SpecError(field, `must be ${what}, got ${show(value)}`);
}

function number(value: unknown, fallback: number, field: string, ok: (v: number) => boolean, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isFinite(value) && ok(value)) return value;
  throw new SpecError(field, `must be ${what}, got ${show(value)}`);
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
