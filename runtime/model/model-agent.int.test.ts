// Model agents against the scripted OpenAI-compatible model server and a real
// NATS server: tool calls, arguments that fail their schema, unknown tools,
// streaming, a long model call kept alive, approval across a restart, budget
// exhaustion of a runaway loop, retry of a 429, a model error that is not
// retried, and a prompt sent again with its id.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useNatsServer } from "../testing/server.js";
import { waitFor } from "../testing/wait.js";
import { startModelServer, type ModelServer } from "../testing/model-server.js";
import { lastUserText, rateLimitError, contextLengthError, toolResults, type ChatRequest, type ModelStep } from "../testing/model-script.js";
import { startNode, type TroupeNode } from "../node.js";
import { connectClient, type TroupeClient } from "../client.js";
import { defineAgent } from "../define-agent.js";
import { tool } from "./tool.js";
import type { Chunk } from "../chunk.js";
import type { TroupeEvent } from "../events.js";
import { ApprovalNotFoundError, BudgetExceededError, ConversationBusyError, InvalidMessageError, TroupeError } from "../errors.js";
import { ModelError } from "./model-error.js";
import { decodeEnvelope, Kind } from "../envelope.js";
import { encodeValue, DEFAULT_MAX_MESSAGE_BYTES } from "../codec.js";
import { Subjects } from "../subjects.js";
import type { Journal, ModelReply } from "./journal.js";

const nats = useNatsServer();
const NS = "models";

/** What the scripted model says, by the conversation it is sent. */
function respond(req: ChatRequest): ModelStep {
  const results = toolResults(req);
  const prompt = lastUserText(req) ?? "";
  if (prompt === "loop") return { toolCalls: [{ name: "add", args: { a: 1, b: 1 } }] }; // a runaway: it never stops calling
  if (prompt === "add then refund" && results.length === 0) {
    return { toolCalls: [{ name: "add", args: { a: 1, b: 2 } }, { name: "refund", args: { order: "o-9", cents: 5 } }] };
  }
  if (prompt.startsWith("same ids")) {
    // A server that reuses its tool call ids: `call_0` on every answer, twice in one.
    const n = req.messages.filter((m) => m.role === "tool").length;
    if (n >= 3) return { text: `ran ${n} calls` };
    return { toolCalls: n === 0 ? [{ name: "add", args: { a: 1, b: 1 }, id: "call_0" }, { name: "add", args: { a: 2, b: 2 }, id: "call_0" }] : [{ name: "add", args: { a: 3, b: 3 }, id: "call_0" }] };
  }
  if (prompt === "huge") return { toolCalls: [{ name: "blob", args: { kb: 30 } }] }; // never stops: the state fills up
  if (prompt.startsWith("big ")) return results.length > 0 ? { text: "noted" } : { toolCalls: [{ name: "blob", args: { kb: Number(prompt.slice(4)) } }] };
  if (results.length > 0) return { text: `tools said: ${results.map((r) => r.content).join(", ")}` };
  if (prompt.startsWith("add ")) {
    const [a, b] = prompt.slice(4).split("+").map(Number);
    return { toolCalls: [{ name: "add", args: { a, b } }] };
  }
  if (prompt === "bad args") return { toolCalls: [{ name: "add", args: { a: "two", b: 3 } }] };
  if (prompt === "not json") return { toolCalls: [{ name: "add", arguments: "{a: 1" }] };
  if (prompt === "unknown tool") return { toolCalls: [{ name: "rm_rf", args: {} }] };
  if (prompt === "refund") return { toolCalls: [{ name: "refund", args: { order: "o-7", cents: 1250 } }] };
  if (prompt === "order o-1") return { toolCalls: [{ name: "lookupOrder", args: { id: "o-1" } }] };
  if (prompt === "secrets") return { toolCalls: [{ name: "readSecret", args: { key: "root" } }] };
  if (prompt === "slow") return { text: "slow answer", delayMs: 2_500 };
  if (prompt === "long stream") return { text: Array.from({ length: 30 }, (_, i) => `w${i} `), chunkDelayMs: 100 };
  if (prompt === "too long") return contextLengthError();
  return { text: `you said: ${prompt}` };
}

