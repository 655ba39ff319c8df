// The foreign-client test: an agent called through NATS micro-service
// discovery and the documented wire contract with only a raw NATS connection
// (no Troupe code on the caller's side; Troupe only starts the server and the
// node). What a Go, Python or C client does with its NATS library.

import { decode as unpack, encode as pack } from "@msgpack/msgpack";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineAgent } from "../define-agent.js";
import { startNode, type TroupeNode } from "../node.js";
import { useNatsServer } from "../testing/server.js";

const nats = useNatsServer();
const NS = "svcns";
const te = new TextEncoder();
const td = new TextDecoder();

const echo = defineAgent({
  type: "echo",
  persist: false,
  activation: "on-demand",
  expose: { description: "Echoes what it is sent", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
  state: () => ({ told: [] as unknown[] }),
  receive(msg: unknown, ctx) {
    const m = msg as { told?: unknown; slow?: boolean; told_list?: boolean };
    if (m && typeof m === "object" && "told" in m) {
      ctx.state.told.push(m.told);
      return undefined;
    }
    if (m && typeof m === "object" && m.told_list) return ctx.state.told;
    if (m && typeof m === "object" && m.slow) return new Promise(() => {});
    return { echo: msg, key: ctx.id.split("/")[1] };
  },
});

const failing = defineAgent({
  type: "failing",
  persist: false,
  activation: "on-demand",
  receive() {
    throw new Error("boom");
  },
});

/** Spawned only: a key nobody spawned is not found. */
const spawned = defineAgent({ type: "spawned", persist: false, receive: () => "here" });

const hidden = defineAgent({ type: "hidden", persist: false, activation: "on-demand", service: false, receive: () => "hidden" });

let node: TroupeNode;
let nc: NatsConnection;
beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, agents: [echo, failing, spawned, hidden], maxMessageBytes: 64 * 1024 });
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await node?.close();
});

const json = (m: Msg): any => JSON.parse(td.decode(m.data));

async function info(name: string): Promise<any> {
  return json(await nc.request(`$SRV.INFO.${name}`, undefined, { timeout: 2000 }));
}

/** The ask endpoint's subject for one key, from $SRV.INFO (as a foreign client finds it). */
async function askSubject(type: string, key: string): Promise<string> {
  const doc = await info(`troupe-${NS}-${type}`);
  const ask = doc.endpoints.find((e: any) => e.name === "ask");
  return (ask.subject as string).replace(/\*$/, key);
}

async function stats(type: string): Promise<any> {
  const doc = json(await nc.request(`$SRV.STATS.troupe-${NS}-${type}`, undefined, { timeout: 2000 }));
  return Object.fromEntries(doc.endpoints.map((e: any) => [e.name, e]));
}

describe("discovery", () => {
  it("$SRV.PING lists every hosted type that is a service, and not the one that opted out", async () => {
    const names: string[] = [];
    for await (const m of await nc.requestMany("$SRV.PING", undefined, { strategy: "stall", stall: 300, maxWait: 3000 })) {
      const doc = json(m);
      expect(doc.type).toBe("io.nats.micro.v1.ping_response");
      names.push(doc.name);
    }
    expect(names).toEqual(expect.arrayContaining([`troupe-${NS}-echo`, `troupe-${NS}-failing`, `troupe-${NS}-spawned`]));
    expect(names).not.toContain(`troupe-${NS}-hidden`);
    await expect(nc.request(`$SRV.PING.troupe-${NS}-hidden`, undefined, { timeout: 1000 })).rejects.toThrow(/no responders|503/i);
  });

  it("$SRV.INFO gives the ask endpoint, its schema and content types, and the service's metadata", async () => {
    const doc = await info(`troupe-${NS}-echo`);
    expect(doc.type).toBe("io.nats.micro.v1.info_response");
    expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.description).toBe("Echoes what it is sent");
    expect(doc.metadata).toEqual({ "troupe.namespace": NS, "troupe.type": "echo", "troupe.exposed": "true", "troupe.node": node.id });
    const ask = doc.endpoints.find((e: any) => e.name === "ask");
    expect(ask.subject).toBe(`troupe.${NS}.svc.echo.*`);
    expect(ask.queue_group).toBeTruthy();
    expect(JSON.parse(ask.metadata["troupe.input_schema"])).toEqual({ type: "object", properties: { text: { type: "string" } } });
    expect(ask.metadata["troupe.content_types"]).toBe("application/json,application/msgpack");
    // By id, too; an unexposed type says so.
    expect((await info(`troupe-${NS}-echo.${doc.id}`)).id).toBe(doc.id);
    expect((await info(`troupe-${NS}-failing`)).metadata["troupe.exposed"]).toBe("false");
  });
});

