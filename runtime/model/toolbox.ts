// A model agent's tools, checked once: what the model is told it may call,
// the check of each call the model makes (a known tool, arguments that parse
// and match the schema), and running one call, guarded: a timeout, errors
// turned into tool errors the model reads, results bounded. Nothing here
// throws at the loop: every failure is an outcome.

import type { Clock } from "../clock.js";
import { PermissionDeniedError, RemoteError, TroupeError, errorText, InvalidConfigError, McpUnavailableError } from "../errors.js";
import type { McpHub } from "./mcp-hub.js";
import { checkMcpToolSet, isMcpToolSet, type McpToolSet } from "./mcp-tools.js";
import {
  askIdOf,
  checkToolDefinition,
  describeSchemaErrors,
  type AgentTool,
  type CheckedTool,
  type FunctionTool,
  type JsonSchema,
  type ToolContext,
} from "./tool.js";

/** Why a tool call was refused without running. */
export const ToolRefusal = {
  /** The model named a tool that is not in the agent's list. */
  UnknownTool: "unknown_tool",
  /** The call's arguments are not JSON (or not a JSON object). */
  InvalidJson: "invalid_json",
  /** The arguments do not match the tool's schema. */
  InvalidArgs: "invalid_args",
  /** A `can` grant refused the agent tool's target. */
  Denied: "denied",
} as const;
export type ToolRefusal = (typeof ToolRefusal)[keyof typeof ToolRefusal];

/** What {@link Toolbox.check} found of a call: its parsed arguments and whether it needs approval, or why it is refused. */
export type ToolCheck =
  | { ok: true; name: string; args: unknown; approval: boolean }
  | { ok: false; name: string; refusal: ToolRefusal; error: string };

/**
 * How a call ended. `text` is what goes back to the model as the tool
 * message: the result JSON-encoded (a string as it is), or `{"error": "..."}`
 * (with `"code"` when the error is a typed one), at most
 * {@link TOOL_TEXT_LIMIT} bytes.
 */
export type ToolOutcome = { ok: true; result: unknown; text: string } | { ok: false; error: string; text: string; refusal?: ToolRefusal };

/** One tool as the model is told of it. */
export interface ToolSpecEntry {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
}

/** Longest tool result the model is given, in UTF-8 bytes; a longer one is cut, with a note saying so. */
export const TOOL_TEXT_LIMIT = 32 * 1024;

/** A tool name the OpenAI-compatible APIs accept. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** How many tool names an unknown-tool refusal lists. */
const LISTED_NAMES = 32;

/** A model agent's tools. */
export class Toolbox {
  /** The tools as sent to the model, in the order given. */
  readonly specs: readonly ToolSpecEntry[];
  /** MCP servers whose tools join these once listed ({@link expand}). */
  readonly mcp: readonly McpToolSet[];
  private readonly tools: ReadonlyMap<string, CheckedTool>;
  /** The last expansion, and the servers' tool maps it was made of. */
  private expansion: { parts: readonly ReadonlyMap<string, CheckedTool>[]; box: Toolbox } | undefined;

  private constructor(tools: Map<string, CheckedTool>, mcp: readonly McpToolSet[] = []) {
    this.tools = tools;
    this.mcp = Object.freeze([...mcp]);
    this.specs = Object.freeze([...tools].map(([name, t]) => Object.freeze({ name, description: t.description, parameters: t.parameters })));
  }

  /**
   * Check a `tools` option: an object of tool definitions by name. A bad one
   * is an InvalidConfigError naming it (`tools.lookup.parameters`).
   */
  static from(tools: unknown, field = "tools"): Toolbox {
    if (tools === undefined) return new Toolbox(new Map());
    if (tools === null || typeof tools !== "object" || Array.isArray(tools)) {
      throw new InvalidConfigError(field, "must be an object of tools by name: { add: tool({...}), lookup: { agent: ..., ... } }");
    }
    const checked = new Map<string, CheckedTool>();
    const mcp: McpToolSet[] = [];
    for (const [name, def] of Object.entries(tools)) {
      // An MCP server's tools (mcpTools): named by the server, with the set's prefix, once it is connected.
      if (isMcpToolSet(def)) {
        mcp.push(checkMcpToolSet(def, `${field}.${name}`));
        continue;
      }
      if (!TOOL_NAME.test(name)) throw new InvalidConfigError(`${field}.${name}`, "a tool name must be 1-64 letters, digits, `_` or `-`");
      checked.set(name, checkToolDefinition(def, `${field}.${name}`));
    }
    return new Toolbox(checked, mcp);
  }

