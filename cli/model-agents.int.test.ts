// agentctl with model agents, against a real server and the scripted model
// server: a node in this process hosts a model agent whose refund tool needs
// approval; `ps` shows it waiting, `approve` lists, approves and denies from
// separate agentctl processes, and `transcript` prints the conversation with
// its tool calls, approvals and usage.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { defineAgent } from "../runtime/define-agent.js";
import type { Journal, ModelReply } from "../runtime/model/journal.js";
import { startNode, type TroupeNode } from "../runtime/node.js";
import { startModelServer, type ModelServer } from "../runtime/testing/model-server.js";
import { refundTool, respond } from "./fixtures/refund-assistant.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { waitFor } from "../runtime/testing/wait.js";
import { agentctl } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `cli-model-${randomBytes(3).toString("hex")}`;
const ID = "assistant/r1";

/** agentctl against the test server, in this file's namespace. */
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

const { refund, refunds } = refundTool();

describe("agentctl approve and transcript", { timeout: SLOW_MS }, () => {
  let model: ModelServer;
  let node: TroupeNode;

  beforeAll(async () => {
    model = await startModelServer((req) => respond(req));
    node = await startNode({
      servers: nats.url,
      namespace,
      name: "model-node",
      agents: [
        defineAgent({ type: "assistant", model: { baseURL: model.url, model: "scripted", apiKey: "test" }, tools: { refund }, keepAliveMs: 200 }),
        defineAgent({
          type: "counter",
          state: () => ({ count: 0 }),
          receive: (_msg: unknown, ctx) => ++ctx.state.count,
        }),
      ],
    });
  }, SLOW_MS);
  afterAll(async () => {
    await node?.close();
    await model?.close();
  });

  /** Ask `prompt` in the background, and wait until the agent waits for an approval; its id. */
  async function askAndWait(prompt: string): Promise<{ asked: Promise<ModelReply>; approval: string }> {
    const asked = node.ref(ID).ask<ModelReply>({ prompt }, { timeoutMs: 60_000 });
    asked.catch(() => {});
    const approval = await waitFor(async () => ((await node.persistedState(ID))?.value as Journal | undefined)?.request?.approval?.id, `${ID} waits for an approval`, 30_000);
    return { asked, approval };
  }

  let approved = "";
  let denied = "";

  it("ps shows the waiting agent as awaitingApproval; approve ID lists what it waits for; approve ID APPROVAL runs the call", async () => {
    const { asked, approval } = await askAndWait("refund 1250");
    approved = approval;
    const agents = await waitFor(async () => {
      const r = await run("ps", "--json");
      const list = JSON.parse(r.stdout) as AgentInfo[];
      return list.find((a) => a.id === ID)?.state === "awaitingApproval" ? list : undefined;
    }, "ps shows awaitingApproval", 60_000);
    expect(agents.find((a) => a.id === ID)).toMatchObject({ node: "model-node", state: "awaitingApproval" });
    expect((await run("ps")).stdout).toMatch(new RegExp(`^assistant/r1\\s+model-node\\s+awaitingApproval\\s`, "m"));

    const listed = await run("approve", ID);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${ID} waits for approval ${approval}`);
    expect(listed.stdout).toMatch(/^ {2}tool {6}refund$/m);
    expect(listed.stdout).toContain('"cents": 1250');
    expect(listed.stdout).toContain('"order": "o-1"');
    expect(listed.stdout).toMatch(/^ {2}deadline {2}\d{4}-\d\d-\d\dT.*Z \(in /m);
    expect(listed.stdout).toContain(`agentctl approve ${ID} ${approval} --deny REASON`);
    const json = await run("approve", ID, "--json");
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ approval, tool: "refund", args: { order: "o-1", cents: 1250 } })]);

    // Nothing ran yet; an approval it does not wait for is an error that names it, exit 4.
    expect(refunds).toEqual([]);
    const nope = await run("approve", ID, "nope");
    expect(nope.code).toBe(4);
    expect(nope.stderr.trim()).toBe(`error: ${ID} is not waiting for approval nope`);

    const ok = await run("approve", ID, approval);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`approved ${approval} of ${ID}\n`);
    expect((await asked).text).toBe('tools said: {"refunded":1250}');
    expect(refunds).toEqual([{ order: "o-1", cents: 1250 }]);
    expect((await run("approve", ID)).stdout).toBe(`${ID} waits for no approval\n`);
    expect(JSON.parse((await run("approve", ID, "--json")).stdout)).toEqual([]);
  });

  it("approve ID APPROVAL --deny REASON denies it, and the model is told the reason", async () => {
    const { asked, approval } = await askAndWait("refund 99999");
    denied = approval;
    const r = await run("approve", ID, approval, "--deny", "no");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`denied ${approval} of ${ID}: no\n`);
    expect((await asked).text).toContain("a person denied this call: no");
    expect(refunds).toHaveLength(1);
  });

  it("transcript prints the prompts, tool calls, approvals and usage, request by request", async () => {
    const r = await run("transcript", ID);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain(`conversation of ${ID}`);
    expect(out).toMatch(/^request \S+: done, 2 model calls, \d+ input \+ \d+ output tokens$/m);
    expect(out).toContain("  user       refund 1250\n");
    expect(out).toContain('  tool call  refund({"order":"o-1","cents":1250})\n');
    expect(out).toContain(`  event      approval ${approved} requested for refund({"order":"o-1","cents":1250})\n`);
    expect(out).toMatch(new RegExp(`^  event      approval ${approved} approved by \\S+$`, "m"));
    expect(out).toContain('  result     refund: {"refunded":1250}\n');
    expect(out).toMatch(new RegExp(`^  event      approval ${denied} denied by \\S+: no$`, "m"));
    expect(out).toContain("  result     refund: {\"error\":\"a person denied this call: no\"}\n");
    // The approval lines sit between the call and its result.
    const call = out.indexOf('tool call  refund({"order":"o-1","cents":1250})');
    expect(out.indexOf(`approval ${approved} requested`)).toBeGreaterThan(call);
    expect(out.indexOf('result     refund: {"refunded":1250}')).toBeGreaterThan(out.indexOf(`approval ${approved} approved`));
    expect(out).toMatch(/^usage: \d+ tokens, 4 model calls, \S+ wall time over the finished requests$/m);

    const json = await run("transcript", ID, "--json");
    expect(json.code, json.stderr).toBe(0);
    const t = JSON.parse(json.stdout) as { id: string; spent: { tokens: number; modelCalls: number }; waiting: unknown; requests: Array<{ status: string; steps?: number; entries: Array<Record<string, unknown>> }> };
    expect(t).toMatchObject({ id: ID, waiting: null, spent: { modelCalls: 4 } });
    expect(t.spent.tokens).toBeGreaterThan(0);
    expect(t.requests.map((q) => [q.status, q.steps])).toEqual([["done", 2], ["done", 2]]);
    expect(t.requests[0]!.entries.map((e) => (e.kind === "log" ? e.event : e.kind))).toEqual(["user", "tool_call", "approval_requested", "approved", "tool_result", "assistant"]);
    expect(t.requests[0]!.entries[1]).toEqual({ kind: "tool_call", id: expect.any(String), name: "refund", args: { order: "o-1", cents: 1250 } });
    expect(t.requests[1]!.entries.find((e) => e.event === "denied")).toMatchObject({ approval: denied, reason: "no", at: expect.stringMatching(/Z$/) });
  });

  it("says clearly when the state is not a conversation, there is none, or --deny has nothing to deny", async () => {
    await node.spawn("counter", { key: "c1" });
    expect(await node.ref("counter/c1").ask("inc")).toBe(1);
    await waitFor(async () => (await node.persistedState("counter/c1")) !== undefined, "the counter's state is stored");
    const notModel = await run("transcript", "counter/c1");
    expect(notModel.code).toBe(1);
    expect(notModel.stderr.trim()).toBe("error: counter/c1 is not a model agent (its state is not a conversation)");
    expect((await run("approve", "counter/c1")).stderr.trim()).toBe("error: counter/c1 is not a model agent (its state is not a conversation)");
    const none = await run("transcript", "assistant/never");
    expect(none.code).toBe(4);
    expect(none.stderr).toContain("no persisted state for assistant/never");
    const usage = await run("approve", ID, "--deny", "why");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--deny needs the APPROVAL to deny");
    const help = await run("approve", "--help");
    expect(help.stdout).toContain(`agentctl approve assistant/u42 8c1f0e2a9b --deny "not over 100 EUR"`);
  });
});
