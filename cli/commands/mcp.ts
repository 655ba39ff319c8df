// agentctl mcp: the namespace's exposed agent types as MCP tools, over stdio
// (default) or streamable HTTP (`--http PORT`), with the official MCP SDK.
//
// One tool per exposed type (found through $SRV.INFO, again at every tools/list):
// name = the type, description = its `expose.description`, input schema = its
// message schema (an object schema taking anything when it declares none; a
// schema of something other than an object becomes the `message` property). A
// call asks one agent through the type's micro-service endpoint: the agent key
// is the reserved argument `_key` (declared in every tool's schema), else
// `--key`; the message is the other arguments (or their `message`, for a
// non-object schema). The reply is the
// result (JSON text, and structuredContent when it is an object); a Troupe
// error is a tool error result (isError) naming the error and its message.

import { createServer, type Server as HttpServer } from "node:http";
import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/nats-core";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ErrorCode as McpErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { InvalidArgumentError } from "../../runtime/errors.js";
import { MAX_SERVICE_TIMEOUT_MS } from "../../runtime/interop/agent-services.js";
import { callExposedType, discoverExposedTypes, type ExposedType } from "../exposed-types.js";
import type { Factory } from "../factory.js";
import { packageVersion } from "../package-root.js";
import { untilSignal } from "../signals.js";

const KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** The argument that names the agent a call goes to; taken out of the message. */
const KEY_ARG = "_key";

interface McpOptions {
  http?: string;
  host: string;
  key: string;
  timeout: string;
  discoveryMs: string;
}

/** Register `agentctl mcp [--http PORT]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("mcp")
    .summary("serve the namespace's exposed agents as MCP tools (stdio, or streamable HTTP)")
    .description(
      "serve every exposed agent type of the namespace (defineAgent({ expose })) as an MCP tool: name = the type,\n" +
        "input schema = its message schema. A call asks one agent: its key is the argument `_key`, else --key.\n" +
        "Over stdio by default (nothing but the protocol on stdout; notes on stderr), or streamable HTTP with --http.",
    )
    .option("--http <port>", "serve streamable HTTP on this port (path /mcp) instead of stdio")
    .option("--host <host>", "address to listen on with --http (loopback by default)", "127.0.0.1")
    .option("--key <key>", "the agent key when a call's arguments give no `_key`", "mcp")
    .option("--timeout <ms>", `how long a call waits for the agent's answer (at most ${MAX_SERVICE_TIMEOUT_MS})`, "30000")
    .option("--discovery-ms <ms>", "how long tools/list waits for $SRV.INFO answers to stop coming", "250")
    .addHelpText(
      "after",
      "\nExamples:\n  agentctl mcp -n demo                      # stdio, for an MCP client that starts it\n  agentctl mcp -n demo --http 3333          # http://127.0.0.1:3333/mcp",
    )
    .action(
      f.action(async (opts: McpOptions) => {
        const timeoutMs = positive(opts.timeout, "--timeout");
        if (timeoutMs > MAX_SERVICE_TIMEOUT_MS) throw new InvalidArgumentError("--timeout", `--timeout ${timeoutMs} is over the services' limit of ${MAX_SERVICE_TIMEOUT_MS} ms`);
        const discoveryMs = positive(opts.discoveryMs, "--discovery-ms");
        if (!KEY.test(opts.key)) throw new Error(`--key ${JSON.stringify(opts.key)} is not an agent key (1-128 letters, digits, "_" or "-")`);
        const nc = (await f.client()).connection;
        const tools = new ExposedTools(nc, f.namespace(), { key: opts.key, timeoutMs, discoveryMs });
        if (opts.http === undefined) {
          const server = tools.server();
          const closed = new Promise<void>((resolve) => {
            server.onclose = () => resolve();
            process.stdin.once("end", () => resolve());
          });
          await server.connect(new StdioServerTransport());
          f.out.note(`agentctl mcp: serving the exposed agents of namespace ${f.namespace()} over stdio`);
          await Promise.race([closed, untilSignal()]);
          await server.close().catch(() => {});
          return;
        }
        const port = positive(opts.http, "--http", true);
        const http = await listen(tools, opts.host, port);
        const address = http.address();
        const shown = typeof address === "object" && address ? `${address.address}:${address.port}` : `${opts.host}:${port}`;
        f.out.note(`agentctl mcp: serving the exposed agents of namespace ${f.namespace()} on http://${shown}/mcp; press Ctrl-C to stop`);
        await untilSignal();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      }),
    );
}

function positive(text: string, flag: string, allowZero = false): number {
  const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 || (allowZero && n === 0))) throw new Error(`${flag} must be a whole number${allowZero ? "" : " above 0"}, got ${JSON.stringify(text)}`);
  return n;
}

/** The exposed types as MCP tools: discovery, schemas and calls. */
class ExposedTools {
  private known = new Map<string, ExposedType>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly o: { key: string; timeoutMs: number; discoveryMs: number },
  ) {}

  /** An MCP server answering tools/list and tools/call (one per stdio session or HTTP request). */
  server(): Server {
    const server = new Server({ name: `troupe-${this.namespace}`, version: packageVersion() }, { capabilities: { tools: { listChanged: false } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await this.refresh()).map((t) => this.tool(t)) }));
    server.setRequestHandler(CallToolRequestSchema, async (req) => this.call(req.params.name, req.params.arguments ?? {}));
    return server;
  }

  private async refresh(): Promise<ExposedType[]> {
    const types = await discoverExposedTypes(this.nc, this.namespace, this.o.discoveryMs);
    this.known = new Map(types.map((t) => [t.type, t]));
    return types;
  }

  private tool(t: ExposedType): Tool {
    return {
      name: t.type,
      description: t.description || `Ask the Troupe agent type ${t.type}`,
      inputSchema: toolSchema(t.inputSchema) as Tool["inputSchema"],
    };
  }

  private async call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    let t = this.known.get(name);
    if (t === undefined) {
      await this.refresh();
      t = this.known.get(name);
    }
    if (t === undefined) throw new McpError(McpErrorCode.InvalidParams, `no exposed agent type ${JSON.stringify(name)} in namespace ${this.namespace}`);
    // The agent key is the reserved argument `_key` (declared in every tool's schema), else --key.
    const { [KEY_ARG]: given, ...rest } = args;
    const key = given ?? this.o.key;
    if (typeof key !== "string" || !KEY.test(key)) {
      return errorResult("InvalidArgumentError", `agent key ${JSON.stringify(key)} is not valid: use 1-128 letters, digits, "_" or "-"`);
    }
    const message = wrapsMessage(t.inputSchema) ? rest.message : rest;
    try {
      const outcome = await callExposedType(this.nc, t, key, message, this.o.timeoutMs);
      if (!outcome.ok) return errorResult(outcome.name, outcome.message, outcome.error);
      const result: CallToolResult = { content: [{ type: "text", text: JSON.stringify(outcome.value) ?? "null" }] };
      if (outcome.value !== null && typeof outcome.value === "object" && !Array.isArray(outcome.value)) result.structuredContent = outcome.value as Record<string, unknown>;
      return result;
    } catch (err) {
      return errorResult(err instanceof Error ? err.name : "Error", err instanceof Error ? err.message : String(err));
    }
  }
}