  /**
   * These tools with those of the MCP servers, listed through the node's
   * `hub` (connecting if need be); this toolbox itself when it has no MCP
   * servers. The same toolbox while no server's list changed. Rejects with
   * McpUnavailableError only.
   */
  async expand(hub: McpHub | undefined): Promise<Toolbox> {
    if (this.mcp.length === 0) return this;
    if (!hub) throw new McpUnavailableError(this.mcp[0]!.mcp.label, "this context has no MCP connections (it is not an agent of a node)");
    const parts = await Promise.all(this.mcp.map((set) => hub.connection(set).tools()));
    const last = this.expansion;
    if (last && last.parts.length === parts.length && last.parts.every((p, i) => p === parts[i])) return last.box;
    const all = new Map(this.tools);
    parts.forEach((part, i) => {
      for (const [name, t] of part) {
        if (all.has(name)) {
          throw new McpUnavailableError(this.mcp[i]!.mcp.label, `its tool ${name} has the name of another tool of the agent; give mcpTools a \`name\` of its own`);
        }
        all.set(name, t);
      }
    });
    const box = new Toolbox(all);
    this.expansion = { parts, box };
    return box;
  }

  /** Number of tools. */
  get size(): number {
    return this.tools.size;
  }

  /**
   * Check a call the model made: the tool exists, its arguments parse as a
   * JSON object (empty text is `{}`) and match the schema. Never throws; a
   * refusal's `error` is written for the model to read and correct.
   */
  check(name: string, argumentsText: string): ToolCheck {
    try {
      const t = typeof name === "string" ? this.tools.get(name) : undefined;
      if (t === undefined) return { ok: false, name: String(name), refusal: ToolRefusal.UnknownTool, error: this.unknown(name) };
      let args: unknown;
      const text = typeof argumentsText === "string" ? argumentsText.trim() : "";
      try {
        args = text === "" ? {} : JSON.parse(text);
      } catch (err) {
        return { ok: false, name, refusal: ToolRefusal.InvalidJson, error: `the arguments of ${name} are not valid JSON: ${errorText(err)}` };
      }
      if (args === null || typeof args !== "object" || Array.isArray(args)) {
        return { ok: false, name, refusal: ToolRefusal.InvalidJson, error: `the arguments of ${name} must be a JSON object, got ${text.slice(0, 80)}` };
      }
      if (!t.validate(args)) {
        return { ok: false, name, refusal: ToolRefusal.InvalidArgs, error: `invalid arguments for ${name}: ${describeSchemaErrors(t.validate.errors)}` };
      }
      return { ok: true, name, args, approval: t.approval };
    } catch (err) {
      return { ok: false, name: String(name), refusal: ToolRefusal.InvalidArgs, error: `the arguments of ${String(name)} could not be checked: ${errorText(err)}` };
    }
  }

  /**
   * Run one checked call (its arguments are validated again: one that does
   * not match is refused as `invalid_args`). A function tool runs with a signal aborted at its
   * `timeoutMs` (measured on `clock`) or when `ctx.signal` aborts; an agent
   * tool asks its agent. Never throws: a throw, a timeout, a refused or
   * failed ask are outcomes with `ok: false`.
   */
  async run(name: string, args: unknown, ctx: ToolContext, clock: Clock): Promise<ToolOutcome> {
    const t = this.tools.get(name);
    if (t === undefined) return failure(this.unknown(name), undefined, ToolRefusal.UnknownTool);
    // Checked again here: what runs is exactly what the schema allows, whatever path the arguments took (a journal, an approval).
    if (!t.validate(args)) return failure(`invalid arguments for ${name}: ${describeSchemaErrors(t.validate.errors)}`, undefined, ToolRefusal.InvalidArgs);
    try {
      const result = t.kind === "agent" ? await askAgent(name, t, args, ctx) : await runFunction(name, t, args, ctx, clock);
      return success(result);
    } catch (err) {
      if (err instanceof PermissionDeniedError) return failure(err.message, err.code, ToolRefusal.Denied);
      return failure(errorText(err), codeOf(err));
    }
  }

