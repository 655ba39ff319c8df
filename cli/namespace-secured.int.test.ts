// agentctl ns rm on a server with credentials: only the admin may delete a
// namespace; another role gets a permission error and the streams stay.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, startNode } from "../actors/index.js";
import { startNatsServer, type NatsServer } from "../runtime/testing/nats-server.js";
import { agentctl } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const NS = "shop";
const dir = mkdtempSync(join(tmpdir(), "troupe-ns-secured-"));
let server: NatsServer;

beforeAll(async () => {
  const init = await agentctl(["auth", "init", "--out", dir, "-n", NS]);
  expect(init.code, init.stderr).toBe(0);
  server = await startNatsServer({ configFile: join(dir, "server.conf"), jetstream: false });
  // A node makes the namespace's streams, and leaves.
  const node = await startNode({ servers: server.url, namespace: NS, name: "n1", credentials: join(dir, "node.creds"), agents: [counter] });
  await node.close();
}, SLOW_MS);

afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("agentctl ns rm with credentials", { timeout: SLOW_MS }, () => {
  it("refuses every role but admin with a permission error; the admin removes it", async () => {
    // With credentials, -n names the credential's namespace (each namespace is an account).
    const as = (role: string) => ({ NATS_URL: server.url, NATS_CREDS: join(dir, `${role}.creds`) });
    for (const role of ["client", "observer", "node"]) {
      const r = await agentctl(["ns", "rm", NS, "--yes", "-n", NS], as(role));
      expect({ role, code: r.code }).toEqual({ role, code: 6 });
      expect(r.stderr).toMatch(/^error: permission denied: /);
    }
    const listed = JSON.parse((await agentctl(["ns", "ls", "--json", "-n", NS], as("admin"))).stdout) as { namespace: string; nodes: number }[];
    expect(listed).toEqual([expect.objectContaining({ namespace: NS, nodes: 0 })]);
    const removed = await agentctl(["ns", "rm", NS, "--yes", "-n", NS], as("admin"));
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
    expect(JSON.parse((await agentctl(["ns", "ls", "--json", "-n", NS], as("admin"))).stdout)).toEqual([]);
  });
});
