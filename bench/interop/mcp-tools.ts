// The cost of a model agent's MCP tool call (mcpTools) over calling the MCP
// server with the SDK's own client: N sequential `weather` calls to the test
// MCP server (runtime/testing/mcp-weather-server.ts), over stdio (a child
// process) and over streamable HTTP (in this process), each way timed per
// call: through Troupe's toolbox (argument validation, the timeout on the
// clock, the result turned into the tool message) and through a bare SDK
// Client.callTool on its own connection (the baseline), alternating in
// rounds. A local function tool through the same toolbox is the floor.
// No model and no NATS: the model loop's cost is the same for every tool.
//
// Run on its own: `npx tsx bench/interop/mcp-tools.ts [calls] [rounds]`

import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { systemClock } from "../../runtime/clock.js";
import type { AgentContext } from "../../runtime/define-agent.js";
import { McpHub } from "../../runtime/model/mcp-hub.js";
import { mcpTools, type McpToolsOptions } from "../../runtime/model/mcp-tools.js";
import { tool, type ToolContext } from "../../runtime/model/tool.js";
import { Toolbox } from "../../runtime/model/toolbox.js";
import { startMcpHttpServer } from "../../runtime/testing/mcp-weather-server.js";
import { median, percentiles, type Percentiles } from "../stats.js";

/** One way of calling, per call. */
export interface McpCallFigures {
  callsPerSec: number;
  /** Milliseconds per call. */
  latencyMs: Percentiles;
}

/** What one run measured. */
export interface McpToolsFigures {
  calls: number;
  rounds: number;
  /** The protocol revision the SDK client asks for (the newest it speaks). */
  protocolVersion: string;
  stdio: { troupe: McpCallFigures; sdk: McpCallFigures; ratio: number };
  http: { troupe: McpCallFigures; sdk: McpCallFigures; ratio: number };
  /** A local function tool through the same toolbox. */
  local: McpCallFigures;
}

export interface McpToolsBenchOptions {
  /** Calls per round and way. Default 500. */
  calls?: number;
  /** Rounds (alternating troupe and sdk). Default 3. */
  rounds?: number;
}

type Call = () => Promise<unknown>;

/** Measure MCP tool calls through mcpTools against the bare SDK client, over stdio and HTTP. */
export async function measureMcpTools(options: McpToolsBenchOptions = {}): Promise<McpToolsFigures> {
  const calls = options.calls ?? 500;
  const rounds = options.rounds ?? 3;
  // Built (dist/*.js): the fixture is built too and runs as it is; from source (tsx, vitest): through tsx.
  const compiled = import.meta.url.endsWith(".js");
  const fixture = fileURLToPath(new URL(`../../runtime/testing/mcp-weather-stdio.${compiled ? "js" : "ts"}`, import.meta.url));
  const loader = compiled ? [] : ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href];
  const web = await startMcpHttpServer("bench-http");
  const hub = new McpHub(systemClock);
  const stdioServer = { command: process.execPath, args: [...loader, fixture, "bench-stdio"] };
  const sdkClients: Client[] = [];
  try {
    const viaTroupe = async (o: McpToolsOptions): Promise<Call> => {
      const box = await Toolbox.from({ ...mcpTools(o) }).expand(hub);
      const ctx = toolContext();
      return async () => {
        const out = await box.run("b_weather", { city: "Oslo" }, ctx, systemClock);
        if (!out.ok) throw new Error(out.error);
      };
    };
    const viaSdk = async (transport: Transport): Promise<Call> => {
      const client = new Client({ name: "bench", version: "1" });
      sdkClients.push(client);
      await client.connect(transport);
      return async () => {
        const r = await client.callTool({ name: "weather", arguments: { city: "Oslo" } });
        if (r.isError) throw new Error("weather failed");
      };
    };
    const stdio = {
      troupe: await viaTroupe({ name: "b", ...stdioServer }),
      sdk: await viaSdk(new StdioClientTransport({ ...stdioServer, stderr: "ignore" })),
    };
    const http = {
      troupe: await viaTroupe({ name: "b", url: web.url }),
      sdk: await viaSdk(new StreamableHTTPClientTransport(new URL(web.url))),
    };
    const localBox = Toolbox.from({ b_weather: tool({ description: "local", parameters: { type: "object", properties: { city: { type: "string" } } }, execute: ({ city }: { city: string }) => ({ city, forecast: "sunny" }) }) });
    const localCtx = toolContext();
    const local: Call = async () => {
      await localBox.run("b_weather", { city: "Oslo" }, localCtx, systemClock);
    };
    const { LATEST_PROTOCOL_VERSION } = await import("@modelcontextprotocol/sdk/types.js");
    return {
      calls,
      rounds,
      protocolVersion: LATEST_PROTOCOL_VERSION,
      stdio: await compare(stdio.troupe, stdio.sdk, calls, rounds),
      http: await compare(http.troupe, http.sdk, calls, rounds),
      local: figures((await timeRounds(local, calls, rounds)).flat()),
    };
  } finally {
    await Promise.all(sdkClients.map((c) => c.close().catch(() => {})));
    await hub.close();
    await web.close();
  }
}

/** The calls of each way, alternating round by round after a warm-up; ratio: sdk calls/s over troupe calls/s is inverted to troupe/sdk. */
async function compare(troupe: Call, sdk: Call, calls: number, rounds: number): Promise<{ troupe: McpCallFigures; sdk: McpCallFigures; ratio: number }> {
  await timeRounds(troupe, Math.min(50, calls), 1);
  await timeRounds(sdk, Math.min(50, calls), 1);
  const t: number[][] = [];
  const s: number[][] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const [tr] = await timeRounds(troupe, calls, 1);
    const [sr] = await timeRounds(sdk, calls, 1);
    t.push(tr!);
    s.push(sr!);
    ratios.push(sum(sr!) / sum(tr!));
  }
  return { troupe: figures(t.flat()), sdk: figures(s.flat()), ratio: round(median(ratios)) };
}

async function timeRounds(call: Call, calls: number, rounds: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      const start = performance.now();
      await call();
      samples.push(performance.now() - start);
    }
    out.push(samples);
  }
  return out;
}

function figures(samples: number[]): McpCallFigures {
  const total = sum(samples);
  return { callsPerSec: round((samples.length * 1000) / total), latencyMs: percentiles(samples) };
}

function toolContext(): ToolContext {
  return { idempotencyKey: "bench/b1/r1/call_1", toolCallId: "call_1", agent: {} as AgentContext<unknown>, signal: new AbortController().signal };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const round = (x: number): number => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [calls, rounds] = process.argv.slice(2).map(Number);
  const result = await measureMcpTools({ ...(calls ? { calls } : {}), ...(rounds ? { rounds } : {}) });
  console.log(JSON.stringify(result, null, 2));
}
