// What `agentctl node start` prints about its place in the cluster, as the
// person running it sees it: one line when it loses the server and one when it
// is back (the server restarted on its port and store), and one on the
// surviving node when it adopts an agent of a node process that was killed.

import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { connectClient } from "../runtime/client.js";
import { startNatsServer, type NatsServer } from "../runtime/testing/nats-server.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 90_000;
const nats = useNatsServer();

/** Processes and servers to end after the file, whatever happened. */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function nodeProcess(name: string, server: string, ns: string): AgentctlProcess {
  const p = new AgentctlProcess(["node", "start", "--name", name, "--server", server, "--namespace", ns]);
  cleanups.push(() => p.stop("SIGKILL"));
  return p;
}

describe("agentctl node start tells its operator", { timeout: SLOW_MS }, () => {
  it("that it lost the server, then that it reconnected, when the server restarts", async () => {
    // A server of its own: restarting the file's server would disturb the other test.
    const own: NatsServer = await startNatsServer();
    cleanups.push(() => own.dispose());
    const node = nodeProcess("notice-1", own.url, `notice-${randomBytes(3).toString("hex")}`);
    await node.waitFor(/node notice-1 ready/);
    expect(node.stdout).not.toMatch(/lost the server|reconnected/);

    await own.restart();
    const out = await node.waitFor(/node notice-1 reconnected to \S+/, 30_000);
    const lost = out.search(/node notice-1 lost the server \S+; reconnecting/);
    const back = out.search(/node notice-1 reconnected to/);
    expect(lost, out).toBeGreaterThan(-1);
    expect(lost).toBeLessThan(back);
    // One line each, for one restart.
    expect(out.match(/lost the server/g)).toHaveLength(1);
    expect(out.match(/reconnected to/g)).toHaveLength(1);

    const end = await node.stop("SIGTERM");
    expect(end.code, end.stderr).toBe(0);
  });

  it("that it adopted an agent, when the node that hosted it was killed", async () => {
    const ns = `adopt-${randomBytes(3).toString("hex")}`;
    const first = nodeProcess("host-1", nats.url, ns);
    const second = nodeProcess("host-2", nats.url, ns);
    await first.waitFor(/node host-1 ready/);
    await second.waitFor(/node host-2 ready/);
    const client = await connectClient({ servers: nats.url, namespace: ns, name: "adopt-test" });
    cleanups.push(() => client.close());
    await client.spawn("counter", { key: "orphan", node: "host-1" });
    expect(await client.ref("counter", "orphan").ask({ op: "inc" })).toBe(1);
    expect(second.stdout).not.toMatch(/adopted/);

    await first.stop("SIGKILL");
    // Gone after three missed heartbeats (1 s each by default), then adopted.
    await second.waitFor(/node host-2 adopted counter\/orphan from node host-1, which is gone/, 30_000);
    expect(await client.whereIs("counter/orphan")).toBe("host-2");
    expect(await client.ref("counter", "orphan").ask({ op: "get" })).toBe(1);
  });
});
