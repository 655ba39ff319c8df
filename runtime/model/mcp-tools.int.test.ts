// Model agents with the tools of real MCP servers (built with the official
// SDK's server classes: runtime/testing/mcp-weather-server.ts), against the
// scripted model server and a real NATS server: a tool of a stdio server and
// of a streamable-HTTP server is called and its result answered with; the
// idempotency key reaches the server in `_meta`; a failing MCP tool is a tool
// error the model reads, and so is a call past the set's `timeoutMs`; a server that exits is started again for the next
// request; `approval` holds every call of the server for a person; an MCP
// server whose command does not exist fails the request with
// McpUnavailableError and the node goes on; node.close() ends the stdio servers.

import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Chunk } from "../chunk.js";
import { defineAgent } from "../define-agent.js";
import { ErrorCode, McpUnavailableError } from "../errors.js";
import { startNode, type TroupeNode } from "../node.js";
import { startMcpHttpServer, startMcpSseServer, type McpHttpServer } from "../testing/mcp-weather-server.js";
import { lastUserText, toolResults, type ChatRequest, type ModelStep } from "../testing/model-script.js";
import { startModelServer, type ModelServer } from "../testing/model-server.js";
import { useNatsServer } from "../testing/server.js";
import { waitFor } from "../testing/wait.js";
import type { Journal, ModelReply } from "./journal.js";
import { mcpTools } from "./mcp-tools.js";

const nats = useNatsServer();

const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const fixture = fileURLToPath(new URL("../testing/mcp-weather-stdio.ts", import.meta.url));
const pidFile = join(mkdtempSync(join(tmpdir(), "troupe-mcp-")), "pids");

/** The stdio test server, as mcpTools runs it. */
const stdio = (name: string) => ({ command: process.execPath, args: ["--import", tsx, fixture, name, pidFile] });

/** The scripted model: `<prefix> weather in <city>`, `<prefix> explode`, `<prefix> exit`; with tool results, it quotes them. */
function respond(req: ChatRequest): ModelStep {
  const results = toolResults(req);
  if (results.length > 0) return { text: `tools said: ${results.map((r) => r.content).join(", ")}` };
  const [prefix, ...rest] = (lastUserText(req) ?? "").split(" ");
  const what = rest.join(" ");
  if (what.startsWith("weather in ")) return { toolCalls: [{ name: `${prefix}_weather`, args: { city: what.slice("weather in ".length) } }] };
  if (what === "explode") return { toolCalls: [{ name: `${prefix}_explode`, args: {} }] };
  if (what === "hang") return { toolCalls: [{ name: `${prefix}_explode`, args: { hang: true } }] };
  if (what === "exit") return { toolCalls: [{ name: `${prefix}_explode`, args: { exit: true } }] };
  return { text: `you said: ${what}` };
}

