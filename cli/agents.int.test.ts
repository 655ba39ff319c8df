// agentctl against a real server: a node started with `node start --agents`
// in the background, then spawn, tell, ask, ps, kill, tree, state and stop
// from separate agentctl processes, as a user would type them.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo, NodeTree } from "../actors/index.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { waitFor } from "../runtime/testing/wait.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `cli-${randomBytes(3).toString("hex")}`;
const NODE = "cli-node-1";

/** agentctl against the test server, in this file's namespace. */
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

async function ps(): Promise<AgentInfo[]> {
  const r = await run("ps", "--json");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as AgentInfo[];
}

describe("agentctl with a node", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;

  beforeAll(async () => {
    node = new AgentctlProcess(["node", "start", "--agents", "cli/fixtures/agents.ts", "--name", NODE, "--server", nats.url, "--namespace", namespace]);
    await node.waitFor(/ready/);
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
  });

  it("prints one ready line naming the node, namespace and every hosted type", () => {
    const line = node.stdout.split("\n")[0]!;
    expect(line).toContain(`node ${NODE} ready in namespace ${namespace}`);
    for (const t of ["echo", "counter", "greeter", "crew", "napper", "shouter", "ledger", "speaker", "listener"]) expect(line).toContain(t);
    expect(line).not.toContain("version");
  });

  it("asks with --stream: each chunk as a JSON line, the reply last as a done chunk", async () => {
    expect((await run("spawn", "speaker", "--key", "s1")).code).toBe(0);
    const r = await run("ask", "speaker/s1", '"one two"', "--stream");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown)).toEqual([
      { type: "text", delta: "one" },
      { type: "text", delta: "two" },
      { type: "done", value: 2 },
    ]);
  });

  it("publishes on a topic to the agents that subscribed, and refuses a bad topic name", async () => {
    expect((await run("spawn", "listener", "--key", "l1")).code).toBe(0);
    expect(await run("publish", "news.today", '{"headline":"hi"}')).toMatchObject({ code: 0, stdout: "published on news.today\n" });
    expect((await run("publish", "sports.today", '{"headline":"no"}')).code).toBe(0);
    const heard = await waitFor(async () => {
      const r = await run("ask", "listener/l1", '"what did you hear?"');
      const list = JSON.parse(r.stdout) as { topic: string; msg: unknown; from: string }[];
      return list.length > 0 ? list : undefined;
    }, "the listener heard the news");
    expect(heard).toEqual([{ topic: "news.today", msg: { headline: "hi" }, from: expect.stringMatching(/^client:/) }]);
    const bad = await run("publish", "news..today", "{}");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("news..today");
  });

  it("spawns, tells and asks a counter", async () => {
    const spawned = await run("spawn", "counter", "--key", "c1");
    expect(spawned).toMatchObject({ code: 0, stdout: "counter/c1\n" });
    expect((await run("tell", "counter/c1", '{"op":"inc"}')).code).toBe(0);
    const asked = await run("ask", "counter/c1", '{"op":"get"}');
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.stdout)).toBe(1);
  });

  it("stores a tell for a durable agent that is not running yet, once per --id, and applies it when it is spawned", async () => {
    expect(await run("tell", "ledger/l1", '{"add":5}', "--id", "t1")).toMatchObject({ code: 0, stdout: "stored in the durable mailbox of ledger/l1\n" });
    expect((await run("tell", "ledger/l1", '{"add":5}', "--id", "t1")).code).toBe(0);
    expect((await run("tell", "ledger/l1", '{"add":1}')).code).toBe(0);
    expect((await run("spawn", "ledger", "--key", "l1")).code).toBe(0);
    const total = await run("ask", "ledger/l1", "{}");
    expect(JSON.parse(total.stdout)).toBe(6);
    // An ask retried with its --id is answered from the first one's outcome, not applied twice.
    expect(JSON.parse((await run("ask", "ledger/l1", '{"add":10}', "--id", "a1")).stdout)).toBe(16);
    expect(JSON.parse((await run("ask", "ledger/l1", '{"add":10}', "--id", "a1")).stdout)).toBe(16);
    expect(JSON.parse((await run("ask", "ledger/l1", "{}")).stdout)).toBe(16);
    const bad = await run("tell", "ledger/l1", "{}", "--id", "has space");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/message id/);
  });

  it("lists the counter as running on the node", async () => {
    const agents = await ps();
    expect(agents.find((a) => a.id === "counter/c1")).toMatchObject({ node: NODE, state: "running", restarts: 0 });
    const table = await run("ps");
    expect(table.stdout).toMatch(/^ID\s+NODE\s+STATE\s+UPTIME\s+HANDLED\s+RESTARTS$/m);
    expect(table.stdout).toMatch(new RegExp(`^counter/c1\\s+${NODE}\\s+running\\s`, "m"));
  });

  it("shows the persisted state and its revision", async () => {
    const r = await run("state", "counter/c1", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: "counter/c1", value: { count: 1 } });
    const text = await run("state", "counter/c1");
    expect(text.stdout).toMatch(/^counter\/c1 {2}revision \d+$/m);
    const none = await run("state", "counter/never");
    expect(none.code).toBe(4);
    expect(none.stderr).toContain("no persisted state for counter/never");
  });

  it("kill makes the agent fail; its supervisor restarts it and ps shows 1 restart", async () => {
    const killed = await run("kill", "counter/c1", "--reason", "test crash");
    expect(killed.code).toBe(0);
    let agent: AgentInfo | undefined;
    for (let i = 0; i < 20 && agent?.restarts !== 1; i++) agent = (await ps()).find((a) => a.id === "counter/c1");
    expect(agent).toMatchObject({ state: "running", restarts: 1 });
    const asked = await run("ask", "counter/c1", '{"op":"get"}');
    expect(JSON.parse(asked.stdout)).toBe(1);
  });

  it("hosts the module's supervisor and its children, and draws the tree", async () => {
    expect((await run("spawn", "crew", "--key", "k1")).stdout).toBe("crew/k1\n");
    const greeted = await run("ask", "greeter/front", '{"name":"Ada"}');
    expect(greeted).toMatchObject({ code: 0 });
    expect(JSON.parse(greeted.stdout)).toBe("hello, Ada");

    const json = await run("tree", "--json");
    expect(json.code).toBe(0);
    const trees = JSON.parse(json.stdout) as NodeTree[];
    expect(trees.map((t) => t.node)).toEqual([NODE]); // agentctl's own client node is left out
    const crew = trees[0]!.children.find((c) => c.id === "crew/k1");
    expect(crew?.children).toEqual([expect.objectContaining({ id: "greeter/front", state: "running", restarts: 0 })]);
    expect(trees[0]!.children.find((c) => c.id === "counter/c1")).toMatchObject({ restarts: 1 });

    const text = await run("tree");
    expect(text.stdout).toContain(`node ${NODE}`);
    expect(text.stdout).toMatch(/├── counter\/c1 {2}running {2}restarts 1/);
    expect(text.stdout).toMatch(/└── crew\/k1 {2}running {2}restarts 0 {2}one_for_one\n {8}└── greeter\/front {2}running {2}restarts 0/);
  });

  it("spawns under a supervisor named with --supervisor", async () => {
    expect((await run("spawn", "greeter", "--key", "side", "--supervisor", "crew/k1", "--restart", "transient")).code).toBe(0);
    const trees = JSON.parse((await run("tree", "--json")).stdout) as NodeTree[];
    const crew = trees[0]!.children.find((c) => c.id === "crew/k1");
    expect(crew?.children?.map((c) => c.id)).toEqual(["greeter/front", "greeter/side"]);
  });

  it("passes --args to the agent's initial state and hosts the module's default export", async () => {
    expect((await run("spawn", "counter", "--key", "c2", "--args", '{"start":40}')).code).toBe(0);
    expect(JSON.parse((await run("ask", "counter/c2", '{"op":"inc","by":2}')).stdout)).toBe(42);
    expect((await run("spawn", "shouter", "--key", "s1")).code).toBe(0);
    expect(JSON.parse((await run("ask", "shouter/s1", '"quiet please"')).stdout)).toBe("QUIET PLEASE");
  });

  it("an ask that gets no reply in time exits 5", async () => {
    expect((await run("spawn", "napper", "--key", "n1")).code).toBe(0);
    const r = await run("ask", "napper/n1", "2000", "--timeout", "200");
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe("error: ask to napper/n1 got no reply within 200 ms");
  });

  it("an agent's error comes back as a runtime error, exit 1", async () => {
    const r = await run("ask", "counter/c1", '{"op":"explode"}');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("counter takes");
  });

  it("spawning a type no node hosts exits 4 naming the type", async () => {
    const r = await run("spawn", "unicorn");
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('agent type "unicorn"');
  });

  it("stop removes the agent for good: ask and tell then exit 4", async () => {
    const stopped = await run("stop", "counter/c1");
    expect(stopped).toMatchObject({ code: 0, stdout: "stopped counter/c1\n" });
    const asked = await run("ask", "counter/c1", '{"op":"get"}');
    expect(asked.code).toBe(4);
    expect(asked.stderr.trim()).toBe("error: agent counter/c1 is not running");
    const told = await run("tell", "counter/c1", '{"op":"inc"}');
    expect(told.code).toBe(4);
    expect(told.stderr.trim()).toBe("error: agent counter/c1 is not running");
    expect((await run("stop", "counter/c1")).code).toBe(4);
    expect((await ps()).map((a) => a.id)).not.toContain("counter/c1");
    // Its state is kept.
    expect(JSON.parse((await run("state", "counter/c1", "--json")).stdout)).toMatchObject({ value: { count: 1 } });
  });

  it("node ls lists the node and not agentctl's client, which never joined the cluster", async () => {
    // A watch that holds its client open while node ls runs: a client that heartbeat would show up.
    expect((await run("kv", "put", "seen", "1")).code).toBe(0);
    const watch = new AgentctlProcess(["kv", "watch", "--server", nats.url, "--namespace", namespace]);
    try {
      await waitFor(() => watch.stderr.includes("watching"), "kv watch running", 60_000);
      const r = await run("node", "ls", "--json");
      expect((JSON.parse(r.stdout) as { id: string }[]).map((n) => n.id)).toEqual([NODE]);
    } finally {
      await watch.stop("SIGINT");
    }
  });

  it("the node drains on SIGTERM and exits 0, leaving no agents behind", async () => {
    const end = await node.stop("SIGTERM");
    expect(end.code).toBe(0);
    expect(end.stderr).toContain(`node ${NODE} stopped`);
    expect(await ps()).toEqual([]);
  });
});

