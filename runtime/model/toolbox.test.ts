// A model agent's tools: definitions checked once with errors naming the
// field, what the model is told, each refusal of a call the model makes, and
// running a function tool guarded (throws, timeouts, bounded results). Agent
// tools run against a real node in agent-tool.int.test.ts.

import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import type { AgentContext } from "../define-agent.js";
import { InvalidConfigError, ValueTooLargeError } from "../errors.js";
import { tool, toolCallKey, askIdOf, type ToolContext } from "./tool.js";
import { TOOL_TEXT_LIMIT, ToolRefusal, Toolbox } from "./toolbox.js";

const numbers = { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"], additionalProperties: false };

const add = tool({ description: "Add two numbers", parameters: numbers, execute: ({ a, b }: { a: number; b: number }) => a + b });

function context(signal = new AbortController().signal): ToolContext {
  // A function tool is given the agent's ctx; these tools do not touch it.
  const agent = { id: "assistant/u1", type: "assistant", key: "u1" } as unknown as AgentContext;
  return { idempotencyKey: toolCallKey("assistant/u1", "r1", "call_1"), toolCallId: "call_1", agent, signal };
}

function configError(run: () => unknown): InvalidConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return err as InvalidConfigError;
  }
  throw new Error("expected an InvalidConfigError");
}

describe("tool definitions", () => {
  it("tool() checks, copies and freezes a function tool", () => {
    expect(Object.isFrozen(add)).toBe(true);
    expect(add.kind).toBe("function");
    expect(configError(() => tool({ description: "x", parameters: numbers } as never)).field).toBe("tool.execute");
    expect(configError(() => tool({ description: "", parameters: numbers, execute: () => 1 })).field).toBe("tool.description");
    expect(configError(() => tool({ description: "x", parameters: numbers, execute: () => 1, timeoutMs: 0 })).field).toBe("tool.timeoutMs");
    expect(configError(() => tool({ description: "x", parameters: numbers, execute: () => 1, approval: "yes" as never })).field).toBe("tool.approval");
  });

  it("a bad schema is an error naming tools.<name>.parameters", () => {
    const bad = (parameters: unknown) => configError(() => Toolbox.from({ lookup: { agent: "orders", description: "Look up", parameters } }));
    expect(bad(undefined).field).toBe("tools.lookup.parameters");
    expect(bad({ type: "string" }).message).toMatch(/tools\.lookup\.parameters.*type: "object"/);
    expect(bad({ type: "object", properties: { a: { type: "no-such-type" } } }).field).toBe("tools.lookup.parameters");
    expect(bad({ type: "object", properties: { a: { $ref: "#/definitions/missing" } } }).message).toMatch(/not a valid JSON Schema/);
    expect(configError(() => tool({ description: "x", parameters: { type: "array" }, execute: () => 1 })).field).toBe("tool.parameters");
  });

  it("refuses bad names, mixed kinds and bad agent targets, naming the field", () => {
    const f = (tools: unknown) => configError(() => Toolbox.from(tools)).field;
    expect(f({ "has space": add })).toBe("tools.has space");
    expect(f({ ["x".repeat(65)]: add })).toBe(`tools.${"x".repeat(65)}`);
    expect(f([add])).toBe("tools");
    expect(f({ a: null })).toBe("tools.a");
    expect(f({ a: { description: "d", parameters: numbers } })).toBe("tools.a");
    expect(f({ a: { agent: "orders", execute: () => 1, description: "d", parameters: numbers } })).toBe("tools.a");
    expect(f({ a: { agent: "no/slash", description: "d", parameters: numbers } })).toBe("tools.a.agent");
    expect(f({ a: { agent: "orders", key: "a.b", description: "d", parameters: numbers } })).toBe("tools.a.key");
    expect(f({ a: { agent: "orders", description: "d", parameters: numbers, timeoutMs: -5 } })).toBe("tools.a.timeoutMs");
  });

  it("tells the model each tool's name, description and schema, in order", () => {
    const box = Toolbox.from({ add, lookup: { agent: "orders", description: "Look up an order", parameters: { type: "object", properties: { id: { type: "string" } } } } });
    expect(box.size).toBe(2);
    expect(box.specs).toEqual([
      { name: "add", description: "Add two numbers", parameters: numbers },
      { name: "lookup", description: "Look up an order", parameters: { type: "object", properties: { id: { type: "string" } } } },
    ]);
    expect(Toolbox.from(undefined).size).toBe(0);
  });

  it("takes a schema object that converts itself to JSON Schema, and a 2020-12 schema", () => {
    const converted = { toJSONSchema: () => ({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { q: { type: "string" } }, required: ["q"] }) };
    const box = Toolbox.from({ search: tool({ description: "Search", parameters: converted as never, execute: () => [] }) });
    expect(box.specs[0]!.parameters).toMatchObject({ type: "object", required: ["q"] });
    expect(box.check("search", "{}")).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidArgs });
    expect(box.check("search", '{"q":"shoes"}')).toMatchObject({ ok: true });
  });

  it("keeps the schema as given at definition, whatever the caller changes later", () => {
    const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
    const t = tool({ description: "d", parameters: schema, execute: () => 1 });
    const box = Toolbox.from({ t });
    (schema.required as string[]).length = 0;
    expect(box.check("t", "{}")).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidArgs });
    expect(box.specs[0]!.parameters).toEqual({ type: "object", properties: { a: { type: "number" } }, required: ["a"] });
  });
});

