// One MCP server, as a node's model agents use it: connected on first need
// (the SDK loaded then too, so a node without MCP tools never loads it), its
// tools listed once and turned into checked tools (`<prefix>_<tool>`, the
// server's inputSchema as the schema the loop validates against), each call a
// `tools/call` whose result becomes the tool message. A connection that
// drops is made again by the next request that needs it; a `tools/list_changed`
// notification makes the next request list the tools again.

import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Clock } from "../clock.js";
import { errorText, McpToolError, McpUnavailableError } from "../errors.js";
import { checkToolDefinition, DEFAULT_TOOL_TIMEOUT_MS, type CheckedTool, type FunctionTool, type ToolContext } from "./tool.js";
import { mcpResultOf } from "./mcp-result.js";
import type { McpServerConfig } from "./mcp-tools.js";

/** The key under `_meta` of a tools/call that carries the call's idempotency key. */
export const MCP_IDEMPOTENCY_META_KEY = "troupe/idempotencyKey";

/** At most this many tools are taken from one server. */
const MAX_TOOLS = 256;
/** A tool's description longer than this (characters) is cut: it is sent to the model with every request. */
const MAX_DESCRIPTION = 4096;
/** At most this many pages of tools/list are read. */
const MAX_PAGES = 32;
/** Characters of a stdio server's stderr kept for an error message. */
const STDERR_TAIL = 2000;
/** The SDK's own timeout of a call is this much past the tool's, so the loop's (on the injected clock) speaks first. */
const SDK_TIMEOUT_MARGIN_MS = 5_000;

const TOOL_NAME_CHAR = /[^a-zA-Z0-9_-]/g;

/** A connected client and the tools listed through it. */
interface Session {
  readonly client: Client;
  tools: Promise<ReadonlyMap<string, CheckedTool>> | undefined;
  closed: boolean;
}

/** One MCP server of a node. */
export class McpConnection {
  private session: Promise<Session> | undefined;
  private closed = false;

