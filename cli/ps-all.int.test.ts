// agentctl ps --all: agents that stopped but kept their state are listed too,
// marked stopped, with their kept state (a preview in the table, all of it in JSON).

import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subjects } from "../runtime/subjects.js";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `psall-${randomBytes(3).toString("hex")}`;
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

describe("agentctl ps --all", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;
  beforeAll(async () => {
    node = new AgentctlProcess(["node", "start", "--agents", "cli/fixtures/agents.ts", "--name", "psall-node", "--server", nats.url, "--namespace", namespace]);
    await node.waitFor(/ready/);
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
  });

  it("shows a stopped agent with its kept state; plain ps hides it", async () => {
    expect((await run("spawn", "counter", "--key", "gone")).code).toBe(0);
    expect((await run("spawn", "counter", "--key", "live")).code).toBe(0);
    expect((await run("ask", "counter/gone", '{"op":"inc","by":3}')).stdout).toBe("3\n");
    expect((await run("stop", "counter/gone")).code).toBe(0);

    const ps = await run("ps");
    expect(ps.stdout).toMatch(/^counter\/live\s/m);
    expect(ps.stdout).not.toContain("counter/gone");

    const all = await run("ps", "--all");
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ID\s+NODE\s+STATE\s+UPTIME\s+HANDLED\s+RESTARTS\s+KEPT STATE$/m);
    expect(all.stdout).toMatch(/^counter\/gone\s+-\s+stopped\s+-\s+-\s+-\s+\{"count":3\}$/m);
    expect(all.stdout).toMatch(/^counter\/live\s+psall-node\s+running\s/m);

    const json = JSON.parse((await run("ps", "--all", "--json")).stdout) as { id: string; state: string; node: string | null; keptState?: unknown }[];
    expect(json.find((a) => a.id === "counter/gone")).toEqual({ id: "counter/gone", type: "counter", key: "gone", node: null, state: "stopped", keptState: { count: 3 }, revision: expect.any(Number) });
    expect(json.find((a) => a.id === "counter/live")).toMatchObject({ state: "running", node: "psall-node" });
  });

  it("a state key that names no agent is skipped, and a kept state that cannot be read says so; the rest are listed", async () => {
    expect((await run("spawn", "counter", "--key", "fine")).code).toBe(0);
    expect((await run("ask", "counter/fine", '{"op":"inc"}')).code).toBe(0);
    expect((await run("stop", "counter/fine")).code).toBe(0);
    // What a node credential scoped to counter may write: a key that is no agent's, a value that is no state.
    const nc = await connectTo(nats.url, "state-writer");
    try {
      const kv = await new Kvm(nc).open(new Subjects(namespace).stateBucket());
      await kv.put("counter.a=b", new Uint8Array([0x01]));
      await kv.put("counter.junk", new Uint8Array([0xc1]));
    } finally {
      await nc.close();
    }
    const all = await run("ps", "--all");
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^counter\/fine\s+-\s+stopped\s/m);
    expect(all.stdout).toMatch(/^counter\/junk\s+-\s+unreadable\s+-\s+-\s+-\s+invalid message: does not decode as MessagePack/m);
    expect(all.stdout).not.toContain("a=b");
    const json = JSON.parse((await run("ps", "--all", "--json")).stdout) as { id: string; state: string; problem?: string }[];
    expect(json.find((a) => a.id === "counter/junk")).toMatchObject({ state: "unreadable", problem: expect.any(String) });
    expect(json.find((a) => a.id === "counter/fine")).toMatchObject({ state: "stopped" });
  });

  it("a long kept state is cut short in the table, whole in JSON", async () => {
    const name = "z".repeat(200);
    expect((await run("spawn", "greeter", "--key", "chatty")).code).toBe(0);
    expect((await run("ask", "greeter/chatty", JSON.stringify({ name }))).code).toBe(0);
    expect((await run("stop", "greeter/chatty")).code).toBe(0);
    const row = (await run("ps", "--all")).stdout.split("\n").find((l) => l.startsWith("greeter/chatty"));
    expect(row).toMatch(/\s\{"greeted":\["z+…$/);
    expect(row!.length).toBeLessThan(150);
    const json = JSON.parse((await run("ps", "--all", "--json")).stdout) as { id: string; keptState?: unknown }[];
    expect(json.find((a) => a.id === "greeter/chatty")?.keptState).toEqual({ greeted: [name] });
  });
});