const pids = (): number[] => (existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n").filter(Boolean).map(Number) : []);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("mcpTools", () => {
  let model: ModelServer;
  let web: McpHttpServer;
  let sse: McpHttpServer;
  let node: TroupeNode;

  const agent = (type: string, tools: Record<string, unknown>) =>
    defineAgent({ type, model: { baseURL: model.url, model: "scripted", apiKey: "test", maxRetries: 0 }, tools, keepAliveMs: 200 } as never);

  beforeAll(async () => {
    model = await startModelServer((req) => respond(req));
    web = await startMcpHttpServer("weather-http");
    sse = await startMcpSseServer("weather-sse");
    node = await startNode({
      servers: nats.url,
      namespace: "mcp",
      name: "n1",
      failover: false,
      agents: [
        agent("forecaster", { ...mcpTools({ name: "wx", ...stdio("weather-stdio") }) }),
        agent("webcaster", { ...mcpTools({ name: "web", url: web.url }) }),
        agent("oldcaster", { ...mcpTools({ name: "old", url: sse.url, transport: "auto" }) }),
        agent("stubborn", { ...mcpTools({ name: "old", url: sse.url }) }),
        agent("hasty", { ...mcpTools({ name: "wx", ...stdio("weather-hasty"), timeoutMs: 300 }) }),
        agent("careful", { ...mcpTools({ name: "wx", ...stdio("weather-careful"), approval: true }) }),
        agent("broken", { ...mcpTools({ name: "gone", command: "troupe-no-such-mcp-server", args: ["--stdio"] }) }),
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await node?.close();
    await web?.close();
    await sse?.close();
    await model?.close();
  });

  it("calls a tool of a stdio MCP server and answers with its result; the call's idempotency key reaches the server", async () => {
    const reply = await node.ref("forecaster", "u1").ask<ModelReply>("wx weather in Oslo", { timeoutMs: 30_000 });
    const said = JSON.parse(reply.text.slice("tools said: ".length)) as { city: string; forecast: string; from: string; key: string };
    expect(said).toMatchObject({ city: "Oslo", forecast: "sunny", from: "weather-stdio" });
    expect(said.key).toMatch(/^forecaster\/u1\/.+\/.+$/);
    // The model was offered the server's tools under the prefix, with the server's descriptions and schemas.
    const offered = (model.requests[0]!.tools as Array<{ function: unknown }> | undefined)?.map((t) => t.function) ?? [];
    expect(offered).toEqual([
      { name: "wx_weather", description: "The forecast for a city (from weather-stdio)", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
      { name: "wx_explode", description: "Always fails", parameters: { type: "object", properties: { exit: { type: "boolean" }, hang: { type: "boolean" } } } },
    ]);
  }, 30_000);

  it("calls a tool of a streamable-HTTP MCP server, speaking protocol revision 2025-11-25", async () => {
    const before = web.requests;
    const reply = await node.ref("webcaster", "u1").ask<ModelReply>("web weather in Rome", { timeoutMs: 30_000 });
    expect(JSON.parse(reply.text.slice("tools said: ".length))).toMatchObject({ city: "Rome", forecast: "sunny", from: "weather-http", key: expect.stringMatching(/^webcaster\/u1\//) });
    expect(web.requests).toBeGreaterThan(before);
    expect([...web.protocolVersions]).toEqual(["2025-11-25"]);
  }, 30_000);

  it("falls back to HTTP+SSE with transport: auto when the server refuses streamable HTTP; without it, says the server refused", async () => {
    const reply = await node.ref("oldcaster", "u1").ask<ModelReply>("old weather in Quito", { timeoutMs: 30_000 });
    expect(JSON.parse(reply.text.slice("tools said: ".length))).toMatchObject({ city: "Quito", from: "weather-sse" });
    const err = await node.ref("stubborn", "u1").ask("old weather in Quito", { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpUnavailableError);
    expect((err as Error).message).toMatch(/405/);
  }, 30_000);

  it("tells the model a failing MCP tool's error, as a tool error with its code", async () => {
    const reply = await node.ref("forecaster", "u2").ask<ModelReply>("wx explode", { timeoutMs: 30_000 });
    expect(JSON.parse(reply.text.slice("tools said: ".length))).toEqual({ error: "the weather station is on fire", code: ErrorCode.McpTool });
    const journal = (await node.persistedState("forecaster/u2"))?.value as Journal;
    expect(journal.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  }, 30_000);

  it("gives up a call past the set's timeoutMs, as a tool error the model reads", async () => {
    const reply = await node.ref("hasty", "u1").ask<ModelReply>("wx hang", { timeoutMs: 30_000 });
    expect(JSON.parse(reply.text.slice("tools said: ".length))).toEqual({ error: "tool wx_explode did not finish within 300 ms" });
  }, 30_000);

  it("starts a stdio server again for the next request after it exits mid-call", async () => {
    const started = pids().length;
    const crashed = await node.ref("forecaster", "u3").ask<ModelReply>("wx exit", { timeoutMs: 30_000 });
    expect(crashed.text).toMatch(/"code":"MCP_TOOL_ERROR"/);
    const reply = await node.ref("forecaster", "u3").ask<ModelReply>("wx weather in Bergen", { timeoutMs: 30_000 });
    expect(JSON.parse(reply.text.slice("tools said: ".length))).toMatchObject({ city: "Bergen", forecast: "sunny" });
    expect(pids().length).toBe(started + 1);
  }, 30_000);

  it("holds every call of a server given `approval: true` for a person, then runs it", async () => {
    const ref = node.ref("careful", "u1");
    let approval: Chunk | undefined;
    let reply: ModelReply | undefined;
    const stream = ref.stream<ModelReply>("wx weather in Lima", { inactivityMs: 30_000 });
    for await (const c of stream) {
      if (c.type === "approval") {
        approval = c;
        await ref.approve((c as { id: string }).id);
      }
      if (c.type === "done") reply = (c as { value: ModelReply }).value;
    }
    expect(reply?.text).toContain('"city":"Lima"');
    expect(approval).toMatchObject({ tool: "wx_weather", args: { city: "Lima" } });
    const journal = (await node.persistedState("careful/u1"))?.value as Journal;
    expect(journal.log.map((l) => l.event)).toEqual(["approval_requested", "approved"]);
    const last = journal.messages[journal.messages.length - 1]!;
    expect(last.content).toContain('"from":"weather-careful"');
  }, 30_000);

  it("fails the request with McpUnavailableError naming the command when the server cannot start; the node goes on", async () => {
    const err = await node
      .ref("broken", "u1")
      .ask("gone weather in Paris", { timeoutMs: 30_000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(McpUnavailableError);
    expect(err).toMatchObject({ code: ErrorCode.McpUnavailable, server: "troupe-no-such-mcp-server --stdio" });
    expect((err as Error).message).toContain("troupe-no-such-mcp-server");
    expect((err as Error).message).toContain("not found");
    // The failed request left nothing in the conversation; the node and its other agents go on.
    const journal = (await node.persistedState("broken/u1"))?.value as Journal;
    expect(journal.messages).toEqual([]);
    expect(journal.log.map((l) => l.event)).toEqual(["mcp_unavailable"]);
    const reply = await node.ref("forecaster", "u4").ask<ModelReply>("wx weather in Kyiv", { timeoutMs: 30_000 });
    expect(reply.text).toContain('"city":"Kyiv"');
  }, 30_000);

  it("ends its stdio servers when the node closes", async () => {
    const running = pids().filter(alive);
    expect(running.length).toBeGreaterThanOrEqual(2);
    await node.close();
    await waitFor(() => running.every((pid) => !alive(pid)), "the stdio MCP servers to exit");
  }, 30_000);
});