describe("checking a call the model made", () => {
  const box = Toolbox.from({ add, refund: tool({ description: "Refund", parameters: { type: "object" }, approval: true, execute: () => "done" }) });

  it("passes a known tool with valid arguments, saying whether it needs approval", () => {
    expect(box.check("add", '{"a": 2, "b": 3}')).toEqual({ ok: true, name: "add", args: { a: 2, b: 3 }, approval: false });
    expect(box.check("refund", "")).toEqual({ ok: true, name: "refund", args: {}, approval: true });
  });

  it("refuses an unknown tool, listing the ones there are", () => {
    const c = box.check("delete_everything", "{}");
    expect(c).toMatchObject({ ok: false, name: "delete_everything", refusal: ToolRefusal.UnknownTool });
    expect(c.ok === false && c.error).toMatch(/no tool named "delete_everything".*add, refund/);
  });

  it("refuses arguments that are not JSON, or not a JSON object", () => {
    expect(box.check("add", "{a: 2")).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidJson, error: expect.stringMatching(/not valid JSON/) });
    expect(box.check("add", "[1, 2]")).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidJson, error: expect.stringMatching(/JSON object/) });
    expect(box.check("add", "null")).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidJson });
  });

  it("refuses arguments that fail the schema, naming each field", () => {
    const c = box.check("add", '{"a": "two", "c": 1}');
    expect(c).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidArgs });
    const error = c.ok ? "" : c.error;
    expect(error).toContain('"b" is required');
    expect(error).toContain('"a" must be number');
    expect(error).toContain('"c" is not a parameter of this tool');
  });

  it("names nested fields by path", () => {
    const nested = Toolbox.from({
      order: tool({
        description: "d",
        parameters: { type: "object", properties: { items: { type: "array", items: { type: "object", properties: { qty: { type: "integer" } }, required: ["sku"] } } } },
        execute: () => 1,
      }),
    });
    const c = nested.check("order", '{"items": [{"sku": "x", "qty": 1}, {"qty": 1.5}]}');
    expect(c.ok ? "" : c.error).toMatch(/"items\[1\]\.sku" is required; "items\[1\]\.qty" must be integer/);
  });

  it("never throws, whatever the model sends", () => {
    expect(box.check(undefined as never, undefined as never)).toMatchObject({ ok: false, refusal: ToolRefusal.UnknownTool });
    expect(box.check("add", undefined as never)).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidArgs });
  });
});

