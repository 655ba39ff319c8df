// What a model agent's tool is: a local function (`tool({...})`) or an ask to
// another agent, each with a description and a JSON Schema for its
// arguments. A definition is checked once, here: its schema is compiled (ajv)
// when it is defined, so a bad schema fails at startup, not at the model's
// first call.

import { createHash } from "node:crypto";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { AgentContext } from "../agent-context.js";
import { isMessageKey } from "../envelope.js";
import { InvalidConfigError } from "../errors.js";
import { validateToken } from "../subjects.js";
import type { McpToolSet } from "./mcp-tools.js";

/** A JSON Schema, as plain JSON data. */
export type JsonSchema = Record<string, unknown>;

/** What a tool sees of the call it runs. */
export interface ToolContext {
  /**
   * Stable across retries and resumes of the same tool call:
   * `<agent id>/<request id>/<tool call id>`. A tool with a side effect
   * passes it on (a payment's idempotency key) so running it again after a
   * crash does the effect once.
   */
  readonly idempotencyKey: string;
  /** The model's id of this tool call. */
  readonly toolCallId: string;
  /** The calling agent's context. */
  readonly agent: AgentContext;
  /** Aborted when the call is given up: past its `timeoutMs`, or when the agent's activation ends. */
  readonly signal: AbortSignal;
}

/** A tool that runs a local function. Make one with {@link tool}. */
export interface FunctionTool<A = any, R = unknown> {
  readonly kind?: "function";
  /** What the tool does, for the model. */
  description: string;
  /** JSON Schema of the arguments: an object schema (`type: "object"`). */
  parameters: JsonSchema;
  /** Run the call; `args` have been validated against `parameters`. The result goes back to the model. */
  execute(args: A, ctx: ToolContext): R | Promise<R>;
  /** Pause for a human (`ref.approve(id)` / `ref.deny(id, reason)`) before running. Default false. */
  approval?: boolean;
  /** A call running longer than this is a tool error (its `ctx.signal` is aborted). Default 60 000. */
  timeoutMs?: number;
}

/** A tool that asks another agent; the answer is the tool's result. */
export interface AgentTool {
  /** The agent type asked. */
  agent: string;
  /**
   * Which agent of the type: a key, or a function of the call's arguments.
   * Default: `args.key`, else `args.id` (when a string), else the caller's own key.
   */
  key?: string | ((args: any, ctx: ToolContext) => string);
  /** What the tool does, for the model. */
  description: string;
  /** JSON Schema of the arguments (the message sent to the agent): an object schema. */
  parameters: JsonSchema;
  /** Pause for a human before asking. Default false. */
  approval?: boolean;
  /** The ask's timeout. Default 60 000. */
  timeoutMs?: number;
}

/** One entry of a model agent's `tools`; an MCP server's tools come as one entry too (spread `mcpTools({...})`). */
export type ToolDefinition = FunctionTool | AgentTool | McpToolSet;

/** Default time a tool call may take, in milliseconds. */
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

/** What a checked tool is, for the toolbox: its kind, schema and validator. */
export interface CheckedTool {
  readonly kind: "function" | "agent";
  readonly description: string;
  /** The schema as sent to the model (a JSON copy of what was given). */
  readonly parameters: JsonSchema;
  readonly validate: ValidateFunction;
  readonly approval: boolean;
  readonly timeoutMs: number;
  readonly def: ToolDefinition;
}

/** Checked definitions, by the object given: a tool made with tool() is checked and compiled once. */
const checked = new WeakMap<object, CheckedTool>();

/**
 * Define a tool that runs a local function. The definition is checked (an
 * InvalidConfigError names the bad field) and frozen, and its schema compiled.
 *
 * @example
 * const add = tool({
 *   description: "Add two numbers",
 *   parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
 *   execute: ({ a, b }: { a: number; b: number }) => a + b,
 * });
 */
export function tool<A = any, R = unknown>(def: FunctionTool<A, R>): FunctionTool<A, R> {
  if (def === null || typeof def !== "object") throw new InvalidConfigError("tool", "tool() takes an object { description, parameters, execute }");
  if (typeof (def as Partial<FunctionTool>).execute !== "function") throw new InvalidConfigError("tool.execute", "must be a function (args, ctx) => result");
  const copy = Object.freeze({ ...def, kind: "function" as const });
  checkToolDefinition(copy, "tool");
  return copy;
}

/**
 * Check one tool definition (a function tool or an agent tool) and compile
 * its schema; `field` names it in errors (`tools.lookup`). Checked once per
 * definition object.
 */
