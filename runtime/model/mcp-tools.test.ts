// mcpTools options checked once (each bad field named), the tool message a
// tools/call result becomes, and a toolbox with an MCP set: its tools join
// the agent's own once listed, and a name that clashes is refused clearly.

import { describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { InvalidConfigError, McpToolError, McpUnavailableError } from "../errors.js";
import type { McpHub } from "./mcp-hub.js";
import { mcpResultOf } from "./mcp-result.js";
import { mcpTools, type McpToolSet } from "./mcp-tools.js";
import { checkToolDefinition, tool, type CheckedTool } from "./tool.js";
import { Toolbox } from "./toolbox.js";

describe("mcpTools options", () => {
  it.each([
    [{}, "mcpTools", "needs `command`"],
    [{ command: "x", url: "http://a" }, "mcpTools", "not both"],
    [{ command: "" }, "mcpTools.command", "non-empty"],
    [{ command: "x", args: "a b" }, "mcpTools.args", "array of strings"],
    [{ command: "x", env: { A: 1 } }, "mcpTools.env", "object of strings"],
    [{ command: "x", name: "has space" }, "mcpTools.name", "prefixes the tools' names"],
    [{ command: "x", approval: "yes" }, "mcpTools.approval", "true or false"],
    [{ command: "x", timeoutMs: 0 }, "mcpTools.timeoutMs", "positive"],
    [{ url: "not a url" }, "mcpTools.url", "is not a URL"],
    [{ url: "ftp://host/mcp" }, "mcpTools.url", "http: or https:"],
    [{ url: "http://h/mcp", transport: "websocket" }, "mcpTools.transport", '"streamable-http", "sse" or "auto"'],
  ])("refuses %j, naming %s", (options, field, text) => {
    let err: unknown;
    try {
      mcpTools(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err).toMatchObject({ field });
    expect((err as Error).message).toContain(text);
  });

  it("gives one entry keyed by its name; unnamed sets get keys of their own, so two spread together both stay", () => {
    expect(Object.keys(mcpTools({ name: "fs", command: "srv" }))).toEqual(["fs"]);
    const both = { ...mcpTools({ command: "a" }), ...mcpTools({ command: "b" }) };
    expect(Object.keys(both)).toHaveLength(2);
    const [set] = Object.values(mcpTools({ url: "https://user:secret@example.com/mcp", headers: { Authorization: "Bearer t" } }));
    // The label (in errors and spans) carries no credentials.
    expect(set!.mcp).toMatchObject({ prefix: "mcp", label: "https://example.com/mcp", approval: false });
  });

  it("checks a set written by hand in `tools` like one mcpTools made, naming the entry", () => {
    expect(() => Toolbox.from({ fs: { mcp: { command: 3 } } })).toThrow(/invalid tools\.fs\.mcp\.command/);
    expect(Toolbox.from({ fs: { mcp: { command: "srv" } } }).mcp).toHaveLength(1);
  });
});

describe("an MCP tool's result, for the model", () => {
  it.each([
    ["text blocks, joined", { content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }, "a\nb"],
    ["structured content over the text", { content: [{ type: "text", text: "{}" }], structuredContent: { t: 21 } }, { t: 21 }],
    ["an image, named not inlined", { content: [{ type: "image", data: "AAAA", mimeType: "image/png" }] }, "[image image/png, 3 bytes]"],
    ["an embedded text resource, as its text", { content: [{ type: "resource", resource: { uri: "file:///a", text: "hello" } }] }, "hello"],
    ["a resource link", { content: [{ type: "resource_link", uri: "file:///b", name: "b" }] }, "[resource file:///b]"],
    ["no content", { content: [] }, ""],
  ])("%s", (_what, result, expected) => {
    expect(mcpResultOf("srv", "t", result as never)).toEqual(expected);
  });

  it("throws an isError result as McpToolError with its text", () => {
    expect(() => mcpResultOf("srv", "t", { content: [{ type: "text", text: "disk full" }], isError: true })).toThrow(McpToolError);
    expect(() => mcpResultOf("srv", "t", { content: [{ type: "text", text: "disk full" }], isError: true })).toThrow("disk full");
    expect(() => mcpResultOf("srv", "t", { content: [], isError: true })).toThrow("failed and said nothing more");
  });
});

describe("a toolbox with an MCP set", () => {
  const add = tool({ description: "Add", parameters: { type: "object", properties: {} }, execute: () => 1 });
  const listed = (names: string[]): ReadonlyMap<string, CheckedTool> =>
    new Map(names.map((n) => [n, checkToolDefinition({ description: n, parameters: { type: "object" }, execute: () => n }, n)]));
  const hubOf = (tools: ReadonlyMap<string, CheckedTool>): McpHub => ({ connection: () => ({ tools: async () => tools }) }) as unknown as McpHub;

  it("offers only its own tools until listed, then the servers' too, the same toolbox while the list is the same", async () => {
    const box = Toolbox.from({ add, ...mcpTools({ name: "fs", command: "srv" }) });
    expect(box.specs.map((s) => s.name)).toEqual(["add"]);
    const tools = listed(["fs_read", "fs_write"]);
    const expanded = await box.expand(hubOf(tools));
    expect(expanded.specs.map((s) => s.name)).toEqual(["add", "fs_read", "fs_write"]);
    expect(await box.expand(hubOf(tools))).toBe(expanded);
    const ctx = { idempotencyKey: "a/b/c", toolCallId: "c", agent: {} as never, signal: new AbortController().signal };
    expect(await expanded.run("fs_write", {}, ctx, systemClock)).toMatchObject({ ok: true, result: "fs_write" });
  });

  it("refuses a server tool named like one of the agent's own, saying to name the set", async () => {
    const box = Toolbox.from({ fs_read: add, ...mcpTools({ name: "fs", command: "srv" }) });
    await expect(box.expand(hubOf(listed(["fs_read"])))).rejects.toThrow(McpUnavailableError);
    await expect(box.expand(hubOf(listed(["fs_read"])))).rejects.toThrow(/give mcpTools a `name`/);
  });

  it("is itself, with no MCP set, whatever the hub", async () => {
    const box = Toolbox.from({ add });
    expect(await box.expand(undefined)).toBe(box);
    const set = Object.values(mcpTools({ command: "srv" }))[0] as McpToolSet;
    await expect(Toolbox.from({ x: set }).expand(undefined)).rejects.toThrow(McpUnavailableError);
  });
});
