// The live `top` view rendered with ink-testing-library: refreshes driven by a
// FakeClock, listings scripted, keys typed on its stdin.

import { render } from "ink-testing-library";
import { createElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { FakeClock } from "../runtime/clock.js";
import { TopView } from "./top-view.js";
import type { TopSample } from "./top-model.js";

function agent(id: `${string}/${string}`, over: Partial<AgentInfo> = {}): AgentInfo {
  const [type, key] = id.split("/") as [string, string];
  return {
    id,
    type,
    key,
    node: "n1",
    state: "running",
    supervisor: "root",
    startedAt: 0,
    uptimeMs: 65_000,
    handled: 0,
    failures: 0,
    restarts: 0,
    mailbox: 0,
    mailboxBytes: 0,
    rejected: 0,
    asksWithoutReply: 0,
    errors: 0,
    handlingP99Ms: null,
    ...over,
  };
}

/** A view over scripted listings: each refresh takes the next (the last one repeats). */
function start(listings: Omit<TopSample, "at">[], intervalMs = 1000) {
  const clock = new FakeClock(0);
  let calls = 0;
  const list = vi.fn(async () => listings[Math.min(calls++, listings.length - 1)]!);
  const app = render(createElement(TopView, { list, namespace: "ops", intervalMs, sort: "node", clock }));
  return { app, clock, list };
}

const frame = (app: ReturnType<typeof render>): string => app.lastFrame() ?? "";
/** The agent ids of the table, top to bottom. */
const order = (app: ReturnType<typeof render>): string[] =>
  frame(app)
    .split("\n")
    .map((l) => /^[! ]\s+(\S+\/\S+)/.exec(l)?.[1])
    .filter((id): id is string => id !== undefined);

let current: ReturnType<typeof render> | undefined;
afterEach(() => current?.cleanup());

describe("TopView", () => {
  const first = { nodes: ["n1", "n2"], unreachable: [], agents: [agent("echo/a", { handled: 10 }), agent("calc/b", { node: "n2", handled: 0, mailbox: 7 }), agent("crash/c", { restarts: 1, failures: 1 })] };
  const second = {
    nodes: ["n1", "n2"],
    unreachable: [],
    agents: [
      agent("echo/a", { handled: 510, handlingP99Ms: 0.42 }),
      agent("calc/b", { node: "n2", handled: 20, mailbox: 7, handlingP99Ms: 12 }),
      agent("crash/c", { restarts: 2, failures: 2, state: "running" }),
    ],
  };

  it("shows rates after the second listing, the p99, and marks the agent whose restarts rose", async () => {
    const { app, clock, list } = start([first, second]);
    current = app;
    await vi.waitFor(() => expect(frame(app)).toContain("3 agents"));
    expect(frame(app)).toContain("- msg/s");
    await clock.advance(1000);
    await vi.waitFor(() => expect(frame(app)).toContain("520 msg/s"));
    expect(list).toHaveBeenCalledTimes(2);
    const lines = frame(app).split("\n");
    expect(lines[0]).toBe("namespace ops: 2 nodes, 3 agents, 1 failing, 520 msg/s · sort: node");
    expect(lines.find((l) => l.includes("echo/a"))).toMatch(/^ {3}echo\/a\s+n1\s+running\s+500\s+0\s+0\s+0\.42ms\s+1m05s$/);
    expect(lines.find((l) => l.includes("calc/b"))).toMatch(/calc\/b\s+n2\s+running\s+20\.0\s+7\s+0\s+12ms/);
    expect(lines.find((l) => l.includes("crash/c"))).toMatch(/^! {2}crash\/c\s+n1\s+running\s+0\s+0\s+2\s+-/);
    // Grouped by node: n1's agents, then n2's.
    expect(order(app)).toEqual(["crash/c", "echo/a", "calc/b"]);
  });

  it("s cycles the sort: by rate next, then by mailbox", async () => {
    const { app, clock } = start([first, second]);
    current = app;
    await vi.waitFor(() => expect(frame(app)).toContain("3 agents"));
    await clock.advance(1000);
    await vi.waitFor(() => expect(frame(app)).toContain("520 msg/s"));
    app.stdin.write("s");
    await vi.waitFor(() => expect(frame(app)).toContain("sort: rate"));
    expect(order(app)).toEqual(["echo/a", "calc/b", "crash/c"]);
    app.stdin.write("s");
    await vi.waitFor(() => expect(frame(app)).toContain("sort: mailbox"));
    expect(order(app)[0]).toBe("calc/b");
  });

  it("/ filters by id or node; Esc clears the filter", async () => {
    const { app } = start([first]);
    current = app;
    await vi.waitFor(() => expect(frame(app)).toContain("3 agents"));
    app.stdin.write("/");
    await vi.waitFor(() => expect(frame(app)).toContain("filter: _"));
    app.stdin.write("n2");
    await vi.waitFor(() => expect(order(app)).toEqual(["calc/b"]));
    app.stdin.write("\r");
    await vi.waitFor(() => expect(frame(app)).toContain("· filter: n2"));
    app.stdin.write("/");
    app.stdin.write("\u001b");
    await vi.waitFor(() => expect(order(app)).toHaveLength(3));
  });

  it("q quits: the view stops refreshing", async () => {
    const { app, clock, list } = start([first]);
    current = app;
    await vi.waitFor(() => expect(frame(app)).toContain("3 agents"));
    expect(clock.pending).toBe(1);
    app.stdin.write("q");
    await vi.waitFor(() => expect(clock.pending).toBe(0));
    await clock.advance(5000);
    expect(list).toHaveBeenCalledTimes(1);
  });

  it("a listing that fails is shown as an error, and the next refresh tries again", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const list = vi.fn(async () => {
      if (calls++ === 0) throw new Error("the server is gone");
      return first;
    });
    const app = render(createElement(TopView, { list, namespace: "ops", intervalMs: 1000, sort: "node", clock }));
    current = app;
    await vi.waitFor(() => expect(frame(app)).toContain("error: the server is gone"));
    await clock.advance(1000);
    await vi.waitFor(() => expect(frame(app)).toContain("3 agents"));
  });
});