export function checkToolDefinition(def: unknown, field: string): CheckedTool {
  if (def === null || typeof def !== "object" || Array.isArray(def)) {
    throw new InvalidConfigError(field, "must be a tool: tool({ description, parameters, execute }) or { agent, description, parameters }");
  }
  const known = checked.get(def);
  if (known) return known;
  const d = def as Record<string, unknown>;
  const isFunction = d.execute !== undefined;
  const isAgent = d.agent !== undefined;
  if (isFunction === isAgent) {
    throw new InvalidConfigError(field, isFunction ? "give either `execute` (a function tool) or `agent` (an agent tool), not both" : "needs `execute` (a function tool) or `agent` (an agent tool)");
  }
  if (isFunction && typeof d.execute !== "function") throw new InvalidConfigError(`${field}.execute`, "must be a function (args, ctx) => result");
  if (d.kind !== undefined && d.kind !== "function") throw new InvalidConfigError(`${field}.kind`, `must be "function" when given, got ${JSON.stringify(d.kind)}`);
  if (isAgent) {
    try {
      validateToken("agent type", d.agent as string);
    } catch (err) {
      throw new InvalidConfigError(`${field}.agent`, (err as Error).message);
    }
    if (d.key !== undefined && typeof d.key !== "function") {
      try {
        validateToken("agent key", d.key as string);
      } catch (err) {
        throw new InvalidConfigError(`${field}.key`, `${(err as Error).message}, or a function (args, ctx) => key`);
      }
    }
  }
  if (typeof d.description !== "string" || d.description.trim() === "") {
    throw new InvalidConfigError(`${field}.description`, "must be a non-empty string: it tells the model what the tool does");
  }
  if (d.approval !== undefined && typeof d.approval !== "boolean") {
    throw new InvalidConfigError(`${field}.approval`, `must be true or false, got ${JSON.stringify(d.approval)}`);
  }
  if (d.timeoutMs !== undefined && (typeof d.timeoutMs !== "number" || !Number.isFinite(d.timeoutMs) || d.timeoutMs <= 0)) {
    throw new InvalidConfigError(`${field}.timeoutMs`, `must be a positive number of milliseconds, got ${JSON.stringify(d.timeoutMs)}`);
  }
  const parameters = checkParameters(d.parameters, `${field}.parameters`);
  const result: CheckedTool = Object.freeze({
    kind: isAgent ? ("agent" as const) : ("function" as const),
    description: d.description,
    parameters,
    validate: compileParameters(parameters, `${field}.parameters`),
    approval: d.approval === true,
    timeoutMs: (d.timeoutMs as number | undefined) ?? DEFAULT_TOOL_TIMEOUT_MS,
    def: def as ToolDefinition,
  });
  checked.set(def, result);
  return result;
}

/**
 * The tool call's idempotency key, `<agent id>/<request id>/<tool call id>`:
 * the same for every run of the same call, so a call run again after a crash
 * can be recognised by what it does.
 */
export function toolCallKey(agentId: string, requestId: string, toolCallId: string): string {
  return `${agentId}/${requestId}/${toolCallId}`;
}

/**
 * The ask id an agent tool sends with its ask: the tool call's idempotency key
 * when it is a valid message key (1-128 printable characters), else a digest
 * of it. An agent with a durable mailbox answers a repeated ask with the same
 * id from its stored outcome instead of applying it again.
 */
export function askIdOf(idempotencyKey: string): string {
  return isMessageKey(idempotencyKey) ? idempotencyKey : `tool-${createHash("sha256").update(idempotencyKey).digest("hex")}`;
}

/** Which ajv instance understands a schema's `$schema` (draft-07 unless it names 2019-09 or 2020-12). */
const validators = {
  draft7: new Ajv({ strict: false, allErrors: true, addUsedSchema: false }),
  draft2019: new Ajv2019({ strict: false, allErrors: true, addUsedSchema: false }),
  draft2020: new Ajv2020({ strict: false, allErrors: true, addUsedSchema: false }),
};

/** A schema given as JSON Schema, or as a schema object that converts itself (`toJSONSchema()`), copied as plain JSON. */
function checkParameters(value: unknown, field: string): JsonSchema {
  let schema = value;
  if (schema !== null && typeof schema === "object" && typeof (schema as { toJSONSchema?: unknown }).toJSONSchema === "function") {
    try {
      schema = (schema as { toJSONSchema(): unknown }).toJSONSchema();
    } catch (err) {
      throw new InvalidConfigError(field, `toJSONSchema() failed: ${(err as Error).message}`);
    }
  }
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    throw new InvalidConfigError(field, 'must be a JSON Schema object, like { type: "object", properties: { ... } }');
  }
  let copy: JsonSchema;
  try {
    copy = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  } catch (err) {
    throw new InvalidConfigError(field, `must be plain JSON (it is sent to the model): ${(err as Error).message}`);
  }
  if (copy.type !== "object") {
    throw new InvalidConfigError(field, `must describe an object (type: "object"): a tool's arguments are named, got type ${JSON.stringify(copy.type)}`);
  }
  return deepFreeze(copy);
}

function compileParameters(schema: JsonSchema, field: string): ValidateFunction {
  const dialect = typeof schema.$schema === "string" ? schema.$schema : "";
  const ajv = dialect.includes("2020-12") ? validators.draft2020 : dialect.includes("2019-09") ? validators.draft2019 : validators.draft7;
  try {
    return ajv.compile(schema);
  } catch (err) {
    throw new InvalidConfigError(field, `is not a valid JSON Schema: ${(err as Error).message}`);
  }
}

/**
 * The validation errors as one sentence the model can act on, naming each
 * field: `"b" is required; "a" must be number`.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "the arguments do not match the tool's parameters";
  const seen = new Set<string>();
  for (const e of errors) {
    const at = pathOf(e.instancePath);
    const params = e.params as Record<string, unknown>;
    let text: string;
    if (e.keyword === "required" && typeof params.missingProperty === "string") text = `${quote(join(at, params.missingProperty))} is required`;
    else if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
      text = `${quote(join(at, params.additionalProperty))} is not a parameter of this tool`;
    } else text = `${at === "" ? "the arguments" : quote(at)} ${e.message ?? "are invalid"}`;
    seen.add(text);
    if (seen.size >= 10) break;
  }
  return [...seen].join("; ");
}

/** `/items/0/name` -> `items[0].name`. */
function pathOf(instancePath: string): string {
  if (instancePath === "") return "";
  return instancePath
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === "" ? p : `${acc}.${p}`), "");
}

function join(at: string, name: string): string {
  return at === "" ? name : `${at}.${name}`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
