// The NATS agent protocol (0.3) from a foreign caller: the caller side is a
// raw NATS connection and the protocol document only (no Troupe code). It
// subscribes to heartbeats, discovers through $SRV.PING.agents and
// $SRV.INFO.agents, prompts at the subject the discovery record names, reads
// the stream (ack first, response chunks, the zero-byte terminator), asks the
// status endpoint, gets the §9 errors, and answers a model agent's approval,
// sent as a mid-stream query.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useNatsServer } from "../testing/server.js";
import { waitFor } from "../testing/wait.js";
import { startModelServer, type ModelServer } from "../testing/model-server.js";
import { lastUserText, toolResults, type ChatRequest, type ModelStep } from "../testing/model-script.js";
import { startNode, type TroupeNode } from "../node.js";
import { defineAgent } from "../define-agent.js";
import { tool } from "../model/tool.js";
import { discover, prompt, responseText, type ServiceInfo } from "../testing/agent-protocol-caller.js";

const read = new TextDecoder();

const nats = useNatsServer();
const NS = "proto";

// ---- the agents ------------------------------------------------------------

function respond(req: ChatRequest): ModelStep {
  const results = toolResults(req);
  const said = lastUserText(req) ?? "";
  if (results.length > 0) return { text: `refund done: ${results.map((r) => r.content).join(", ")}` };
  if (said === "refund") return { toolCalls: [{ name: "refund", args: { order: "o-7", cents: 1250 } }] };
  return { text: `you said: ${said}` };
}

const refunds: unknown[] = [];
const refund = tool({
  description: "Refund an order",
  parameters: { type: "object", properties: { order: { type: "string" }, cents: { type: "integer" } }, required: ["order", "cents"] },
  approval: true,
  execute: (args: { order: string; cents: number }) => {
    refunds.push(args);
    return { refunded: args.cents };
  },
});

const echo = defineAgent({
  type: "echo",
  persist: false,
  expose: { protocol: "nats-agents", description: "Says back what it is told" },
  // A prompt comes from outside: no sender, never the node's.
  receive: (msg: unknown, ctx) => (typeof msg === "string" ? `echo: ${msg}` : { got: msg, sender: ctx.sender }),
});
const failing = defineAgent({
  type: "failing",
  persist: false,
  expose: { protocol: "nats-agents", owner: "ops" },
  receive: () => {
    throw new Error("the printer is on fire");
  },
});
const hidden = defineAgent({ type: "hidden", persist: false, receive: () => "not exposed" });

