// The dashboard in a real headless Chromium (Playwright), as a person would
// use it: the page loads, shows a spawned agent, updates when the agent is
// killed and restarted, shows its persisted state and memory keys on click,
// and approves a model agent's pending tool call, and shows every restart
// while agents are killed in a loop. How soon is measured by the `dashboard`
// bench scenario (bench/scenarios/dashboard.ts), not here: a timed assertion
// on a shared machine is a flake.
// Needs Chromium: see runtime/testing/chromium.ts for the skip/require rules.

import { randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient } from "../../actors/index.js";
import { defineAgent } from "../../runtime/define-agent.js";
import type { Journal, ModelReply } from "../../runtime/model/journal.js";
import { startNode, type TroupeNode } from "../../runtime/node.js";
import { browserFor } from "../../runtime/testing/chromium.js";
import { startModelServer, type ModelServer } from "../../runtime/testing/model-server.js";
import { refundTool, respond } from "../fixtures/refund-assistant.js";
import { useNatsServer } from "../../runtime/testing/server.js";
import { waitFor } from "../../runtime/testing/wait.js";
import { startDashboard, type Dashboard } from "./dashboard-server.js";

const browser = browserFor("cli/dashboard/dashboard-browser.int.test.ts", "the dashboard in a browser");
const nats = useNatsServer();
const namespace = `dash-ui-${randomBytes(3).toString("hex")}`;
const SLOW_MS = 120_000;

const { refund, refunds } = refundTool();

/**
 * Run in the page (as text: this project compiles without the DOM's types): record each
 * child_restarted line that enters the feed, in `window.seen` as `{ id, at }`.
 */
const RECORD_RESTART_LINES = `(() => {
  window.seen = [];
  new MutationObserver((records) => {
    for (const r of records) {
      for (const e of r.addedNodes) {
        if (e.dataset && e.dataset.kind === "child_restarted") window.seen.push({ id: e.dataset.id, at: Number(e.dataset.at) });
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
})()`;