function errorResult(name: string, message: string, error?: Record<string, unknown>): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${name}: ${message}` }], ...(error ? { _meta: { "troupe/error": error } } : {}) };
}

/** Whether a type's schema is of something other than an object (its message is then the `message` argument). */
function wrapsMessage(schema: Record<string, unknown> | undefined): boolean {
  return schema !== undefined && schema.type !== undefined && schema.type !== "object";
}

/** The tool's input schema: the type's object schema, an object of anything, or the type's schema as `message`. */
function toolSchema(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const keyArg = { [KEY_ARG]: { type: "string", description: "which agent of the type answers (its key); default: agentctl mcp's --key" } };
  if (schema === undefined) return { type: "object", properties: keyArg, additionalProperties: true };
  if (!wrapsMessage(schema)) {
    const properties = (schema.properties !== null && typeof schema.properties === "object" ? schema.properties : {}) as Record<string, unknown>;
    return { ...schema, type: "object", properties: { ...properties, ...keyArg } };
  }
  return { type: "object", properties: { message: schema, ...keyArg }, required: ["message"] };
}

/** Streamable HTTP on `host:port`, path /mcp, stateless: a server and transport per request. */
async function listen(tools: ExposedTools, host: string, port: number): Promise<HttpServer> {
  const loopback = host === "127.0.0.1" || host === "localhost" || host === "::1";
  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/mcp" && path !== "/") {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== "POST") {
      // Stateless: no server-sent stream to open, no session to end.
      res.writeHead(405, { "Content-Type": "application/json", Allow: "POST" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }));
      return;
    }
    const actual = http.address();
    const p = typeof actual === "object" && actual ? actual.port : port;
    const server = tools.server();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      // A page in a browser must not reach a loopback server by a name it controls (DNS rebinding).
      ...(loopback ? { enableDnsRebindingProtection: true, allowedHosts: [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`] } : {}),
    });
    res.on("close", () => {
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => resolve());
  });
  return http;
}