describe("the NATS agent protocol, from a raw NATS client", () => {
  let model: ModelServer;
  let node: TroupeNode;
  let nc: NatsConnection;
  const beats: Array<{ subject: string; payload: Record<string, unknown> }> = [];

  beforeAll(async () => {
    model = await startModelServer((req) => respond(req));
    nc = await connect({ servers: nats.url });
    // §8.5: subscribe to heartbeats before discovering.
    nc.subscribe("agents.hb.*.*.*", {
      callback: (_e, m) => {
        beats.push({ subject: m.subject, payload: JSON.parse(read.decode(m.data)) as Record<string, unknown> });
      },
    });
    await nc.flush();
    const assistant = defineAgent({
      type: "assistant",
      model: { baseURL: model.url, model: "scripted", apiKey: "test" },
      tools: { refund },
      expose: { protocol: "nats-agents", description: "Refunds orders, with a person's approval" },
    } as never);
    node = await startNode({ servers: nats.url, namespace: NS, name: "p1", agents: [echo, failing, hidden, assistant] });
    await node.spawn("echo", { key: "e1" });
    await node.spawn("failing", { key: "f1" });
    await node.spawn("hidden", { key: "h1" });
  });

  afterAll(async () => {
    await nc?.close();
    await node?.close();
    await model?.close();
  });

  it("lists every exposed agent on $SRV.PING.agents and $SRV.INFO.agents, with the metadata and endpoints 0.3 requires", async () => {
    const pings = await discover<{ type: string; name: string; id: string; metadata: Record<string, string> }>(nc, "$SRV.PING.agents", 3);
    expect(pings.map((p) => `${p.metadata.agent}/${p.metadata.session}`).sort()).toEqual(["assistant/default", "echo/e1", "failing/f1"]);
    expect(pings.every((p) => p.type === "io.nats.micro.v1.ping_response" && p.name === "agents")).toBe(true);

    const infos = await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3);
    const e1 = infos.find((i) => i.metadata.agent === "echo")!;
    expect(e1.description).toBe("Says back what it is told");
    expect(e1.metadata).toMatchObject({ agent: "echo", owner: NS, session: "e1", protocol_version: "0.3" });
    const promptEp = e1.endpoints.find((e) => e.name === "prompt")!;
    expect(promptEp).toMatchObject({ subject: `agents.prompt.echo.${NS}.e1`, queue_group: "agents", metadata: { max_payload: expect.stringMatching(/^\d+(B|KB|MB)$/), attachments_ok: "false" } });
    expect(e1.endpoints.find((e) => e.name === "status")).toMatchObject({ subject: `agents.status.echo.${NS}.e1`, queue_group: "agents" });
    expect(infos.find((i) => i.metadata.agent === "failing")!.metadata.owner).toBe("ops");

    // Direct lookup by instance id.
    const [direct] = await discover<ServiceInfo>(nc, `$SRV.INFO.agents.${e1.id}`, 1);
    expect(direct!.id).toBe(e1.id);
    // The unexposed type is no agent-protocol service.
    expect(infos.some((i) => i.metadata.agent === "hidden")).toBe(false);
  });

  it("answers a plain-text prompt: ack first, the answer as a response chunk, then the empty terminator", async () => {
    const [info] = (await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3)).filter((i) => i.metadata.agent === "echo");
    const subject = info!.endpoints.find((e) => e.name === "prompt")!.subject;
    const stream = await prompt(nc, subject, "hello there");
    expect(stream[0]!.chunk).toEqual({ type: "status", data: "ack" });
    expect(stream[0]!.body).toBe('{"type":"status","data":"ack"}');
    expect(responseText(stream)).toBe("echo: hello there");
    const last = stream.at(-1)!;
    expect(last.body).toBe("");
    expect(last.headers).toBeUndefined();

    // The JSON envelope: its `data` is the message a non-model agent gets; unknown fields are fine.
    const json = await prompt(nc, subject, JSON.stringify({ prompt: "ignored", data: { op: "inc" }, extra: 1 }));
    const res = json.find((r) => r.chunk?.type === "response")!.chunk!.data as { text: string; value: unknown };
    expect(res.value).toEqual({ got: { op: "inc" }, sender: null });
    expect(JSON.parse(res.text)).toEqual({ got: { op: "inc" }, sender: null });

    // $SRV.STATS counts the two prompts.
    const [stats] = await discover<{ endpoints: Array<{ name: string; num_requests: number }> }>(nc, `$SRV.STATS.agents.${info!.id}`, 1);
    expect(stats!.endpoints.find((e) => e.name === "prompt")!.num_requests).toBe(2);
  });

  it("answers the status endpoint and beats, both with the heartbeat payload of §8.3", async () => {
    const [info] = (await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3)).filter((i) => i.metadata.agent === "echo");
    const status = JSON.parse(read.decode((await nc.request(info!.endpoints.find((e) => e.name === "status")!.subject, "")).data));
    expect(status).toMatchObject({ agent: "echo", owner: NS, session: "e1", instance_id: info!.id, interval_s: 30 });
    expect(new Date(status.ts).toISOString()).toBe(status.ts);
    const beat = await waitFor(() => beats.find((b) => b.subject === `agents.hb.echo.${NS}.e1`), "a heartbeat from echo/e1");
    expect(beat.payload).toMatchObject({ agent: "echo", owner: NS, instance_id: info!.id, interval_s: 30 });
  });

  it("answers a bad request with status 400 and the terminator, and a failing agent with 500 after the ack", async () => {
    for (const bad of ['{"nope": 1}', "{not json", "", '{"prompt":"x","attachments":[{"filename":"a","content":"AA=="}]}']) {
      const stream = await prompt(nc, `agents.prompt.echo.${NS}.e1`, bad);
      expect(stream).toHaveLength(2);
      expect(stream[0]!.headers?.get("Nats-Service-Error-Code")).toBe("400");
      expect(stream[0]!.headers?.get("Nats-Service-Error")).not.toBe("");
      expect(JSON.parse(stream[0]!.body).error).toMatch(/^[a-z_]+$/);
      expect(stream[1]!.body).toBe("");
      expect(stream[1]!.headers).toBeUndefined();
    }
    // Oversize: larger than the advertised max_payload.
    const [info] = (await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3)).filter((i) => i.metadata.agent === "echo");
    const max = info!.endpoints[0]!.metadata!.max_payload!;
    const bytes = Number(max.replace(/\D+$/, "")) * (max.endsWith("MB") ? 1024 * 1024 : max.endsWith("KB") ? 1024 : 1);
    if (bytes < (nc.info?.max_payload ?? 0)) {
      const big = await prompt(nc, `agents.prompt.echo.${NS}.e1`, new Uint8Array(bytes + 1).fill(0x61));
      expect(big[0]!.headers?.get("Nats-Service-Error-Code")).toBe("400");
    }

    const failed = await prompt(nc, `agents.prompt.failing.ops.f1`, "print");
    expect(failed[0]!.chunk).toEqual({ type: "status", data: "ack" });
    const err = failed.find((r) => r.headers !== undefined)!;
    expect(err.headers!.get("Nats-Service-Error-Code")).toBe("500");
    expect(err.headers!.get("Nats-Service-Error")).toContain("the printer is on fire");
    expect(failed.at(-1)!.body).toBe("");
    expect(failed.at(-1)!.headers).toBeUndefined();
    // The node is still serving.
    expect(responseText(await prompt(nc, `agents.prompt.echo.${NS}.e1`, "still there?"))).toBe("echo: still there?");
  });

  it("turns a model agent's approval into a query; a yes runs the tool and the stream ends with the model's answer", async () => {
    const [info] = (await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3)).filter((i) => i.metadata.agent === "assistant");
    const subject = info!.endpoints.find((e) => e.name === "prompt")!.subject;
    expect(subject).toBe(`agents.prompt.assistant.${NS}.default`);
    const queries: Array<Record<string, unknown>> = [];
    const stream = await prompt(nc, subject, JSON.stringify({ prompt: "refund" }), (q) => {
      queries.push(q);
      return "yes";
    });
    expect(stream[0]!.chunk).toEqual({ type: "status", data: "ack" });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({ id: expect.any(String), reply_subject: expect.stringMatching(new RegExp(`^troupe\\.${NS}\\.query\\.assistant\\.`)), prompt: expect.stringContaining("refund") });
    expect(refunds).toEqual([{ order: "o-7", cents: 1250 }]);
    expect(responseText(stream)).toBe('refund done: {"refunded":1250}');
    expect(stream.at(-1)!.body).toBe("");
    expect(stream.at(-1)!.headers).toBeUndefined();

    // Another key of the on-demand type, by its subject; a "no" denies and the model is told.
    const denied = await prompt(nc, `agents.prompt.assistant.${NS}.k2`, "refund", () => "no, not today");
    expect(refunds).toHaveLength(1);
    expect(responseText(denied)).toContain("refund done:");
    expect(responseText(denied)).toContain("denied");
  });

  it("drops a stopped agent from discovery", async () => {
    await node.stop("failing/f1");
    const infos = await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3);
    expect(infos.map((i) => i.metadata.agent).sort()).toEqual(["assistant", "echo"]);
  });
});