  private unknown(name: unknown): string {
    const names = [...this.tools.keys()];
    const listed = names.length === 0 ? "this agent has no tools" : `the tools are: ${names.slice(0, LISTED_NAMES).join(", ")}${names.length > LISTED_NAMES ? ", ..." : ""}`;
    return `there is no tool named ${JSON.stringify(String(name).slice(0, 80))}; ${listed}`;
  }
}

async function runFunction(name: string, t: CheckedTool, args: unknown, ctx: ToolContext, clock: Clock): Promise<unknown> {
  const execute = (t.def as FunctionTool).execute;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) throw new Error(`tool ${name} was not run: ${reasonText(ctx.signal.reason)}`);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  try {
    const call: ToolContext = { idempotencyKey: ctx.idempotencyKey, toolCallId: ctx.toolCallId, agent: ctx.agent, signal: controller.signal };
    const given = Promise.resolve().then(() => execute(args, call));
    const stopped = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => {
        const err = new Error(`tool ${name} did not finish within ${t.timeoutMs} ms`);
        reject(err);
        controller.abort(err);
      }, t.timeoutMs);
      controller.signal.addEventListener("abort", () => reject(new Error(`tool ${name} was given up: ${reasonText(controller.signal.reason)}`)), { once: true });
    });
    // The call's own promise may still reject after it was given up: nobody waits for it then.
    given.catch(() => {});
    return await Promise.race([given, stopped]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
  }
}

async function askAgent(name: string, t: CheckedTool, args: unknown, ctx: ToolContext): Promise<unknown> {
  const def = t.def as AgentTool;
  const key = keyOf(def, args, ctx);
  if (ctx.signal.aborted) throw new Error(`tool ${name} was not run: ${reasonText(ctx.signal.reason)}`);
  return ctx.agent.ref(def.agent, key).ask(args, { timeoutMs: t.timeoutMs, id: askIdOf(ctx.idempotencyKey) });
}

/** The key of the agent an agent tool asks: its `key` (a string or a function), else `args.key`, `args.id`, the caller's key. */
function keyOf(def: AgentTool, args: unknown, ctx: ToolContext): string {
  if (typeof def.key === "string") return def.key;
  if (typeof def.key === "function") {
    const key = def.key(args, ctx);
    if (typeof key !== "string") throw new TypeError(`the key function of the tool returned ${typeof key}, not a string`);
    return key;
  }
  const a = args as { key?: unknown; id?: unknown } | null;
  if (typeof a?.key === "string") return a.key;
  if (typeof a?.id === "string") return a.id;
  return ctx.agent.key;
}

function success(result: unknown): ToolOutcome {
  const value = result === undefined ? null : result;
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch (err) {
    return failure(`the tool's result is not JSON: ${errorText(err)}`);
  }
  if (typeof text !== "string") return failure(`the tool's result is not JSON (a ${typeof value})`);
  return { ok: true, result: value, text: bounded(text) };
}

function failure(error: string, code?: string, refusal?: ToolRefusal): ToolOutcome {
  const text = bounded(JSON.stringify(code ? { error, code } : { error }), true);
  return refusal ? { ok: false, error, text, refusal } : { ok: false, error, text };
}

/** The code a typed error keeps for the model: its own, or the remote one of an agent's failure. */
function codeOf(err: unknown): string | undefined {
  if (err instanceof RemoteError) return err.remoteCode ?? err.code;
  if (err instanceof TroupeError) return err.code;
  return undefined;
}

function reasonText(reason: unknown): string {
  return reason === undefined ? "aborted" : errorText(reason);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `text` cut to {@link TOOL_TEXT_LIMIT} UTF-8 bytes, note included. An error
 * text (JSON) that is too long is made again from its cut message, so it stays JSON.
 */
export function bounded(text: string, isErrorJson = false): string {
  if (text.length <= TOOL_TEXT_LIMIT / 4) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= TOOL_TEXT_LIMIT) return text;
  if (isErrorJson) {
    const parsed = JSON.parse(text) as { error: string; code?: string };
    const room = Math.floor((TOOL_TEXT_LIMIT - 200) / 6); // a character may take six bytes once escaped
    return JSON.stringify({ ...parsed, error: `${parsed.error.slice(0, room)}… [cut: the error was ${bytes.length} bytes]` });
  }
  const note = `\n[cut: the result was ${bytes.length} bytes; only the first part is shown]`;
  const room = TOOL_TEXT_LIMIT - encoder.encode(note).length;
  // Cut on a character boundary: drop continuation bytes (10xxxxxx) at the cut.
  let end = room;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end)) + note;
}