describe("a rolling restart from the shell", { timeout: SLOW_MS }, () => {
  it("SIGTERM hands a node's agents to a peer, which runs them with their state; --no-handover stops them", async () => {
    const ns = `cli-roll-${randomBytes(3).toString("hex")}`;
    const cli = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", ns]);
    const start = (name: string, ...extra: string[]) => new AgentctlProcess(["node", "start", "--name", name, "--server", nats.url, "--namespace", ns, ...extra]);
    const first = start("roll-1");
    const second = start("roll-2", "--no-handover");
    try {
      await first.waitFor(/ready/);
      await second.waitFor(/ready/);
      expect((await cli("spawn", "counter", "--key", "r1", "--node", "roll-1")).code).toBe(0);
      expect((await cli("ask", "counter/r1", '{"op":"inc"}')).stdout).toBe("1\n");
      const ended = await first.stop("SIGTERM");
      expect(ended.code).toBe(0);
      expect(ended.stderr).toContain("handing agents to peers");
      const listed = JSON.parse((await cli("ps", "--json")).stdout) as AgentInfo[];
      expect(listed.find((a) => a.id === "counter/r1")).toMatchObject({ node: "roll-2", state: "running" });
      expect((await cli("ask", "counter/r1", '{"op":"inc"}')).stdout).toBe("2\n");
      // The last node has no peer, and was told not to hand over: it stops its agents.
      const last = await second.stop("SIGTERM");
      expect(last.stderr).toContain("stopping agents");
      expect((await cli("ask", "counter/r1", '{"op":"get"}')).code).toBe(4);
    } finally {
      await first.stop("SIGKILL");
      await second.stop("SIGKILL");
    }
  });
});

