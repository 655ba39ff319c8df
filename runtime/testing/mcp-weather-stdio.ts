// The test MCP server (mcp-weather-server.ts) over stdio: a model agent's
// mcpTools({ command: process.execPath, args: ["--import", "tsx", <this file>, name, pidFile] })
// runs it. `name` is the server's name (default weather-stdio); when `pidFile`
// is given, its process id is appended there, one line per start.

import { appendFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { weatherMcpServer } from "./mcp-weather-server.js";

const [name = "weather-stdio", pidFile] = process.argv.slice(2);
const server = weatherMcpServer(name);
await server.connect(new StdioServerTransport());
if (pidFile) appendFileSync(pidFile, `${process.pid}\n`);
process.stderr.write("weather MCP server ready\n");
