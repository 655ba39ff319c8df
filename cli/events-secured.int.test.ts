// agentctl events with an observer credential on a secured server: the live
// tail works; the kept history (--since) is refused with exit 6 and a sentence
// that says what to do (an observer may make no consumer of the events stream).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, startNode, type TroupeNode } from "../actors/index.js";
import { startNatsServer, type NatsServer } from "../runtime/testing/nats-server.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const NS = "shop";
const dir = mkdtempSync(join(tmpdir(), "troupe-events-secured-"));
let server: NatsServer;
let node: TroupeNode;

beforeAll(async () => {
  const init = await agentctl(["auth", "init", "--out", dir, "-n", NS]);
  expect(init.code, init.stderr).toBe(0);
  server = await startNatsServer({ configFile: join(dir, "server.conf"), jetstream: false });
  node = await startNode({ servers: server.url, namespace: NS, name: "n1", credentials: join(dir, "node.creds"), agents: [counter] });
  await node.spawn("counter", { key: "c1" });
}, SLOW_MS);

afterAll(async () => {
  await node?.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const observer = () => ({ NATS_URL: server.url, NATS_CREDS: join(dir, "observer.creds") });

describe("agentctl events with an observer credential", { timeout: SLOW_MS }, () => {
  it("--since exits 6 and says the history needs an admin credential", async () => {
    const r = await agentctl(["events", "--since", "1h", "--no-follow", "-n", NS], observer());
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain("reading the kept history needs an admin credential; live events work without --since");
  });

  it("tails live events", async () => {
    const tail = new AgentctlProcess(["events", "--agent", "counter/c1", "-n", NS], observer());
    try {
      await tail.waitFor(/press Ctrl-C/, 30_000, "stderr");
      await node.kill("counter/c1", "watched");
      await tail.waitFor(/child_restarted +counter\/c1/, 30_000);
      const end = await tail.stop("SIGINT");
      expect(end.code, end.stderr).toBe(0);
    } finally {
      await tail.stop("SIGKILL").catch(() => {});
    }
  });
});