  constructor(
    readonly config: McpServerConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * The server's tools by the names the model sees, connecting (again) if
   * need be. The same map while nothing changed. Rejects with
   * McpUnavailableError only.
   */
  async tools(): Promise<ReadonlyMap<string, CheckedTool>> {
    if (this.closed) throw new McpUnavailableError(this.config.label, "the node is closing");
    const session = await this.connected();
    session.tools ??= this.list(session).catch((err: unknown) => {
      session.tools = undefined;
      throw unavailable(this.config.label, "listing its tools failed", err);
    });
    return session.tools;
  }

  /** Close the connection (a stdio server's process ends); later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.session;
    this.session = undefined;
    if (!pending) return;
    const session = await pending.catch(() => undefined);
    if (session) {
      session.closed = true;
      await session.client.close().catch(() => {});
    }
  }

  private connected(): Promise<Session> {
    if (this.closed) return Promise.reject(new McpUnavailableError(this.config.label, "the node is closing"));
    const pending = (this.session ??= this.connect());
    return pending.then(
      (s) => {
        if (!s.closed) return s;
        if (this.session === pending) this.session = undefined;
        return this.connected();
      },
      (err: unknown) => {
        // The next request tries again.
        if (this.session === pending) this.session = undefined;
        throw err;
      },
    );
  }

  private async connect(): Promise<Session> {
    const { http } = this.config;
    if (http?.transport !== "auto") return this.connectWith(http ? http.transport : "stdio");
    try {
      return await this.connectWith("streamable-http");
    } catch (err) {
      // The SDK's documented fallback: a server that refuses streamable HTTP (404, 405) may speak the older HTTP+SSE transport.
      const status = (err as { cause?: { code?: unknown } }).cause?.code;
      if (status !== 404 && status !== 405) throw err;
      return this.connectWith("sse");
    }
  }

  private async connectWith(kind: "stdio" | "streamable-http" | "sse"): Promise<Session> {
    const { label, connectTimeoutMs } = this.config;
    const [{ Client }, { ToolListChangedNotificationSchema }] = await Promise.all([
      import("@modelcontextprotocol/sdk/client/index.js"),
      import("@modelcontextprotocol/sdk/types.js"),
    ]);
    const { transport, stderr } = await this.transport(kind);
    const client = new Client({ name: "troupe", version: "1" }, { capabilities: {} });
    const session: Session = { client, tools: undefined, closed: false };
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new McpUnavailableError(label, `no answer to initialize within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    });
    try {
      await Promise.race([client.connect(transport, { timeout: connectTimeoutMs + SDK_TIMEOUT_MARGIN_MS }), timedOut]);
      // Closed while it connected (a request racing node.close()): nobody would close this one.
      if (this.closed) throw new McpUnavailableError(label, "the node is closing");
    } catch (err) {
      await client.close().catch(() => {});
      const tail = stderr?.text().trim();
      throw err instanceof McpUnavailableError ? err : unavailable(label, "connecting failed", err, tail ? `; its stderr: ${tail}` : "");
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
    client.onclose = () => {
      session.closed = true;
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      session.tools = undefined;
    });
    return session;
  }

  private async transport(kind: "stdio" | "streamable-http" | "sse"): Promise<{ transport: Transport; stderr?: StderrTail }> {
    const { stdio, http } = this.config;
    if (kind === "stdio") {
      const { StdioClientTransport, getDefaultEnvironment } = await import("@modelcontextprotocol/sdk/client/stdio.js");
      const transport = new StdioClientTransport({
        command: stdio!.command,
        args: [...stdio!.args],
        env: { ...getDefaultEnvironment(), ...stdio!.env },
        ...(stdio!.cwd !== undefined ? { cwd: stdio!.cwd } : {}),
        stderr: "pipe",
      });
      const stderr = new StderrTail();
      transport.stderr?.on("data", (chunk: Buffer | string) => stderr.add(String(chunk)));
      return { transport, stderr };
    }
    const url = new URL(http!.url);
    const requestInit = { headers: { ...http!.headers } };
    if (kind === "sse") {
      const { SSEClientTransport } = await import("@modelcontextprotocol/sdk/client/sse.js");
      return { transport: new SSEClientTransport(url, { requestInit }) };
    }
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    return { transport: new StreamableHTTPClientTransport(url, { requestInit }) };
  }

  private async list(session: Session): Promise<ReadonlyMap<string, CheckedTool>> {
    const { label, prefix, include, connectTimeoutMs } = this.config;
    const tools = new Map<string, CheckedTool>();
    const serverName = new Map<string, string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const listed = await session.client.listTools(cursor === undefined ? {} : { cursor }, { timeout: connectTimeoutMs });
      for (const t of listed.tools) {
        if (include && !include.includes(t.name)) continue;
        if (tools.size >= MAX_TOOLS) throw new McpUnavailableError(label, `it lists more than ${MAX_TOOLS} tools; choose some with \`include\``);
        const name = `${prefix}_${t.name.replace(TOOL_NAME_CHAR, "_")}`.slice(0, 64);
        const other = serverName.get(name);
        if (other !== undefined) throw new McpUnavailableError(label, `its tools ${JSON.stringify(other)} and ${JSON.stringify(t.name)} both become ${name}`);
        serverName.set(name, t.name);
        tools.set(name, this.checked(session, name, t));
      }
      cursor = listed.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** One server tool as a checked function tool that calls it. */
  private checked(session: Session, name: string, t: { name: string; title?: string; description?: string; inputSchema: unknown }): CheckedTool {
    const { label, approval, timeoutMs } = this.config;
    const given = t.description?.trim() || t.title?.trim() || `the tool ${t.name} of the MCP server ${label}`;
    const description = given.length > MAX_DESCRIPTION ? `${given.slice(0, MAX_DESCRIPTION)}…` : given;
    const def: FunctionTool = {
      description,
      parameters: t.inputSchema as Record<string, unknown>,
      approval,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      execute: (args: unknown, ctx: ToolContext) => this.call(session, t.name, args, ctx),
    };
    try {
      return checkToolDefinition(def, name);
    } catch (err) {
      throw new McpUnavailableError(label, `its tool ${JSON.stringify(t.name)} cannot be used: ${errorText(err)}`);
    }
  }

  private async call(session: Session, tool: string, args: unknown, ctx: ToolContext): Promise<unknown> {
    const { label, timeoutMs } = this.config;
    if (session.closed) throw new McpToolError(label, tool, `the connection to MCP server ${label} dropped; the next request connects again`);
    let result: CallToolResult;
    try {
      result = (await session.client.callTool(
        { name: tool, arguments: args as Record<string, unknown>, _meta: { [MCP_IDEMPOTENCY_META_KEY]: ctx.idempotencyKey } },
        undefined,
        { signal: ctx.signal, timeout: (timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS) + SDK_TIMEOUT_MARGIN_MS },
      )) as CallToolResult;
    } catch (err) {
      throw new McpToolError(label, tool, `MCP tool ${tool} failed: ${errorText(err)}`, { cause: err });
    }
    return mcpResultOf(label, tool, result);
  }
}

function unavailable(label: string, what: string, err: unknown, more = ""): McpUnavailableError {
  if (err instanceof McpUnavailableError) return err;
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown };
  const reason =
    e?.code === "ENOENT" && typeof e.syscall === "string" && e.syscall.startsWith("spawn")
      ? `its command ${String(e.path)} was not found`
      : typeof e?.code === "number" && e.code >= 100 && e.code < 600
        ? `HTTP ${e.code}: ${errorText(err)}` // the SDK's HTTP transports keep the status as `code`
        : errorText(err);
  return new McpUnavailableError(label, `${what}: ${reason}${more}`, { cause: err });
}

/** The last characters a stdio server wrote to stderr. */
class StderrTail {
  private buffer = "";
  add(text: string): void {
    this.buffer = (this.buffer + text).slice(-STDERR_TAIL);
  }
  text(): string {
    return this.buffer;
  }
}
