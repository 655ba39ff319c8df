// Listing a node whose agents do not fit one message: the node answers `list`
// a page at a time (as many agents as fit its message limit, in id order, after
// a given id), and node.listAll(), the light client and their callers fetch
// every page. A list request with a malformed page gets a typed error.

import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo } from "./agent-host.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { decodeEnvelope, encodeEnvelope, encodeReply, Kind, type Envelope } from "./envelope.js";
import { ErrorCode } from "./errors.js";
import type { ListPage } from "./list-page.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";

const nats = useNatsServer();
const NS = "paging";
const subjects = new Subjects(NS);
/** Small enough that the node's agents take about ten pages. */
const SMALL = 8 * 1024;
const COUNT = 400;

const worker = defineAgent({ type: "worker", persist: false, state: () => ({}), receive: () => "ok" });
const keyOf = (i: number) => `w${String(i).padStart(4, "0")}`;

let big: TroupeNode;
let other: TroupeNode;
let client: TroupeClient;
let raw: NatsConnection;
let seq = 0;

beforeAll(async () => {
  big = await startNode({ servers: nats.url, namespace: NS, name: "big", agents: [worker], maxMessageBytes: SMALL });
  other = await startNode({ servers: nats.url, namespace: NS, name: "other", agents: [] });
  client = await connectClient({ servers: nats.url, namespace: NS });
  raw = await connectTo(nats.url, "paging-raw");
  for (let i = 0; i < COUNT; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => big.spawn("worker", { key: keyOf(i + j) })));
  }
}, 120_000);

afterAll(async () => {
  await raw?.close();
  await client?.close();
  await other?.close();
  await big?.close();
});

/** A control request to the big node, sent raw; the reply envelope and its size. */
async function control(body: unknown): Promise<{ reply: Envelope; bytes: number }> {
  const msg = await raw.request(subjects.nodeInfo("big"), encodeEnvelope(Kind.System, `req-${++seq}`, null, null, body, SMALL), { timeout: 5000 });
  return { reply: decodeEnvelope(msg.data, 1 << 20), bytes: msg.data.length };
}

const expected = Array.from({ length: COUNT }, (_, i) => `worker/${keyOf(i)}`);
const idsOf = (agents: AgentInfo[]) => agents.map((a) => a.id);

describe("a node with more agents than one message holds", () => {
  it("is listed in full by another node's listAll, in id order", async () => {
    const all = await other.listAll();
    expect(all.unreachable).toEqual([]);
    expect(idsOf(all.agents)).toEqual(expected);
  });

  it("is listed in full by the light client, one node or all", async () => {
    expect(idsOf(await client.list("big"))).toEqual(expected);
    const all = await client.listAll();
    expect(all.unreachable).toEqual([]);
    expect(idsOf(all.agents)).toEqual(expected);
  });

  it("answers a list request without `after` (as older callers send it) with a first page that fits the limit", async () => {
    const { reply, bytes } = await control({ op: "list" });
    const page = reply.body as ListPage;
    expect(reply.error).toBeNull();
    expect(bytes).toBeLessThanOrEqual(SMALL);
    expect(page.agents.length).toBeGreaterThan(1);
    expect(page.agents.length).toBeLessThan(COUNT);
    expect(idsOf(page.agents)).toEqual(expected.slice(0, page.agents.length));
    expect(page.next).toBe(page.agents[page.agents.length - 1]!.id);
  });

  it("honours a limit, and a page after an id starts just past it", async () => {
    const first = (await control({ op: "list", limit: 3 })).reply.body as ListPage;
    expect(idsOf(first.agents)).toEqual(expected.slice(0, 3));
    const second = (await control({ op: "list", after: first.next, limit: 3 })).reply.body as ListPage;
    expect(idsOf(second.agents)).toEqual(expected.slice(3, 6));
    const last = (await control({ op: "list", after: expected[COUNT - 2] })).reply.body as ListPage;
    expect(last).toEqual({ agents: [expect.objectContaining({ id: expected[COUNT - 1] })] });
  });

  it("lists each agent that stays exactly once while others stop and start between pages", async () => {
    const first = (await control({ op: "list", limit: 100 })).reply.body as ListPage;
    // One agent already listed and one not yet listed stop; one new agent sorts into the part still to come.
    await big.stop(big.ref("worker", keyOf(10)));
    await big.stop(big.ref("worker", keyOf(150)));
    await big.spawn("worker", { key: `${keyOf(200)}a` });
    const seen = idsOf(first.agents);
    let after = first.next;
    while (after !== undefined) {
      const page = (await control({ op: "list", after, limit: 100 })).reply.body as ListPage;
      seen.push(...idsOf(page.agents));
      after = page.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const stayed = expected.filter((id) => id !== `worker/${keyOf(10)}` && id !== `worker/${keyOf(150)}`);
    for (const id of stayed) expect(seen).toContain(id);
    expect(seen).not.toContain(`worker/${keyOf(150)}`);
    expect([...seen].sort()).toEqual(seen);
    await big.spawn("worker", { key: keyOf(10) });
    await big.spawn("worker", { key: keyOf(150) });
    await big.stop(big.ref("worker", `${keyOf(200)}a`));
  });
});

describe("a malformed list request", () => {
  it.each([
    ["a negative limit", { op: "list", limit: -1 }, "limit"],
    ["a zero limit", { op: "list", limit: 0 }, "limit"],
    ["a huge limit", { op: "list", limit: 1e12 }, "limit"],
    ["a fractional limit", { op: "list", limit: 2.5 }, "limit"],
    ["a limit that is a string", { op: "list", limit: "10" }, "limit"],
    ["an `after` that is a number", { op: "list", after: 42 }, "after"],
    ["an `after` that is an object", { op: "list", after: { $gt: "" } }, "after"],
    ["an `after` that is no agent id", { op: "list", after: "../../etc" }, "agent id"],
  ])("with %s gets an InvalidArgumentError reply", async (_what, body, field) => {
    const { reply } = await control(body);
    expect(reply.error?.code).toBe(ErrorCode.InvalidArgument);
    expect(reply.error?.fields).toMatchObject({ argument: field });
    expect(idsOf(await client.list("big"))).toHaveLength(COUNT);
  });
});

describe("a node that answers list with pages that never end", () => {
  it("is refused with InvalidMessageError after its first such page, not listed forever", async () => {
    // A hostile "node" on its own info subject: empty pages whose `next` keeps moving on.
    let pages = 0;
    const sub = raw.subscribe(subjects.nodeInfo("endless"), {
      callback: (_err, msg) => {
        const ask = decodeEnvelope(msg.data, 1 << 20);
        const page = { agents: [], next: `worker/z${String(++pages).padStart(6, "0")}` };
        msg.respond(encodeReply(ask.id, "node:endless", page, null, 1 << 20));
      },
    });
    await raw.flush();
    try {
      const err = await client.list("endless").then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.InvalidMessage });
      expect((err as Error).message).toContain("not its last agent's");
      expect(pages).toBe(1);
    } finally {
      sub.unsubscribe();
    }
  });
});