describe("agentctl in a namespace no node ever ran in", { timeout: SLOW_MS }, () => {
  it("read commands exit 4 naming the namespace and create no stream or bucket", async () => {
    const typo = `cli-typo-${randomBytes(3).toString("hex")}`;
    const nc = await connectTo(nats.url);
    try {
      const jsm = await jetstreamManager(nc);
      const streams = async (): Promise<string[]> => {
        const names: string[] = [];
        for await (const s of jsm.streams.list()) names.push(s.config.name);
        return names.sort();
      };
      const before = await streams();
      for (const cmd of [["ps"], ["ps", "--json"], ["tree"], ["node", "ls"], ["state", "counter/c1"], ["stop", "counter/c1"], ["tell", "counter/c1", "{}"],
        ["dlq", "ls"], ["dlq", "show", "1"], ["dlq", "replay", "1"], ["dlq", "purge", "--yes"]]) {
        const r = await agentctl([...cmd, "--server", nats.url, "--namespace", typo]);
        expect({ cmd, code: r.code, stderr: r.stderr.trim() }).toEqual({
          cmd,
          code: 4,
          stderr: `error: namespace "${typo}" does not exist on this server: no node has run in it`,
        });
      }
      const get = await agentctl(["kv", "get", "k", "--server", nats.url, "--namespace", typo]);
      expect(get.code).toBe(4);
      expect(get.stderr.trim()).toBe(`error: namespace "${typo}" does not exist on this server: no node has run in it`);
      expect(await streams()).toEqual(before);
    } finally {
      await nc.close();
    }
  });
});

