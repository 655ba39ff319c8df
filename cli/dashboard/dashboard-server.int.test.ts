// The dashboard's HTTP API without a browser, against a real server and node:
// what a page needs (the page for anyone, the token in the printed URL's
// fragment and the x-troupe-token header, a snapshot, an agent's detail; no
// cookie) and what it refuses: no or a wrong token (403), a Host that names another
// server (421, DNS rebinding), a POST from another origin (403), an unknown
// agent (404), malformed requests (400), and none of it stops the server.
// Without an events stream, a page gets the events the dashboard saw itself.
// An idle namespace sends pages a tick, not the agents again.

import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { nuid } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient, type TroupeEvent } from "../../actors/index.js";
import { Subjects } from "../../runtime/subjects.js";
import { encodeEnvelope, Kind } from "../../runtime/envelope.js";
import { defineAgent } from "../../runtime/define-agent.js";
import { startNode, type TroupeNode } from "../../runtime/node.js";
import { waitFor } from "../../runtime/testing/wait.js";
import { useNatsServer } from "../../runtime/testing/server.js";
import { startDashboard, type Dashboard } from "./dashboard-server.js";

const nats = useNatsServer();
const namespace = `dash-api-${randomBytes(3).toString("hex")}`;

/** A raw HTTP request (fetch would not let a test set Host). */
function call(
  d: Dashboard,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; type: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: d.port, path, method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (s: string) => (body += s));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers["content-type"] ?? ""), headers: res.headers }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("the dashboard's API", () => {
  let node: TroupeNode;
  let client: TroupeClient;
  let dash: Dashboard;
  const auth = () => ({ "x-troupe-token": dash.token });

  beforeAll(async () => {
    node = await startNode({
      servers: nats.url,
      namespace,
      name: "api-node",
      agents: [
        defineAgent({
          type: "counter",
          state: () => ({ count: 0 }),
          receive: async (msg: { op: string }, ctx) => {
            if (msg.op === "note") await ctx.memory.put(`note.${ctx.key}`, { by: ctx.key });
            return ++ctx.state.count;
          },
        }),
      ],
    });
    await node.spawn("counter", { key: "c1" });
    await node.ref("counter/c1").ask({ op: "note" });
    client = await connectClient({ servers: nats.url, namespace });
    dash = await startDashboard({ client });
  });
  afterAll(async () => {
    await dash?.close();
    await client?.close();
    await node?.close();
  });

  it("prints a URL with the token in its fragment; serves the page and its assets to anyone, with no secret and no cookie", async () => {
    expect(dash.url).toBe(`http://127.0.0.1:${dash.port}/#token=${dash.token}`);
    for (const path of ["/", "/index.html", "/dashboard.js", "/dashboard.css"]) {
      const r = await call(dash, path);
      expect(r.status).toBe(200);
      expect(r.body).not.toContain(dash.token);
      expect(r.headers["set-cookie"]).toBeUndefined();
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
    }
    expect((await call(dash, "/")).body).toContain(`namespace ${namespace}`);
    expect((await call(dash, "/dashboard.js")).type).toMatch(/^text\/javascript/);
    expect((await call(dash, "/dashboard.css")).type).toMatch(/^text\/css/);
    expect((await call(dash, "/nothing")).status).toBe(404);
  });

  it("never authorises the API by a cookie, whatever it holds", async () => {
    for (const cookie of [`troupe-dashboard-${dash.port}=${dash.token}`, `token=${dash.token}`, `x-troupe-token=${dash.token}`]) {
      const r = await call(dash, "/api/snapshot", { headers: { cookie } });
      expect(r.status).toBe(403);
      expect(r.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("answers a snapshot and an agent's detail with the token", async () => {
    const snap = await call(dash, "/api/snapshot", { headers: auth() });
    expect(snap.status).toBe(200);
    const s = JSON.parse(snap.body) as { agents: Array<{ id: string }>; trees: Array<{ node: string }> };
    expect(s.agents.map((a) => a.id)).toContain("counter/c1");
    expect(s.trees.map((t) => t.node)).toEqual(["api-node"]);
    const detail = await call(dash, "/api/agents/counter/c1", { headers: auth() });
    expect(detail.status).toBe(200);
    expect(JSON.parse(detail.body)).toMatchObject({
      id: "counter/c1",
      running: { id: "counter/c1", node: "api-node", state: "running" },
      state: { value: { count: 1 } },
      memory: { keys: [{ key: "note.c1", value: { by: "c1" } }], truncated: false },
      conversation: null,
      waiting: null,
    });
  });

  it("refuses an API request without the token or with a wrong one (403)", async () => {
    for (const headers of [{} as Record<string, string>, { "x-troupe-token": "0".repeat(64) }, { "x-troupe-token": dash.token.slice(1) }]) {
      const r = await call(dash, "/api/snapshot", { headers });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error).toMatch(/token/);
    }
    // The token is never taken from the query of an API request (the page sends the header, its event stream too).
    expect((await call(dash, `/api/events?token=wrong`)).status).toBe(403);
    expect((await call(dash, `/api/snapshot?token=${dash.token}`)).status).toBe(403);
    const post = await call(dash, `/api/agents/counter/c1/approvals/a1?token=${dash.token}`, { method: "POST", body: '{"decision":"approve"}' });
    expect(post.status).toBe(403);
  });

  it("refuses a request that names another host (421), even with the token: DNS rebinding", async () => {
    for (const host of [`evil.example:${dash.port}`, "127.0.0.1", `127.0.0.1:${dash.port + 1}`]) {
      const r = await call(dash, "/api/snapshot", { headers: { ...auth(), host } });
      expect(r.status).toBe(421);
    }
    expect((await call(dash, "/", { headers: { host: `evil.example:${dash.port}` } })).status).toBe(421);
    expect((await call(dash, "/api/snapshot", { headers: { ...auth(), host: `localhost:${dash.port}` } })).status).toBe(200);
  });

  it("refuses a POST from another origin (403)", async () => {
    const r = await call(dash, "/api/agents/counter/c1/approvals/a1", {
      method: "POST",
      headers: { ...auth(), origin: "http://evil.example", "content-type": "application/json" },
      body: '{"decision":"approve"}',
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatch(/cross-origin/);
  });

  it("sends a page the agents again only when something changed: an idle page gets ticks", async () => {
    const fast = await startDashboard({ client, feed: { intervalMs: 50 } });
    const frames: Array<{ event: string; data: unknown }> = [];
    let notify = () => {};
    const req = request({ host: "127.0.0.1", port: fast.port, path: "/api/events", headers: { "x-troupe-token": fast.token } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        text += chunk;
        let end;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const m = /^event: (\w+)\ndata: (.*)$/s.exec(text.slice(0, end));
          text = text.slice(end + 2);
          if (m) frames.push({ event: m[1]!, data: JSON.parse(m[2]!) });
        }
        notify();
      });
    });
    req.end();
    /** Wait until `check` holds on the frames read so far. */
    const until = (check: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} in ${frames.map((f) => f.event).join(", ")}`)), 15_000);
        notify = () => {
          if (check()) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      });
    try {
      const kinds = () => frames.map((f) => f.event);
      // Idle: after the first snapshot, only ticks.
      await until(() => kinds().filter((k) => k === "tick").length >= 5, "five ticks");
      const firstTick = kinds().indexOf("tick");
      expect(kinds().slice(firstTick).filter((k) => k !== "tick")).toEqual([]);
      // A message handled changes a counter: the agents are sent again.
      const before = frames.length;
      const first = frames.find((f) => f.event === "snapshot")!.data as { agents: Array<{ id: string; handled: number }> };
      const handled = first.agents.find((a) => a.id === "counter/c1")!.handled + 1;
      await node.ref("counter/c1").ask({ op: "inc" });
      await until(() => frames.slice(before).some((f) => f.event === "snapshot"), "snapshot after the ask");
      const snap = frames.slice(before).find((f) => f.event === "snapshot")!.data as { agents: Array<{ id: string; handled: number }> };
      expect(snap.agents.find((a) => a.id === "counter/c1")?.handled).toBe(handled);
    } finally {
      req.destroy();
      await fast.close();
    }
  });

  it("answers 404 for an unknown agent or approval and 400 for malformed requests, and keeps serving", async () => {
    const unknown = await call(dash, "/api/agents/counter/nobody", { headers: auth() });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatch(/counter\/nobody/);
    const origin = `http://127.0.0.1:${dash.port}`;
    const post = (body: string) => call(dash, "/api/agents/counter/c1/approvals/a1", { method: "POST", headers: { ...auth(), origin }, body });
    expect((await post("not json")).status).toBe(400);
    expect((await post('{"decision":"maybe"}')).status).toBe(400);
    expect((await post(JSON.stringify({ decision: "deny", reason: "x".repeat(3000) }))).status).toBe(400);
    expect((await post("x".repeat(20_000))).status).toBe(413);
    expect((await call(dash, "/api/agents/%E0%A4%A/x", { headers: auth() })).status).toBe(400);
    expect((await call(dash, "/api/agents/counter/c1", { method: "DELETE", headers: auth() })).status).toBe(405);
    expect((await call(dash, "/api/nothing", { headers: auth() })).status).toBe(404);
    expect((await call(dash, "/api/snapshot", { headers: auth() })).status).toBe(200);
  });
});

/** The first frame of recent events on the dashboard's event stream: what a page shows when it opens. */
function firstEvents(d: Dashboard): Promise<TroupeEvent[]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: d.port, path: "/api/events", headers: { "x-troupe-token": d.token } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (s: string) => {
        text += s;
        const m = /event: events\ndata: (.*)\n\n/.exec(text);
        if (m) {
          req.destroy();
          resolve(JSON.parse(m[1]!) as TroupeEvent[]);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the dashboard in a namespace that keeps no events stream", () => {
  const ns = `dash-nohist-${randomBytes(3).toString("hex")}`;
  let node: TroupeNode;
  let client: TroupeClient;
  let dash: Dashboard;

  beforeAll(async () => {
    node = await startNode({
      servers: nats.url,
      namespace: ns,
      name: "nohist-node",
      agents: [defineAgent({ type: "counter", state: () => ({ count: 0 }), receive: (_m: unknown, ctx) => ++ctx.state.count })],
    });
    await node.spawn("counter", { key: "c1" });
    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.delete(new Subjects(ns).eventsStream());
    await nc.close();
    client = await connectClient({ servers: nats.url, namespace: ns });
    dash = await startDashboard({ client });
  });
  afterAll(async () => {
    await dash?.close();
    await client?.close();
    await node?.close();
  });

  it("gives a page the events the dashboard saw since it started", async () => {
    const seen = new Promise<TroupeEvent>((resolve) => {
      const off = client.onEvent((e) => {
        off();
        resolve(e);
      }, { kind: "child_restarted" });
    });
    // The server must know of the listener before the kill, or the restart's event goes by unheard.
    await client.connection.flush();
    await node.kill("counter/c1", "after the dashboard started");
    const restart = await seen;
    const events = await waitFor(async () => {
      const list = await firstEvents(dash);
      return list.some((e) => e.kind === "child_restarted") ? list : undefined;
    }, "the restart in a page's first events");
    expect(events).toContainEqual(restart);
  });
});

/** A page's event stream read raw: every frame, and a wait for one that matches. */
function openStream(d: Dashboard): { frames: Array<{ event: string; data: unknown; bytes: number }>; until(check: () => boolean, what: string): Promise<void>; close(): void } {
  const frames: Array<{ event: string; data: unknown; bytes: number }> = [];
  let notify = () => {};
  const req = request({ host: "127.0.0.1", port: d.port, path: "/api/events", headers: { "x-troupe-token": d.token } }, (res) => {
    let text = "";
    res.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const m = /^event: (\w+)\ndata: (.*)$/s.exec(text.slice(0, end));
        if (m) frames.push({ event: m[1]!, data: JSON.parse(m[2]!), bytes: end });
        text = text.slice(end + 2);
      }
      notify();
    });
  });
  req.on("error", () => {});
  req.end();
  return {
    frames,
    until: (check, what) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} in ${frames.map((f) => f.event).join(", ")}`)), 15_000);
        notify = () => {
          if (check()) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      }),
    close: () => req.destroy(),
  };
}

describe("the dashboard and a hostile publisher of events", () => {
  const ns = `dash-hostile-${randomBytes(3).toString("hex")}`;
  const subjects = new Subjects(ns);
  let node: TroupeNode;
  let client: TroupeClient;
  let dash: Dashboard;
  let nc: Awaited<ReturnType<typeof connect>>;

  beforeAll(async () => {
    node = await startNode({
      servers: nats.url,
      namespace: ns,
      name: "hostile-node",
      agents: [defineAgent({ type: "counter", state: () => ({ count: 0 }), receive: (_m: unknown, ctx) => ++ctx.state.count })],
    });
    await node.spawn("counter", { key: "c1" });
    nc = await connect({ servers: nats.url });
    client = await connectClient({ servers: nats.url, namespace: ns });
    dash = await startDashboard({ client, feed: { intervalMs: 100 } });
  });
  afterAll(async () => {
    await dash?.close();
    await client?.close();
    await node?.close();
    await nc?.close();
  });

  it("skips and counts garbage, a huge field and a non-object body: never kept, never sent; the feed goes on", async () => {
    const page = openStream(dash);
    await page.until(() => page.frames.some((f) => f.event === "events"), "first events");
    const on = subjects.event("agent_error", "counter", "c1");
    const envelope = (body: unknown) => encodeEnvelope(Kind.Event, nuid.next(), "intruder", null, body, 4 * 1024 * 1024);
    const huge = "H".repeat(300_000);
    nc.publish(on, new TextEncoder().encode("not an envelope at all"));
    nc.publish(on, envelope("just text"));
    nc.publish(on, envelope([1, 2, 3]));
    nc.publish(on, envelope({ kind: "agent_error", id: "counter/c1", node: "intruder", at: 1, where: huge }));
    const marker = { kind: "agent_error", id: "counter/c1", node: "intruder", at: 2, where: "marker" };
    nc.publish(on, envelope(marker));
    await nc.flush();
    const events = () => page.frames.filter((f) => f.event === "event").map((f) => f.data as TroupeEvent);
    await page.until(() => events().some((e) => e.where === "marker"), "the marker event");
    // The well-formed event came through; none of the others reached the page.
    expect(events().filter((e) => e.node === "intruder").map((e) => String(e.where).slice(0, 20))).toEqual(["marker"]);
    expect(page.frames.every((f) => f.bytes < 100_000)).toBe(true);
    // The page is told how many were skipped.
    await page.until(() => page.frames.some((f) => f.event === "snapshot" && (f.data as { skippedEvents?: number }).skippedEvents === 4), "a snapshot counting 4 skipped events");
    // The feed goes on: a real restart reaches the page.
    await node.kill("counter/c1", "after the intruder");
    await page.until(() => events().some((e) => e.kind === "child_restarted" && e.id === "counter/c1"), "the restart");
    page.close();
    // A newly opened page's history (read from the events stream) holds none of them either.
    const first = await firstEvents(dash);
    expect(first.filter((e) => e.node === "intruder").map((e) => String(e.where).slice(0, 20))).toEqual(["marker"]);
    expect(JSON.stringify(first)).not.toContain(huge.slice(0, 1000));
  });
});
