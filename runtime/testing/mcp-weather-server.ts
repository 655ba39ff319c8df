// A small MCP server for tests, built with the official SDK's server classes:
// `weather` answers a forecast (as text and as structured content, with the
// idempotency key the caller put in `_meta`), `explode` fails (an `isError`
// result; or the process exits, or the call hangs until cancelled, when asked to). Served over stdio by
// mcp-weather-stdio.ts, over streamable HTTP by {@link startMcpHttpServer},
// or over the older HTTP+SSE transport only by {@link startMcpSseServer}.

import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** The `_meta` key Troupe sends a call's idempotency key under (mcp-connection.ts). */
const KEY = "troupe/idempotencyKey";

/** An MCP server with the two test tools; `exit` ends the process when `explode` is asked to. */
export function weatherMcpServer(name: string, exit: () => void = () => process.exit(3)): Server {
  const server = new Server({ name, version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: "weather",
        description: `The forecast for a city (from ${name})`,
        inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      {
        name: "explode",
        description: "Always fails",
        inputSchema: { type: "object", properties: { exit: { type: "boolean" }, hang: { type: "boolean" } } },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (req, extra): CallToolResult | Promise<CallToolResult> => {
    const args = (req.params.arguments ?? {}) as { city?: string; exit?: boolean; hang?: boolean };
    if (req.params.name === "weather") {
      const forecast = { city: args.city ?? "?", forecast: "sunny", from: name, key: req.params._meta?.[KEY] ?? null };
      return { content: [{ type: "text", text: JSON.stringify(forecast) }], structuredContent: forecast };
    }
    if (req.params.name === "explode") {
      if (args.exit) exit();
      // Answers only when the caller cancels the call.
      if (args.hang) return new Promise((_, reject) => extra.signal.addEventListener("abort", () => reject(new Error("cancelled")), { once: true }));
      return { content: [{ type: "text", text: "the weather station is on fire" }], isError: true };
    }
    throw new Error(`no tool ${req.params.name}`);
  });
  return server;
}

/** A running streamable-HTTP MCP server on a random loopback port. */
export interface McpHttpServer {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  /** Requests it answered. */
  readonly requests: number;
  /** The `MCP-Protocol-Version` headers clients sent (after initialize, streamable HTTP sends the negotiated revision). */
  readonly protocolVersions: ReadonlySet<string>;
  close(): Promise<void>;
}

/**
 * Listen on a free loopback port with `handle` as the request handler, counting
 * requests; `protocolVersions` is the set the handler fills, if it does.
 */
async function serveMcp(handle: (req: IncomingMessage, res: ServerResponse) => void, protocolVersions = new Set<string>()): Promise<McpHttpServer> {
  let requests = 0;
  const http: HttpServer = createServer((req, res) => {
    requests++;
    handle(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    get requests() {
      return requests;
    },
    protocolVersions,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Serve {@link weatherMcpServer} over streamable HTTP (stateless: a server per request, as the SDK's examples do). */
export function startMcpHttpServer(name = "weather-http"): Promise<McpHttpServer> {
  const protocolVersions = new Set<string>();
  return serveMcp((req, res) => {
    const version = req.headers["mcp-protocol-version"];
    if (typeof version === "string") protocolVersions.add(version);
    if (!req.url?.startsWith("/mcp")) {
      res.writeHead(404).end();
      return;
    }
    const server = weatherMcpServer(name, () => {});
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  }, protocolVersions);
}

/**
 * Serve {@link weatherMcpServer} over the older HTTP+SSE transport only: a
 * POST to `/mcp` (streamable HTTP) is refused with 405, a GET opens the event
 * stream, and messages are POSTed to `/messages?sessionId=...`.
 */
export function startMcpSseServer(name = "weather-sse"): Promise<McpHttpServer> {
  const sessions = new Map<string, SSEServerTransport>();
  return serveMcp((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/mcp" && req.method === "GET") {
      const transport = new SSEServerTransport("/messages", res);
      sessions.set(transport.sessionId, transport);
      res.on("close", () => sessions.delete(transport.sessionId));
      void weatherMcpServer(name, () => {}).connect(transport);
      return;
    }
    const session = url.pathname === "/messages" ? sessions.get(url.searchParams.get("sessionId") ?? "") : undefined;
    if (session && req.method === "POST") {
      void session.handlePostMessage(req, res);
      return;
    }
    res.writeHead(url.pathname === "/mcp" ? 405 : 404).end();
  });
}