describe("requests", () => {
  it("a JSON request is answered in JSON (the agent activated on demand)", async () => {
    const m = await nc.request(await askSubject("echo", "e1"), te.encode(JSON.stringify({ text: "hi" })), { timeout: 3000 });
    expect(m.headers?.get("Nats-Service-Error-Code") ?? "").toBe("");
    expect(m.headers?.get("Content-Type")).toBe("application/json");
    expect(json(m)).toEqual({ echo: { text: "hi" }, key: "e1" });
  });

  it("a MessagePack request is answered in MessagePack", async () => {
    const h = headers();
    h.set("Content-Type", "application/msgpack");
    const m = await nc.request(await askSubject("echo", "e2"), pack({ text: "packed", n: [1, 2] }), { timeout: 3000, headers: h });
    expect(m.headers?.get("Content-Type")).toBe("application/msgpack");
    expect(unpack(m.data)).toEqual({ echo: { text: "packed", n: [1, 2] }, key: "e2" });
  });

  it("a tell gets an empty acknowledgement, and the agent has it", async () => {
    const subject = `troupe.${NS}.svc-tell.echo.e3`;
    const ack = await nc.request(subject, te.encode(JSON.stringify({ told: "x" })), { timeout: 3000 });
    expect(ack.data.length).toBe(0);
    expect(ack.headers?.get("Nats-Service-Error-Code") ?? "").toBe("");
    const m = await nc.request(await askSubject("echo", "e3"), te.encode(JSON.stringify({ told_list: true })), { timeout: 3000 });
    expect(json(m)).toEqual(["x"]);
  });
});

describe("errors carry the two headers and the wire error", () => {
  async function error(subject: string, body: Uint8Array, h?: ReturnType<typeof headers>): Promise<{ code: string; text: string; body: any }> {
    const m = await nc.request(subject, body, { timeout: 3000, headers: h });
    return { code: m.headers?.get("Nats-Service-Error-Code") ?? "", text: m.headers?.get("Nats-Service-Error") ?? "", body: json(m) };
  }

  it("an agent that fails: 500 with its error", async () => {
    const e = await error(await askSubject("failing", "f1"), te.encode("{}"));
    expect(e.code).toBe("500");
    expect(e.text).toMatch(/boom/);
    expect(e.body).toMatchObject({ name: "RemoteError", code: "REMOTE_ERROR", remoteMessage: "boom" });
  });

  it("no such agent: 404", async () => {
    const e = await error(await askSubject("spawned", "nobody"), te.encode("{}"));
    expect(e.code).toBe("404");
    expect(e.body.code).toBe("AGENT_NOT_FOUND");
  });

  it("bad JSON, a bad key token, a bad timeout header, an unknown content type: 400", async () => {
    expect((await error(await askSubject("echo", "e1"), te.encode("{not json"))).code).toBe("400");
    expect((await error(await askSubject("echo", "e1"), new Uint8Array([0xff, 0xfe]))).body.code).toBe("INVALID_MESSAGE");
    expect((await error(`troupe.${NS}.svc.echo.${"k".repeat(200)}`, te.encode("{}"))).code).toBe("400");
    const t = headers();
    t.set("Troupe-Timeout-Ms", "soon");
    expect((await error(await askSubject("echo", "e1"), te.encode("{}"), t)).code).toBe("400");
    const c = headers();
    c.set("Content-Type", "text/xml");
    expect((await error(await askSubject("echo", "e1"), te.encode("<a/>"), c)).code).toBe("400");
  });

  it("a body over the node's message limit: 413", async () => {
    const e = await error(await askSubject("echo", "e1"), te.encode(JSON.stringify({ text: "x".repeat(70 * 1024) })));
    expect(e.code).toBe("413");
  });

  it("an ask that gets no answer within Troupe-Timeout-Ms: 408", async () => {
    const h = headers();
    h.set("Troupe-Timeout-Ms", "100");
    const e = await error(await askSubject("echo", "slow1"), te.encode(JSON.stringify({ slow: true })), h);
    expect(e.code).toBe("408");
    expect(e.body).toMatchObject({ code: "ASK_TIMEOUT", timeoutMs: 100 });
  });
});

describe("hostile requests and stats", () => {
  it("$SRV.STATS counts requests, errors and processing time; a request with no reply subject is a counted drop", async () => {
    const subject = await askSubject("echo", "s1");
    const before = (await stats("echo")).ask;
    nc.publish(subject, te.encode("{}")); // no reply subject
    nc.publish(subject, te.encode("{}"), { reply: "not.an.inbox" }); // a reply subject that is not an inbox
    for (let i = 0; i < 3; i++) await nc.request(subject, te.encode(JSON.stringify({ i })), { timeout: 3000 });
    await nc.request(subject, te.encode("{bad"), { timeout: 3000 });
    const after = (await stats("echo")).ask;
    expect(after.num_requests - before.num_requests).toBe(6);
    expect(after.num_errors - before.num_errors).toBe(3);
    expect(after.last_error).toMatch(/^400:/);
    expect(after.processing_time).toBeGreaterThanOrEqual(after.average_processing_time);
    expect(after.subject).toBe(`troupe.${NS}.svc.echo.*`);
    // Still answering.
    expect(json(await nc.request(subject, te.encode('"still"'), { timeout: 3000 })).echo).toBe("still");
  });
});

describe("visibility", () => {
  it("a type is in $SRV.INFO as soon as startNode resolves, and gone as soon as close does", async () => {
    const late = defineAgent({ type: "late", persist: false, activation: "on-demand", receive: () => "late" });
    const other = await startNode({ servers: nats.url, namespace: NS, agents: [late] });
    try {
      expect((await info(`troupe-${NS}-late`)).metadata["troupe.node"]).toBe(other.id);
    } finally {
      await other.close();
    }
    await expect(nc.request(`$SRV.INFO.troupe-${NS}-late`, undefined, { timeout: 1000 })).rejects.toThrow(/no responders|503/i);
  });
});
