// agentctl dashboard as a user runs it: it prints the page's URL with its
// token in the fragment (#token=..., never sent to a server), the page is
// served to anyone, and its API answers only with the token in the
// x-troupe-token header (no cookie); Ctrl-C ends it with exit 0; a bad
// port is a usage error and a namespace where nothing runs is "not found".
// A page gets the namespace's recent history, from before the dashboard started.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeEvent } from "../actors/index.js";
import { defineAgent } from "../runtime/define-agent.js";
import { startNode, type TroupeNode } from "../runtime/node.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { waitFor } from "../runtime/testing/wait.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const nats = useNatsServer();
const namespace = `cli-dash-${randomBytes(3).toString("hex")}`;

describe("agentctl dashboard", { timeout: SLOW_MS }, () => {
  let node: TroupeNode;

  beforeAll(async () => {
    node = await startNode({
      servers: nats.url,
      namespace,
      name: "dash-node",
      agents: [defineAgent({ type: "counter", state: () => ({ count: 0 }), receive: (_m: unknown, ctx) => ++ctx.state.count })],
    });
    await node.spawn("counter", { key: "c1" });
  }, SLOW_MS);
  afterAll(async () => {
    await node?.close();
  });

  it("prints the URL with its token, serves the page and its API from it, and stops on Ctrl-C", async () => {
    const dash = new AgentctlProcess(["dashboard", "--port", "0", "--server", nats.url, "--namespace", namespace]);
    try {
      const out = await dash.waitFor(/dashboard of namespace \S+: http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}\n/);
      const url = /(http:\/\/\S+)/.exec(out)![1]!;
      const token = /#token=([0-9a-f]{64})$/.exec(url)![1]!;
      // The page holds no secret: anyone gets it, and no cookie.
      const page = await fetch(new URL("/", url));
      expect(page.status).toBe(200);
      expect(page.headers.get("set-cookie")).toBeNull();
      expect(await page.text()).not.toContain(token);
      expect((await fetch(new URL("/api/snapshot", url))).status).toBe(403);
      const snap = await fetch(new URL("/api/snapshot", url), { headers: { "x-troupe-token": token } });
      expect(((await snap.json()) as { agents: Array<{ id: string }> }).agents.map((a) => a.id)).toEqual(["counter/c1"]);
    } finally {
      const end = await dash.stop("SIGINT");
      expect(end.code).toBe(0);
    }
  });

  it("gives a newly opened page the events from before the dashboard started", async () => {
    // A restart, kept in the namespace's events stream, before agentctl dashboard runs.
    await node.kill("counter/c1", "before the dashboard");
    const reader = await connectClient({ servers: nats.url, namespace });
    let restart: TroupeEvent;
    try {
      restart = await waitFor(async () => {
        const feed = await reader.events({ since: 60_000, follow: false, kinds: ["child_restarted"] });
        let found: TroupeEvent | undefined;
        for await (const e of feed) if (e.id === "counter/c1") found = e;
        return found;
      }, "the restart in the events stream");
    } finally {
      await reader.close();
    }
    const dash = new AgentctlProcess(["dashboard", "--port", "0", "--server", nats.url, "--namespace", namespace]);
    try {
      const out = await dash.waitFor(/dashboard of namespace \S+: http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}\n/);
      const url = /(http:\/\/\S+)/.exec(out)![1]!;
      const token = /#token=([0-9a-f]{64})$/.exec(url)![1]!;
      const abort = new AbortController();
      const res = await fetch(new URL("/api/events", url), { headers: { "x-troupe-token": token }, signal: abort.signal });
      // The stream's first frame of events: what the page shows in its feed when it opens.
      let text = "";
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (/event: events\ndata: .*\n\n/.test(text)) break;
      }
      abort.abort();
      const events = JSON.parse(/event: events\ndata: (.*)\n\n/.exec(text)![1]!) as TroupeEvent[];
      expect(events).toContainEqual(restart);
    } finally {
      await dash.stop("SIGINT");
    }
  });

  it("says what is wrong with a bad port (exit 2) or a namespace where nothing runs (exit 4)", async () => {
    const port = await agentctl(["dashboard", "--port", "70000", "--server", nats.url, "--namespace", namespace]);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("expected a port number from 0 to 65535");
    const missing = await agentctl(["dashboard", "--port", "0", "--server", nats.url, "--namespace", `${namespace}-typo`]);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toBe("");
  });

  it("explains itself in --help", async () => {
    const help = await agentctl(["dashboard", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: agentctl dashboard [options]");
    expect(help.stdout).toContain("--port <port>");
    expect(help.stdout).toContain("agentctl dashboard --port 8080 -n prod");
  });
});
