// An MCP client from the official SDK against `agentctl mcp`, over stdio (the
// client starts agentctl) and over streamable HTTP: it lists the namespace's
// exposed agent types as tools (not the unexposed), calls one and gets its
// answer, and gets an error result for a call the agent fails.

import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineAgent, startNode, type TroupeNode } from "../actors/index.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctlCommand, AgentctlProcess, freePort } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const nats = useNatsServer();
const namespace = `mcp-${randomBytes(3).toString("hex")}`;

const greeter = defineAgent({
  type: "greeter",
  persist: false,
  activation: "on-demand",
  expose: { description: "Greets someone by name", inputSchema: { type: "object", properties: { name: { type: "string" }, id: { type: "string" } }, required: ["name"], additionalProperties: false } },
  // The message is exactly what the schema allows: `_key` is taken out before it is sent.
  receive: (msg: { name: string; id?: string }, ctx) => ({ greeting: `hello ${msg.name}`, agent: ctx.id, fields: Object.keys(msg).sort() }),
});
const failing = defineAgent({
  type: "failing",
  persist: false,
  activation: "on-demand",
  expose: true,
  receive: () => {
    throw new Error("cannot do that");
  },
});
const secret = defineAgent({ type: "secret", persist: false, activation: "on-demand", receive: () => "secret" });

let node: TroupeNode;
beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace, agents: [greeter, failing, secret] });
});
afterAll(async () => {
  await node?.close();
});

async function exercise(transport: Transport): Promise<void> {
  const client = new Client({ name: "troupe-mcp-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["failing", "greeter"]);
    const g = tools.find((t) => t.name === "greeter")!;
    expect(g.description).toBe("Greets someone by name");
    expect(g.inputSchema).toMatchObject({ type: "object", properties: { name: { type: "string" }, _key: { type: "string" } }, required: ["name"] });
    expect(tools.find((t) => t.name === "failing")!.inputSchema.type).toBe("object");

    const answer = await client.callTool({ name: "greeter", arguments: { _key: "g1", name: "Ada" } });
    expect(answer.isError ?? false).toBe(false);
    expect(JSON.parse((answer.content as Array<{ text: string }>)[0]!.text)).toEqual({ greeting: "hello Ada", agent: "greeter/g1", fields: ["name"] });
    expect(answer.structuredContent).toEqual({ greeting: "hello Ada", agent: "greeter/g1", fields: ["name"] });
    // Without _key, the command's --key; a message field named id is the message's, not a key.
    const byDefault = await client.callTool({ name: "greeter", arguments: { name: "Bo", id: "not a key!" } });
    expect(byDefault.structuredContent).toEqual({ greeting: "hello Bo", agent: "greeter/from-flag", fields: ["id", "name"] });

    const failed = await client.callTool({ name: "failing", arguments: { _key: "f1" } });
    expect(failed.isError).toBe(true);
    expect((failed.content as Array<{ text: string }>)[0]!.text).toMatch(/^RemoteError: .*cannot do that/);
    const badKey = await client.callTool({ name: "greeter", arguments: { _key: "not a key", name: "x" } });
    expect(badKey.isError).toBe(true);
    await expect(client.callTool({ name: "secret", arguments: {} })).rejects.toThrow(/no exposed agent type "secret"/);
  } finally {
    await client.close();
  }
}

describe("agentctl mcp", { timeout: SLOW_MS }, () => {
  it("over stdio: lists the exposed types, calls one, and gets an error result for a failing call", async () => {
    const cmd = agentctlCommand(["mcp", "--server", nats.url, "--namespace", namespace, "--key", "from-flag"]);
    const transport = new StdioClientTransport({ command: cmd.command, args: cmd.args, env: cmd.env, cwd: cmd.cwd, stderr: "pipe" });
    await exercise(transport);
  });

  it("over streamable HTTP on loopback: the same", async () => {
    const port = await freePort();
    const server = new AgentctlProcess(["mcp", "--http", String(port), "--server", nats.url, "--namespace", namespace, "--key", "from-flag"]);
    try {
      await server.waitFor(/serving the exposed agents/, 60_000, "stderr");
      expect(server.stdout).toBe("");
      await exercise(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      // A page that names the server by another host is refused (DNS rebinding).
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { Host: host, "Content-Type": "application/json", Accept: "application/json, text/event-stream" } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.once("error", reject);
          req.end(body);
        });
      expect(await status("evil.example")).toBe(403);
      expect(await status(`127.0.0.1:${port}`)).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
