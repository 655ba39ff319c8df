// The tools of an MCP server, for a model agent: `mcpTools({ command, args })`
// (stdio) or `mcpTools({ url })` (streamable HTTP) gives one entry to spread
// into `tools`. Which tools the server has is known only once it is
// connected, so the entry is a tool *set*, expanded when a request first
// needs the agent's tools (model/mcp-hub.ts, one connection per node and set).
// The options are checked here, once, with errors naming the field.

import { createHash } from "node:crypto";
import { InvalidConfigError } from "../errors.js";

/** How to reach an MCP server, and what to take of its tools. */
export type McpToolsOptions = McpStdioServer | McpHttpServer;

interface McpCommonOptions {
  /**
   * Prefix of the tools' names, as the model sees them: `<name>_<tool>`.
   * 1-32 letters, digits, `_` or `-`. Default `"mcp"`.
   */
  name?: string;
  /** Only these tools of the server (by the server's names). Default: all. */
  include?: readonly string[];
  /** Pause every call of these tools for a human (`ref.approve(id)`), as a tool's `approval`. Default false. */
  approval?: boolean;
  /** A call running longer than this is a tool error. Default 60 000. */
  timeoutMs?: number;
  /** Connecting (spawn or HTTP) and listing the tools must take less than this. Default 30 000. */
  connectTimeoutMs?: number;
}

/** An MCP server run as a child process of the node, spoken to over its stdin and stdout. */
export interface McpStdioServer extends McpCommonOptions {
  command: string;
  args?: readonly string[];
  /** Extra environment variables; the child gets these over the SDK's safe defaults (PATH, HOME, ...). */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  url?: undefined;
}

/** An MCP server at a URL: streamable HTTP, or the older HTTP+SSE transport. */
export interface McpHttpServer extends McpCommonOptions {
  url: string;
  /** Headers sent with every request (an `Authorization`, say). */
  headers?: Readonly<Record<string, string>>;
  /** `"streamable-http"` (default) or `"sse"`; `"auto"` tries streamable HTTP and falls back to SSE when the server refuses it (404/405). */
  transport?: "streamable-http" | "sse" | "auto";
  command?: undefined;
}

/** The entry mcpTools() gives: the checked options of one MCP server, expanded into tools when the agent needs them. */
export interface McpToolSet {
  readonly mcp: McpServerConfig;
}

/** Checked options of one MCP server. */
export interface McpServerConfig {
  readonly prefix: string;
  /** The server as people read it: `node server.js` or its URL (in errors and spans). */
  readonly label: string;
  readonly stdio?: { readonly command: string; readonly args: readonly string[]; readonly env?: Readonly<Record<string, string>>; readonly cwd?: string };
  readonly http?: { readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly transport: "streamable-http" | "sse" | "auto" };
  readonly include?: readonly string[];
  readonly approval: boolean;
  readonly timeoutMs?: number;
  readonly connectTimeoutMs: number;
}

/** Default time to connect to an MCP server and list its tools. */
export const DEFAULT_MCP_CONNECT_TIMEOUT_MS = 30_000;

/** The sets made by mcpTools (checked already). */
const made = new WeakSet<object>();

const PREFIX = /^[a-zA-Z0-9_-]{1,32}$/;

/**
 * The tools of an MCP server, to spread into a model agent's `tools`. The
 * server is connected once per node, when a request first needs the tools;
 * each tool is `<name>_<tool>` to the model (`name` defaults to `"mcp"`).
 *
 * @example
 * defineAgent("assistant", {
 *   model,
 *   tools: {
 *     ...mcpTools({ name: "fs", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"] }),
 *     ...mcpTools({ name: "search", url: "http://127.0.0.1:8080/mcp", approval: true }),
 *   },
 * });
 */
export function mcpTools(options: McpToolsOptions): Record<string, McpToolSet> {
  const set: McpToolSet = Object.freeze({ mcp: checkMcpOptions(options, "mcpTools") });
  made.add(set);
  // The key is not shown to the model; an unnamed set gets one of its own, so two unnamed servers spread into one object do not overwrite each other.
  const key = options.name ?? `mcp-${createHash("sha256").update(set.mcp.label).digest("hex").slice(0, 8)}`;
  return { [key]: set };
}