describe.skipIf(browser.skip)("the dashboard in headless Chromium", { timeout: SLOW_MS }, () => {
  let model: ModelServer;
  let node: TroupeNode;
  let client: TroupeClient;
  let dash: Dashboard;
  let chrome: Browser;
  let page: Page;

  beforeAll(async () => {
    const bin = browser.require();
    model = await startModelServer((req) => respond(req));
    node = await startNode({
      servers: nats.url,
      namespace,
      name: "ui-node",
      // The crash storm below restarts agents many times a second: the root gives none up.
      root: { intensity: 10_000, periodMs: 1000 },
      agents: [
        defineAgent({
          type: "counter",
          state: () => ({ count: 0 }),
          receive: async (msg: { op: string }, ctx) => {
            if (msg.op === "note") await ctx.memory.put(`note.${ctx.key}`, { by: ctx.key });
            return ++ctx.state.count;
          },
        }),
        defineAgent({ type: "assistant", model: { baseURL: model.url, model: "scripted", apiKey: "test" }, tools: { refund } }),
      ],
    });
    client = await connectClient({ servers: nats.url, namespace });
    dash = await startDashboard({ client });
    // No network but the dashboard: every host name fails to resolve.
    chrome = await chromium.launch({ executablePath: bin, args: ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"] });
    page = await chrome.newPage();
    page.setDefaultTimeout(15_000);
  }, SLOW_MS);

  afterAll(async () => {
    await chrome?.close();
    await dash?.close();
    await client?.close();
    await node?.close();
    await model?.close();
  });

  const row = (id: string) => page.locator(`#agents tr[data-agent="${id}"]`);
  const cell = (id: string, col: string) => row(id).locator(`td[data-col="${col}"]`);

  it("without the printed URL's fragment, says where to find it; a program without the header gets 403", async () => {
    const stranger = await chrome.newPage();
    const opened = await stranger.goto(`http://127.0.0.1:${dash.port}/`);
    expect(opened?.status()).toBe(200);
    await expect.poll(() => stranger.locator("#no-token").textContent()).toMatch(/open the URL agentctl dashboard printed \(it ends with #token=/);
    expect(await stranger.locator("#no-token").isVisible()).toBe(true);
    expect(await stranger.locator("#status").textContent()).toBe("no token");
    await stranger.close();
    const program = await fetch(`http://127.0.0.1:${dash.port}/api/snapshot`);
    expect(program.status).toBe(403);
    expect(((await program.json()) as { error: string }).error).toMatch(/#token=/);
  });

  it("opened from a link on another site, works; the token leaves the address bar and no cookie is set", async () => {
    // A link elsewhere (here a page of no origin) to the printed URL: the redirect-free page works at once.
    await page.setContent(`<a id="go" href="${dash.url}">dashboard</a>`);
    await page.click("#go");
    await expect.poll(() => page.locator("#status").textContent()).toBe("live");
    expect(page.url()).toBe(`http://127.0.0.1:${dash.port}/`);
    expect(await page.evaluate("location.hash")).toBe("");
    expect(await page.content()).not.toContain(dash.token);
    expect(await page.evaluate("document.cookie")).toBe("");
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.locator("#no-token").isVisible()).toBe(false);
    // A reload keeps working: the token is kept in this tab's sessionStorage.
    await page.reload();
    await expect.poll(() => page.locator("#status").textContent()).toBe("live");
  });

  it("loads, and shows a spawned agent in the table and its node's tree", async () => {
    await expect.poll(() => page.locator("#status").textContent()).toBe("live");
    await node.spawn("counter", { key: "c1" });
    await row("counter/c1").waitFor();
    expect(await cell("counter/c1", "state").textContent()).toBe("running");
    expect(await cell("counter/c1", "node").textContent()).toBe("ui-node");
    expect(await cell("counter/c1", "restarts").textContent()).toBe("0");
    await page.locator('#trees [data-node="ui-node"] li[data-tree-id="counter/c1"]').waitFor();
    expect(await page.locator("#node-count").textContent()).toBe("1");
  });

  it("updates when the agent is killed and restarted: the event in the feed, the restart count in the table", async () => {
    await client.kill("counter/c1", "killed by the test");
    await page.locator('#feed li[data-kind="child_failed"][data-id="counter/c1"]').waitFor();
    await page.locator('#feed li[data-kind="child_restarted"][data-id="counter/c1"]').waitFor();
    await expect.poll(() => cell("counter/c1", "restarts").textContent()).toBe("1");
    await expect.poll(() => cell("counter/c1", "state").textContent()).toBe("running");
    expect(await row("counter/c1").getAttribute("class")).toContain("restarted");
  });

  it("shows the agent's persisted state and the memory keys it wrote when clicked", async () => {
    await node.ref("counter/c1").ask({ op: "note" });
    await node.ref("counter/c1").ask({ op: "inc" });
    await row("counter/c1").click();
    await expect.poll(() => page.locator("#detail-id").textContent()).toBe("counter/c1");
    await expect.poll(async () => JSON.parse((await page.locator("#detail-state").textContent()) || "null")).toEqual({ count: 2 });
    expect(await page.locator('#detail-memory li[data-key="note.c1"]').textContent()).toBe('note.c1 = {"by":"c1"}');
    expect(await page.locator("#detail-approval").isHidden()).toBe(true);
    expect(await page.locator("#detail-conversation-box").isHidden()).toBe(true);
  });

  it("approves a model agent's pending tool call from the page, and shows the conversation", async () => {
    await node.spawn("assistant", { key: "r1" });
    const asked = node.ref("assistant/r1").ask<ModelReply>({ prompt: "refund 1250" }, { timeoutMs: 60_000 });
    asked.catch(() => {});
    const approval = await waitFor(async () => ((await node.persistedState("assistant/r1"))?.value as Journal | undefined)?.request?.approval?.id, "an approval", 30_000);
    await row("assistant/r1").click();
    await page.locator("#detail-approval").waitFor({ state: "visible" });
    expect(await page.locator("#detail-approval").getAttribute("data-approval")).toBe(approval);
    expect(JSON.parse((await page.locator("#approval-args").textContent())!)).toEqual({ order: "o-1", cents: 1250 });
    expect(refunds).toEqual([]);
    await page.locator("#approve").click();
    expect((await asked).text).toBe('tools said: {"refunded":1250}');
    expect(refunds).toEqual([{ order: "o-1", cents: 1250 }]);
    await expect.poll(() => page.locator("#approval-result").textContent()).toBe(`approved ${approval}`);
    await page.locator("#detail-approval").waitFor({ state: "hidden" });
    const entries = page.locator("#detail-conversation .entry");
    await expect.poll(() => entries.evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(name: string): string | null }).getAttribute("data-entry")))).toEqual([
      "user",
      "tool_call",
      "approval_requested",
      "approved",
      "tool_result",
      "assistant",
    ]);
  });

  it("shows every restart of a crash storm, in the event feed and in the table", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `counter/s${i}`);
    for (const id of ids) await node.spawn("counter", { key: id.slice(8) });
    for (const id of ids) await row(id).waitFor();
    await page.evaluate(RECORD_RESTART_LINES);
    // The storm: kill one agent every 50 ms, round the agents, 80 times.
    const restartAt = new Map<string, number[]>();
    const off = node.onEvent((e) => restartAt.set(e.id, [...(restartAt.get(e.id) ?? []), e.at]), { kind: "child_restarted" });
    let kills = 0;
    for (let i = 0; i < 80; i++) {
      await client.kill(ids[i % ids.length]!, "storm").then(() => kills++, () => {});
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(() => [...restartAt.values()].reduce((n, l) => n + l.length, 0) >= kills || undefined, "a restart for every kill");
    off();
    const expected = [...restartAt].flatMap(([id, times]) => times.map((at) => `${id}@${at}`)).sort();
    // Every restart gets its line in the feed (counted as it came: the feed keeps the latest 200 lines)...
    const lines = () => page.evaluate(`[...new Set(window.seen.filter((s) => s.id.startsWith("counter/s")).map((s) => s.id + "@" + s.at))].sort()`);
    await expect.poll(lines, { timeout: 30_000 }).toEqual(expected);
    // ...and every agent's restart count in the table is its number of restarts.
    for (const id of ids) await expect.poll(() => cell(id, "restarts").textContent(), { timeout: 30_000 }).toBe(String(restartAt.get(id)?.length ?? 0));
  });
});