describe("running a function tool", () => {
  const clock = new FakeClock(0);

  it("returns the result, JSON-encoded for the model (strings as they are)", async () => {
    const box = Toolbox.from({ add, greet: tool({ description: "d", parameters: { type: "object" }, execute: () => "hello" }), nothing: tool({ description: "d", parameters: { type: "object" }, execute: () => undefined }) });
    expect(await box.run("add", { a: 2, b: 3 }, context(), clock)).toEqual({ ok: true, result: 5, text: "5" });
    expect(await box.run("greet", {}, context(), clock)).toEqual({ ok: true, result: "hello", text: "hello" });
    expect(await box.run("nothing", {}, context(), clock)).toEqual({ ok: true, result: null, text: "null" });
  });

  it("gives the tool its context: the idempotency key and call id", async () => {
    const seen: string[] = [];
    const box = Toolbox.from({ t: tool({ description: "d", parameters: { type: "object" }, execute: (_a, ctx) => void seen.push(ctx.idempotencyKey, ctx.toolCallId, ctx.agent.id) }) });
    await box.run("t", {}, context(), clock);
    expect(seen).toEqual(["assistant/u1/r1/call_1", "call_1", "assistant/u1"]);
  });

  it("turns a throw into a tool error, keeping a typed error's code", async () => {
    const box = Toolbox.from({
      boom: tool({ description: "d", parameters: { type: "object" }, execute: () => { throw new Error("the shop is closed"); } }),
      big: tool({ description: "d", parameters: { type: "object" }, execute: async () => { throw new ValueTooLargeError("k", 10, 5); } }),
    });
    expect(await box.run("boom", {}, context(), clock)).toEqual({ ok: false, error: "the shop is closed", text: '{"error":"the shop is closed"}' });
    const big = await box.run("big", {}, context(), clock);
    expect(big.ok).toBe(false);
    expect(JSON.parse(big.text)).toEqual({ error: expect.stringMatching(/10 bytes/), code: "VALUE_TOO_LARGE" });
  });

  it("gives up a call past its timeout, aborting its signal", async () => {
    let aborted: unknown;
    const box = Toolbox.from({
      slow: tool({
        description: "d",
        parameters: { type: "object" },
        timeoutMs: 100,
        execute: (_a, ctx) => new Promise(() => ctx.signal.addEventListener("abort", () => (aborted = ctx.signal.reason))),
      }),
    });
    const outcome = box.run("slow", {}, context(), clock);
    await clock.advance(99);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await outcome).toMatchObject({ ok: false, error: "tool slow did not finish within 100 ms" });
    expect(String(aborted)).toMatch(/did not finish within 100 ms/);
    expect(clock.pending).toBe(0);
  });

  it("gives up a call when the agent's signal aborts, and runs none once it has", async () => {
    let runs = 0;
    const box = Toolbox.from({ hang: tool({ description: "d", parameters: { type: "object" }, execute: () => { runs++; return new Promise(() => {}); } }) });
    const agent = new AbortController();
    const outcome = box.run("hang", {}, context(agent.signal), clock);
    await Promise.resolve();
    agent.abort(new Error("agent stopped"));
    expect(await outcome).toMatchObject({ ok: false, error: expect.stringMatching(/given up: agent stopped/) });
    expect(await box.run("hang", {}, context(agent.signal), clock)).toMatchObject({ ok: false, error: expect.stringMatching(/not run: agent stopped/) });
    expect(runs).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it("bounds the text given to the model, with a note, and keeps errors JSON", async () => {
    const huge = "é".repeat(40_000); // 80 000 bytes
    const box = Toolbox.from({
      dump: tool({ description: "d", parameters: { type: "object" }, execute: () => ({ data: huge }) }),
      shout: tool({ description: "d", parameters: { type: "object" }, execute: () => { throw new Error(huge); } }),
    });
    const dump = await box.run("dump", {}, context(), clock);
    expect(dump.ok && dump.result).toEqual({ data: huge });
    expect(Buffer.byteLength(dump.text)).toBeLessThanOrEqual(TOOL_TEXT_LIMIT);
    expect(Buffer.byteLength(dump.text)).toBeGreaterThan(TOOL_TEXT_LIMIT - 200);
    expect(dump.text).toMatch(/^\{"data":"éé/);
    expect(dump.text).toMatch(/\[cut: the result was 80011 bytes; only the first part is shown\]$/);
    expect(dump.text).not.toContain("\uFFFD");
    const shout = await box.run("shout", {}, context(), clock);
    expect(Buffer.byteLength(shout.text)).toBeLessThanOrEqual(TOOL_TEXT_LIMIT);
    expect(JSON.parse(shout.text).error).toMatch(/^éé.*\[cut: the error was \d+ bytes\]$/);
  });

  it("turns a result that is not JSON into a tool error", async () => {
    const box = Toolbox.from({ n: tool({ description: "d", parameters: { type: "object" }, execute: () => 10n }) });
    expect(await box.run("n", {}, context(), clock)).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
  });

  it("refuses to run arguments that do not match the schema, without running the tool", async () => {
    let runs = 0;
    const box = Toolbox.from({ count: tool({ description: "d", parameters: numbers, execute: () => ++runs }) });
    expect(await box.run("count", { a: 1 }, context(), clock)).toMatchObject({ ok: false, refusal: ToolRefusal.InvalidArgs, error: expect.stringMatching(/"b" is required/) });
    expect(runs).toBe(0);
  });

  it("refuses to run an unknown tool", async () => {
    expect(await Toolbox.from({ add }).run("sub", {}, context(), clock)).toMatchObject({ ok: false, refusal: ToolRefusal.UnknownTool });
  });
});

describe("idempotency keys", () => {
  it("are the agent, request and call ids; an ask id is the key, or a digest when the key cannot travel as one", () => {
    const key = toolCallKey("assistant/u1", "r1", "call_1");
    expect(key).toBe("assistant/u1/r1/call_1");
    expect(askIdOf(key)).toBe(key);
    const long = toolCallKey("assistant/u1", "r".repeat(200), "call_1");
    expect(askIdOf(long)).toMatch(/^tool-[0-9a-f]{64}$/);
    expect(askIdOf(long)).toBe(askIdOf(long));
    expect(askIdOf(toolCallKey("assistant/u1", "r1", "call 2"))).toMatch(/^tool-/);
  });
});