describe("agentctl in a namespace whose nodes are gone", { timeout: SLOW_MS }, () => {
  it("ps prints an empty list and exits 0", async () => {
    const empty = `cli-empty-${randomBytes(3).toString("hex")}`;
    const args = ["--server", nats.url, "--namespace", empty];
    const node = new AgentctlProcess(["node", "start", ...args]);
    await node.waitFor(/ready/);
    expect((await node.stop("SIGINT")).code).toBe(0);
    const text = await agentctl(["ps", ...args]);
    expect(text).toMatchObject({ code: 0, stdout: `no agents in namespace ${empty}\n` });
    const json = await agentctl(["ps", "--json", ...args]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
    const tree = await agentctl(["tree", "--json", ...args]);
    expect(JSON.parse(tree.stdout)).toEqual([]);
  });
});

describe("node start with a JavaScript module", { timeout: SLOW_MS }, () => {
  it("hosts the module's default export", async () => {
    const ns = `cli-js-${randomBytes(3).toString("hex")}`;
    const args = ["--server", nats.url, "--namespace", ns];
    const js = new AgentctlProcess(["node", "start", "--agents", "cli/fixtures/plain-agents.js", ...args]);
    try {
      expect(await js.waitFor(/ready/)).toMatch(/hosting echo, counter, doubler/);
      expect((await agentctl(["spawn", "doubler", "--key", "d", ...args])).code).toBe(0);
      const r = await agentctl(["ask", "doubler/d", "21", ...args]);
      expect(JSON.parse(r.stdout)).toBe(42);
    } finally {
      expect((await js.stop("SIGINT")).code).toBe(0);
    }
  });
});
