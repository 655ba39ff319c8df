// Agent tools against a real node: a model agent's tool that asks another
// agent asks the right one (its fixed key, a key function, the arguments' key
// or id, else the caller's own key) and gives back the answer; a `can` grant
// that refuses the target is a "denied" refusal; a failed ask is a tool error
// that keeps its code; an ask repeated with the same idempotency key is
// applied once by an agent with a durable mailbox.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { defineAgent, type AgentContext } from "../define-agent.js";
import { ErrorCode } from "../errors.js";
import { startNode, type TroupeNode } from "../node.js";
import { useNatsServer } from "../testing/server.js";
import { tool, toolCallKey } from "./tool.js";
import { ToolRefusal, Toolbox, type ToolOutcome } from "./toolbox.js";

const nats = useNatsServer();

const args = { type: "object", properties: { id: { type: "string" }, key: { type: "string" }, n: { type: "number" }, fail: { type: "boolean" } } };

const toolbox = Toolbox.from({
  lookupOrder: { agent: "orders", description: "Look up an order by id", parameters: args },
  fixed: { agent: "orders", key: "o-fixed", description: "The shop's own order", parameters: args },
  computed: { agent: "orders", key: (a: { n: number }) => `o-${a.n}`, description: "Order number n", parameters: args },
  tally: { agent: "ledger", key: "l1", description: "Count once", parameters: args },
  desk: { agent: "desk", description: "Nobody is at the desk", parameters: args, timeoutMs: 3000 },
  local: tool({ description: "A local function", parameters: args, execute: (_a, ctx) => ctx.agent.id }),
});

/** What a caller is told to run: one tool call. */
interface Call {
  tool: string;
  args: Record<string, unknown>;
  request: string;
  call: string;
}

function runCall(msg: Call, ctx: AgentContext<unknown>): Promise<ToolOutcome> {
  const toolCtx = { idempotencyKey: toolCallKey(ctx.id, msg.request, msg.call), toolCallId: msg.call, agent: ctx, signal: ctx.signal };
  return toolbox.run(msg.tool, msg.args, toolCtx, systemClock);
}

const caller = defineAgent({ type: "caller", persist: false, receive: runCall });
const limited = defineAgent({ type: "limited", persist: false, can: { message: ["orders/o1"] }, receive: runCall });
const orders = defineAgent({
  type: "orders",
  activation: "on-demand",
  persist: false,
  receive(msg: { fail?: boolean }, ctx) {
    if (msg.fail) throw new Error("order system down");
    return { order: ctx.key, asked: msg, by: ctx.sender };
  },
});
const ledger = defineAgent({
  type: "ledger",
  mailbox: "durable",
  state: () => ({ applied: 0 }),
  receive(_msg: unknown, ctx: AgentContext<{ applied: number }>) {
    ctx.state.applied += 1;
    return ctx.state.applied;
  },
});
const desk = defineAgent({ type: "desk", persist: false, receive: () => "here" });

let node: TroupeNode;

beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: "tools", name: "t1", agents: [caller, limited, orders, ledger, desk], failover: false });
  await node.spawn("caller", { key: "u42" });
  await node.spawn("limited", { key: "l1" });
  await node.spawn("ledger", { key: "l1" });
}, 60_000);

afterAll(async () => {
  await node?.close();
});

const call = (tool: string, args: Record<string, unknown>, who = "caller", key = "u42", request = "r1", id = "call_1") =>
  node.ref<Call, ToolOutcome>(who, who === "caller" ? key : "l1").ask({ tool, args, request, call: id }, { timeoutMs: 10_000 });

describe("agent tools", () => {
  it("ask the agent named by the arguments' id or key, else the caller's own key, and return its answer", async () => {
    const byId = await call("lookupOrder", { id: "o7" });
    expect(byId).toMatchObject({ ok: true, result: { order: "o7", asked: { id: "o7" }, by: "caller/u42" } });
    expect(JSON.parse(byId.text)).toEqual({ order: "o7", asked: { id: "o7" }, by: "caller/u42" });
    expect(await call("lookupOrder", { key: "o8", id: "o9" })).toMatchObject({ ok: true, result: { order: "o8" } });
    expect(await call("lookupOrder", {})).toMatchObject({ ok: true, result: { order: "u42" } });
  });

  it("ask the tool's fixed key, or the key its function computes from the arguments", async () => {
    expect(await call("fixed", { id: "o7" })).toMatchObject({ ok: true, result: { order: "o-fixed" } });
    expect(await call("computed", { n: 12 })).toMatchObject({ ok: true, result: { order: "o-12" } });
  });

  it("a local tool sees the calling agent", async () => {
    expect(await call("local", {})).toEqual({ ok: true, result: "caller/u42", text: "caller/u42" });
  });

  it("a target the caller's can grant refuses is a denied refusal, not a throw", async () => {
    expect(await call("lookupOrder", { id: "o1" }, "limited")).toMatchObject({ ok: true, result: { order: "o1" } });
    const refused = await call("lookupOrder", { id: "o2" }, "limited");
    expect(refused).toMatchObject({ ok: false, refusal: ToolRefusal.Denied });
    expect(refused.ok === false && refused.error).toMatch(/permission denied: limited\/l1 may not message orders\/o2/);
    expect(JSON.parse(refused.text)).toMatchObject({ code: ErrorCode.PermissionDenied });
  });

  it("a failed ask is a tool error that keeps its code", async () => {
    const failed = await call("lookupOrder", { id: "o3", fail: true });
    expect(failed).toMatchObject({ ok: false, error: expect.stringMatching(/order system down/) });
    expect("refusal" in failed).toBe(false);
    expect(JSON.parse(failed.text)).toMatchObject({ code: ErrorCode.Remote });
    const missing = await call("desk", { id: "nobody" });
    expect(missing).toMatchObject({ ok: false });
    expect(JSON.parse(missing.text)).toMatchObject({ code: ErrorCode.AgentNotFound, error: expect.stringMatching(/desk\/nobody/) });
  });

  it("the same tool call asked again is applied once by a durable agent; another call is applied anew", async () => {
    const first = await call("tally", {}, "caller", "u42", "r9", "call_a");
    const again = await call("tally", {}, "caller", "u42", "r9", "call_a");
    const other = await call("tally", {}, "caller", "u42", "r9", "call_b");
    expect([first, again, other].map((o) => o.ok && o.result)).toEqual([1, 1, 2]);
  });
});
