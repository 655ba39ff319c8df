// Naming an agent type no node hosts: agentctl answers at once, says which
// types the namespace's nodes host, and suggests the close one.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `types-${randomBytes(3).toString("hex")}`;
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

describe("an unknown agent type", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;
  beforeAll(async () => {
    node = new AgentctlProcess(["node", "start", "--name", "types-node", "--server", nats.url, "--namespace", namespace]);
    await node.waitFor(/ready/);
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
  });

  it("spawn says which types are hosted and suggests the close one, without waiting", async () => {
    const typo = await run("spawn", "countr");
    expect(typo.code).toBe(4);
    expect(typo.stderr.trim()).toBe(
      `error: no node in namespace ${namespace} hosts agent type "countr"; did you mean "counter"? (hosted: counter, echo)`,
    );
    const unknown = await run("spawn", "unicorn");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr.trim()).toBe(`error: no node in namespace ${namespace} hosts agent type "unicorn" (hosted: counter, echo)`);
  });

  it("ask and tell to an agent of an unknown type say the same", async () => {
    const asked = await run("ask", "ecko/e1", '"hi"');
    expect(asked.code).toBe(4);
    expect(asked.stderr.trim()).toBe(`error: agent ecko/e1 is not running: no node in namespace ${namespace} hosts agent type "ecko"; did you mean "echo"? (hosted: counter, echo)`);
    const told = await run("tell", "ecko/e1", '"hi"');
    expect(told.code).toBe(4);
    expect(told.stderr).toContain('did you mean "echo"?');
    // A hosted type's agent that is not running: as before.
    expect((await run("ask", "echo/none", '"hi"')).stderr.trim()).toBe("error: agent echo/none is not running");
  });

  it("with no node running, spawn says so", async () => {
    expect((await node.stop("SIGINT")).code).toBe(0);
    const r = await run("spawn", "counter");
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe(`error: no node is running in namespace ${namespace}: start one with \`agentctl node start\``);
  });
});