let adds = 0;
const refunds: Array<{ args: unknown; key: string }> = [];

const add = tool({
  description: "Add two numbers",
  parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
  execute: ({ a, b }: { a: number; b: number }) => {
    adds++;
    return a + b;
  },
});

const refund = tool({
  description: "Refund an order",
  parameters: { type: "object", properties: { order: { type: "string" }, cents: { type: "integer" } }, required: ["order", "cents"] },
  approval: true,
  execute: (args: { order: string; cents: number }, ctx) => {
    refunds.push({ args, key: ctx.idempotencyKey });
    return { refunded: args.cents };
  },
});

/** The agent the `lookupOrder` tool asks: it answers with the order its key names. */
const orders = defineAgent({ type: "orders", activation: "on-demand", persist: false, receive: (_msg: unknown, ctx) => ({ order: ctx.key, status: "shipped" }) });
const secrets = defineAgent({ type: "secrets", activation: "on-demand", persist: false, receive: () => "the root password" });

describe("model agents", () => {
  let model: ModelServer;
  let node: TroupeNode;
  let raw: NatsConnection;
  let client: TroupeClient;
  const events: TroupeEvent[] = [];

  function assistant(type: string, extra: Record<string, unknown> = {}) {
    return defineAgent({
      type,
      model: { baseURL: model.url, model: "scripted", apiKey: "test", maxRetries: 2 },
      instructions: "You add numbers and refund orders.",
      tools: { add, refund },
      keepAliveMs: 200,
      ...extra,
    } as never);
  }

  beforeAll(async () => {
    model = await startModelServer((req) => respond(req));
    node = await startNode({
      servers: nats.url,
      namespace: NS,
      name: "m1",
      agents: [
        assistant("assistant"),
        assistant("thrifty", { budget: { modelCalls: 3 } }),
        assistant("impatient", { approvalTimeoutMs: 300 }),
        defineAgent({
          type: "clerk",
          model: { baseURL: model.url, model: "scripted", apiKey: "test" },
          tools: {
            lookupOrder: { agent: "orders", description: "Look up an order by id", parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } },
            readSecret: { agent: "secrets", description: "Read a secret", parameters: { type: "object", properties: { key: { type: "string" } }, required: ["key"] } },
          },
          can: { message: ["orders"] },
        }),
        orders,
        secrets,
      ],
    });
    node.onEvent((e) => events.push(e));
    raw = await connect({ servers: nats.url });
    client = await connectClient({ servers: nats.url, namespace: NS });
  });
  afterAll(async () => {
    await node?.close();
    await raw?.close();
    await client?.close();
    await model?.close();
  });

  it("answers a prompt that needs a tool: the model calls it, gets the result, and answers", async () => {
    const before = adds;
    const reply = await node.ref("assistant", "u1").ask<ModelReply>({ prompt: "add 2+3" });
    expect(reply.text).toBe("tools said: 5");
    expect(reply.steps).toBe(2);
    expect(reply.usage.inputTokens).toBeGreaterThan(0);
    expect(reply.usage.outputTokens).toBeGreaterThan(0);
    expect(adds).toBe(before + 1);
    // The conversation is the agent's persisted state: the next prompt sees the earlier turns.
    const state = (await node.persistedState("assistant/u1"))?.value as Journal;
    expect(state.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    await node.ref("assistant", "u1").ask("hello");
    const last = model.requests[model.requests.length - 1]!;
    expect(last.messages[0]).toEqual({ role: "system", content: "You add numbers and refund orders." });
    expect(last.messages.length).toBe(6);
  });

  it("returns arguments that fail the schema, or are not JSON, to the model as tool errors, and publishes the refusal", async () => {
    const before = adds;
    const refusedBefore = node.stats().toolRefusals;
    const bad = await node.ref("assistant", "u2").ask<ModelReply>("bad args");
    expect(bad.text).toContain('\\"a\\" must be number');
    const notJson = await node.ref("assistant", "u3").ask<ModelReply>("not json");
    expect(notJson.text).toContain("error");
    const unknown = await node.ref("assistant", "u4").ask<ModelReply>("unknown tool");
    expect(unknown.text).toContain("rm_rf");
    expect(adds).toBe(before);
    await waitFor(() => events.filter((e) => e.kind === "tool_refused").length >= 3, "three tool_refused events");
    const refusals = events.filter((e) => e.kind === "tool_refused").map((e) => e.refusal);
    expect(refusals).toEqual(expect.arrayContaining(["invalid_args", "invalid_json", "unknown_tool"]));
    expect(node.stats().toolRefusals).toBe(refusedBefore + 3);
  });

  it("asks another agent as a tool, with the key from the arguments; a target outside `can` is refused and the model told", async () => {
    const reply = await node.ref("clerk", "c1").ask<ModelReply>("order o-1");
    expect(reply.text).toBe('tools said: {"order":"o-1","status":"shipped"}');
    const denied = await node.ref("clerk", "c2").ask<ModelReply>("secrets");
    expect(denied.text).toContain("PERMISSION_DENIED");
    expect(denied.text).not.toContain("the root password");
    await waitFor(() => events.some((e) => e.kind === "tool_refused" && e.id === "clerk/c2" && e.refusal === "denied"), "clerk/c2's tool_refused (denied)");
    await waitFor(() => events.some((e) => e.kind === "permission_denied" && e.id === "clerk/c2"), "clerk/c2's permission_denied");
  });

  it("streams text deltas, tool calls and results, then done", async () => {
    const chunks: Chunk[] = [];
    for await (const c of node.ref("assistant", "s1").stream({ prompt: "add 4+5" })) chunks.push(c);
    const kinds = chunks.map((c) => c.type).filter((t) => t !== "status");
    expect(kinds[0]).toBe("tool_call");
    expect(chunks.find((c) => c.type === "tool_call")).toMatchObject({ name: "add", args: { a: 4, b: 5 } });
    expect(chunks.find((c) => c.type === "tool_result")).toMatchObject({ name: "add", result: 9 });
    const text = chunks.filter((c) => c.type === "text").map((c) => (c as { delta: string }).delta).join("");
    expect(text).toBe("tools said: 9");
    expect(chunks[chunks.length - 1]).toMatchObject({ type: "done", text: "tools said: 9", steps: 2 });
  });

  it("keeps an ask alive through a model call longer than its timeout, and a long stream through its inactivity timeout", async () => {
    const reply = await node.ref("assistant", "slow").ask<ModelReply>("slow", { timeoutMs: 1_000 });
    expect(reply.text).toBe("slow answer");
    const deltas: string[] = [];
    for await (const c of node.ref("assistant", "long").stream("long stream", { inactivityMs: 1_000 })) if (c.type === "text") deltas.push((c as { delta: string }).delta);
    expect(deltas.length).toBe(30);
  });

  it("pauses a tool call that needs approval, survives a restart while waiting, and runs it with the arguments shown", async () => {
    const ref = node.ref("assistant", "r1");
    const stream = ref.stream<ModelReply>("refund", { inactivityMs: 5_000 });
    let approval: Chunk | undefined;
    for await (const c of stream) {
      if (c.type === "approval") {
        approval = c;
        break;
      }
    }
    expect(approval).toMatchObject({ tool: "refund", args: { order: "o-7", cents: 1250 } });
    const id = (approval as { id: string }).id;
    await waitFor(async () => (await node.list()).find((a) => a.id === "assistant/r1")?.state === "awaitingApproval", "assistant/r1 awaiting approval");
    // A new prompt cannot join a conversation that waits.
    await expect(ref.ask("hello")).rejects.toBeInstanceOf(ConversationBusyError);
    await expect(ref.approve("no-such-approval")).rejects.toBeInstanceOf(ApprovalNotFoundError);
    // The agent crashes while it waits: its supervisor restarts it, and it waits again, for the same approval.
    await node.kill("assistant/r1", "test crash");
    await waitFor(async () => {
      const a = (await node.list()).find((x) => x.id === "assistant/r1");
      return a?.state === "awaitingApproval" && a.restarts === 1;
    }, "assistant/r1 restarted and waiting again");
    expect(refunds).toEqual([]);
    expect(await ref.approve(id)).toEqual({ approval: id, decision: "approved" });
    await waitFor(() => refunds.length === 1, "the refund to run");
    expect(refunds[0]!.args).toEqual({ order: "o-7", cents: 1250 });
    expect(refunds[0]!.key).toMatch(/^assistant\/r1\//);
    await waitFor(async () => (await node.list()).find((a) => a.id === "assistant/r1")?.state === "running", "assistant/r1 running again");
    await expect(ref.approve(id)).rejects.toBeInstanceOf(ApprovalNotFoundError);
    const journal = (await node.persistedState("assistant/r1"))?.value as Journal;
    expect(journal.log.map((l) => l.event)).toEqual(["approval_requested", "approved"]);
  });

  it("runs a call that needed approval after the other calls of the same answer, once approved", async () => {
    const ref = node.ref("assistant", "r2");
    const before = adds;
    const asked = ref.ask<ModelReply>("add then refund", { timeoutMs: 5_000 });
    let approvalId: string | undefined;
    await waitFor(async () => {
      approvalId = ((await node.persistedState("assistant/r2"))?.value as Journal | undefined)?.request?.approval?.id;
      return approvalId !== undefined;
    }, "assistant/r2 to wait for an approval");
    expect(adds).toBe(before + 1);
    await ref.approve(approvalId!);
    const reply = await asked;
    expect(reply.text).toBe('tools said: 3, {"refunded":5}');
    expect(refunds.at(-1)!.args).toEqual({ order: "o-9", cents: 5 });
  });

  it("a prompt told (not asked) to a conversation that waits is dead-lettered", async () => {
    const ref = node.ref("assistant", "r3");
    const asked = ref.ask<ModelReply>("refund", { timeoutMs: 5_000 });
    let approvalId: string | undefined;
    await waitFor(async () => {
      approvalId = ((await node.persistedState("assistant/r3"))?.value as Journal | undefined)?.request?.approval?.id;
      return approvalId !== undefined;
    }, "assistant/r3 to wait for an approval");
    const dead = await client.deadLetters.list({ agent: "assistant/r3" });
    await ref.tell("hello while you wait");
    await waitFor(async () => (await client.deadLetters.list({ agent: "assistant/r3" })).letters.length > dead.letters.length, "the told prompt in the dead letters");
    const letters = (await client.deadLetters.list({ agent: "assistant/r3" })).letters;
    expect(JSON.stringify(letters.at(-1))).toContain("waits for approval");
    await ref.deny(approvalId!, "no");
    expect((await asked).text).toContain("no");
  });

  it("keeps tool calls apart when the model server reuses their ids", async () => {
    const before = adds;
    const reply = await node.ref("assistant", "ids").ask<ModelReply>("same ids", { timeoutMs: 5_000 });
    expect(reply.text).toBe("ran 3 calls");
    expect(adds).toBe(before + 3);
    const j = (await node.persistedState("assistant/ids"))?.value as Journal;
    const ids = j.messages.flatMap((m) => (m.role === "assistant" ? (m.tool_calls ?? []).map((c) => c.id) : []));
    expect(new Set(ids).size).toBe(3);
  });

  it("sends a plain ask keep-alives only, not the chunks of a stream", async () => {
    const subject = new Subjects(NS).agent("assistant", "plain");
    // Activate it first (an on-demand agent), so the raw ask below finds it listening.
    await node.ref("assistant", "plain").ask("hello");
    const inbox = raw.subscribe("_INBOX.plainask.*");
    raw.publish(subject, encodeValue([1, Kind.Ask, "plain-1", "raw", null, { prompt: "add 2+3" }]), { reply: "_INBOX.plainask.1" });
    const kinds: number[] = [];
    for await (const m of inbox) {
      const env = decodeEnvelope(m.data, DEFAULT_MAX_MESSAGE_BYTES);
      kinds.push(env.kind);
      if (env.kind === Kind.Reply) break;
    }
    // Two tool chunks and a text would go to a stream; a plain ask gets at most one keep-alive in a quarter second.
    expect(kinds.filter((k) => k === Kind.Chunk).length).toBeLessThanOrEqual(1);
    expect(kinds.at(-1)).toBe(Kind.Reply);
  });

  it("denies an approval that times out, tells the model, and publishes approval_timeout", async () => {
    const reply = await node.ref("impatient", "t1").ask<ModelReply>("refund", { timeoutMs: 5_000 });
    expect(reply.text).toContain("a person denied this call");
    await waitFor(() => events.some((e) => e.kind === "approval_timeout" && e.id === "impatient/t1"), "impatient/t1's approval_timeout");
  });

  it("a deny goes to the model as the tool's error", async () => {
    const ref = node.ref("assistant", "d1");
    const asked = ref.ask<ModelReply>("refund", { timeoutMs: 5_000 });
    let approvalId: string | undefined;
    await waitFor(async () => {
      const j = (await node.persistedState("assistant/d1"))?.value as Journal | undefined;
      approvalId = j?.request?.approval?.id;
      return approvalId !== undefined;
    }, "assistant/d1 to wait for an approval");
    expect(await ref.deny(approvalId!, "not this one")).toEqual({ approval: approvalId, decision: "denied" });
    expect((await asked).text).toContain("not this one");
  });

  it("stops a runaway loop at its budget with BudgetExceededError, counted as a failure by its supervisor", async () => {
    const ref = node.ref("thrifty", "b1");
    const calls = model.calls;
    const err = await ref.ask("loop").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err).toMatchObject({ scope: "request", limit: "modelCalls", allowed: 3, spent: 3 });
    expect(model.calls - calls).toBe(3);
    await waitFor(async () => (await node.list()).find((a) => a.id === "thrifty/b1")?.restarts === 1, "thrifty/b1 restarted once");
    await waitFor(() => events.some((e) => e.kind === "budget_exceeded" && e.id === "thrifty/b1"), "thrifty/b1's budget_exceeded");
    // The failed exchange left the conversation; the agent answers the next prompt.
    expect(((await ref.ask("hi")) as ModelReply).text).toBe("you said: hi");
  });

  it("fails a request with a model error that is not retried, typed and naming its class", async () => {
    const err = await node.ref("assistant", "c1").ask("too long").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ kind: "context_length" });
  });

  it("answers a prompt sent again with the same id from the journal, without calling the model", async () => {
    const ref = node.ref("assistant", "i1");
    const first = await ref.ask<ModelReply>("add 1+1", { id: "req-42" });
    const calls = model.calls;
    const again = await ref.ask<ModelReply>("add 1+1", { id: "req-42" });
    expect(again).toEqual(first);
    expect(model.calls).toBe(calls);
  });

  it("refuses what is not a prompt at the door, from the API and from a raw client, and keeps working", async () => {
    const ref = node.ref("assistant", "x1");
    await expect(ref.ask({ nope: 1 })).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(ref.ask("")).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(ref.ask({ approval: "a", decision: "maybe" })).rejects.toBeInstanceOf(InvalidMessageError);
    const subject = new Subjects(NS).agent("assistant", "x1");
    for (const body of [42, null, ["prompt"], { prompt: 7 }, { resume: "" }]) {
      const answer = decodeEnvelope((await raw.request(subject, encodeValue([1, Kind.Ask, "raw", "hostile", null, body]), { timeout: 2000 })).data, DEFAULT_MAX_MESSAGE_BYTES);
      expect(answer.error?.code).toBe("INVALID_MESSAGE");
    }
    expect(((await ref.ask("still fine")) as ModelReply).text).toBe("you said: still fine");
  });

  it("runs with a durable mailbox too: the request is stored, applied once, and answered", async () => {
    const n = await startNode({
      servers: nats.url,
      namespace: `${NS}-durable`,
      name: "md",
      agents: [defineAgent({ type: "keeper", mailbox: "durable", model: { baseURL: model.url, model: "m", apiKey: "k" }, tools: { add } })],
    });
    try {
      const ref = await n.spawn("keeper", { key: "k1" });
      const before = adds;
      const reply = await ref.ask<ModelReply>("add 20+22", { id: "d-1" });
      expect(reply.text).toBe("tools said: 42");
      expect(await ref.ask<ModelReply>("add 20+22", { id: "d-1" })).toEqual(reply);
      expect(adds).toBe(before + 1);
    } finally {
      await n.close();
    }
  });

  it("drops the oldest exchanges when the conversation outgrows the agent's state, and fails a request that alone does not fit", async () => {
    const blob = tool({
      description: "Make a blob",
      parameters: { type: "object", properties: { kb: { type: "integer" } }, required: ["kb"] },
      execute: ({ kb }: { kb: number }) => "b".repeat(kb * 1024),
    });
    const n = await startNode({
      servers: nats.url,
      namespace: `${NS}-big`,
      name: "mb",
      maxMessageBytes: 128 * 1024,
      agents: [defineAgent({ type: "hoarder", model: { baseURL: model.url, model: "m", apiKey: "k" }, tools: { blob: tool({ ...blob, execute: ({ kb }: { kb: number }) => "b".repeat(kb * 1024) }) } })],
    });
    try {
      const ref = n.ref("hoarder", "h1");
      // Each exchange keeps 24 KiB of tool result (within the 32 KiB a result is cut to); eight of them do not fit 128 KiB.
      for (let i = 0; i < 8; i++) expect((await ref.ask<ModelReply>(`big 24`)).text).toBe("noted");
      const j = (await n.persistedState("hoarder/h1"))?.value as Journal;
      const prompts = j.messages.filter((m) => m.role === "user").length;
      expect(prompts).toBeGreaterThan(0);
      expect(prompts).toBeLessThan(8);
      expect(encodeValue(j).length).toBeLessThan(128 * 1024);
      // One request whose own exchange outgrows the state fails, typed; the conversation goes on without it.
      const err = await ref.ask("huge").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect(err).toMatchObject({ kind: "context_length" });
      expect((await ref.ask<ModelReply>("big 1")).text).toBe("noted");
    } finally {
      await n.close();
    }
  });

  it("retries a 429 inside the step and answers", async () => {
    const limited = await startModelServer([rateLimitError(0), { text: "after the limit" }]);
    const n = await startNode({
      servers: nats.url,
      namespace: `${NS}-429`,
      name: "m2",
      agents: [defineAgent({ type: "a", model: { baseURL: limited.url, model: "m", apiKey: "k" } })],
    });
    try {
      expect(((await n.ref("a", "1").ask("hi")) as ModelReply).text).toBe("after the limit");
      expect(limited.calls).toBe(2);
    } finally {
      await n.close();
      await limited.close();
    }
  });

  it("a stream to a model agent whose node is gone fails within its inactivity timeout", async () => {
    const slowModel = await startModelServer(() => ({ text: "never", delayMs: 60_000 }));
    const n = await startNode({
      servers: nats.url,
      namespace: `${NS}-dead`,
      name: "m3",
      agents: [defineAgent({ type: "a", keepAliveMs: 100, model: { baseURL: slowModel.url, model: "m", apiKey: "k" } })],
    });
    const client = await startNode({ servers: nats.url, namespace: `${NS}-dead`, name: "c", agents: [], failover: false });
    try {
      const stream = client.ref("a", "1").stream("hi", { inactivityMs: 800 });
      const first = await stream.next();
      expect(first.value).toMatchObject({ type: "status" });
      await n.close(); // its agents stop; no more keep-alives
      // Its activation is stopped with the call in flight (a typed error), or, had the process died, the inactivity timeout.
      const err = await (async () => {
        for (;;) if ((await stream.next()).done) return undefined;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TroupeError);
    } finally {
      await client.close();
      await n.close().catch(() => {});
      await slowModel.close();
    }
  });
});