/** Whether a `tools` entry is an MCP tool set. */
export function isMcpToolSet(def: unknown): def is McpToolSet {
  return def !== null && typeof def === "object" && "mcp" in def;
}

/** Check a `tools` entry that is an MCP tool set (given as `{ mcp: ... }`, or made by mcpTools). */
export function checkMcpToolSet(def: McpToolSet, field: string): McpToolSet {
  if (made.has(def)) return def;
  const set: McpToolSet = Object.freeze({ mcp: checkMcpOptions(def.mcp, `${field}.mcp`) });
  made.add(set);
  return set;
}

function checkMcpOptions(value: unknown, field: string): McpServerConfig {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidConfigError(field, "takes { command, args } (a stdio server) or { url } (an HTTP server)");
  }
  const o = value as Record<string, unknown>;
  const hasCommand = o.command !== undefined;
  const hasUrl = o.url !== undefined;
  if (hasCommand === hasUrl) throw new InvalidConfigError(field, hasCommand ? "give either `command` or `url`, not both" : "needs `command` (a stdio server) or `url` (an HTTP server)");
  const prefix = o.name ?? "mcp";
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new InvalidConfigError(`${field}.name`, `must be 1-32 letters, digits, \`_\` or \`-\` (it prefixes the tools' names), got ${JSON.stringify(prefix)}`);
  }
  const include = o.include === undefined ? undefined : stringList(o.include, `${field}.include`);
  if (o.approval !== undefined && typeof o.approval !== "boolean") throw new InvalidConfigError(`${field}.approval`, `must be true or false, got ${JSON.stringify(o.approval)}`);
  const timeoutMs = positive(o.timeoutMs, `${field}.timeoutMs`);
  const connectTimeoutMs = positive(o.connectTimeoutMs, `${field}.connectTimeoutMs`) ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS;
  const common = {
    prefix,
    approval: o.approval === true,
    connectTimeoutMs,
    ...(include ? { include } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  if (hasCommand) {
    if (typeof o.command !== "string" || o.command.trim() === "") throw new InvalidConfigError(`${field}.command`, "must be the server's executable, a non-empty string");
    const args = o.args === undefined ? [] : stringList(o.args, `${field}.args`);
    const env = o.env === undefined ? undefined : stringRecord(o.env, `${field}.env`);
    if (o.cwd !== undefined && typeof o.cwd !== "string") throw new InvalidConfigError(`${field}.cwd`, "must be a directory path");
    return deepFreeze({
      ...common,
      label: [o.command, ...args].join(" "),
      stdio: { command: o.command, args, ...(env ? { env } : {}), ...(typeof o.cwd === "string" ? { cwd: o.cwd } : {}) },
    });
  }
  if (typeof o.url !== "string") throw new InvalidConfigError(`${field}.url`, "must be the server's URL, like http://127.0.0.1:8080/mcp");
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new InvalidConfigError(`${field}.url`, `is not a URL: ${JSON.stringify(o.url)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidConfigError(`${field}.url`, `must be http: or https:, got ${url.protocol}`);
  const transport = o.transport ?? "streamable-http";
  if (transport !== "streamable-http" && transport !== "sse" && transport !== "auto") {
    throw new InvalidConfigError(`${field}.transport`, `must be "streamable-http", "sse" or "auto", got ${JSON.stringify(transport)}`);
  }
  const headers = o.headers === undefined ? {} : stringRecord(o.headers, `${field}.headers`);
  url.username = "";
  url.password = "";
  return deepFreeze({ ...common, label: url.href, http: { url: o.url, headers, transport } });
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new InvalidConfigError(field, "must be an array of strings");
  return [...(value as string[])];
}

function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new InvalidConfigError(field, "must be an object of strings");
  }
  return { ...(value as Record<string, string>) };
}

function positive(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new InvalidConfigError(field, `must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
