// agentctl dev --secure: a server that trusts only the development
// credentials it writes, and agentctl commands that find them without flags.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { agentctl, AgentctlProcess, freePort } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("agentctl dev --secure", { timeout: SLOW_MS }, () => {
  it("requires credentials, writes them for every role, and the CLI uses them without flags", async () => {
    const auth = mkdtempSync(join(tmpdir(), "troupe-dev-auth-"));
    dirs.push(auth);
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const env = { TROUPE_DEV_AUTH_DIR: auth, NATS_URL: url };
    const dev = new AgentctlProcess(["dev", "--secure"], env);
    let node: AgentctlProcess | undefined;
    let other: AgentctlProcess | undefined;
    try {
      const out = await dev.waitFor(/NATS server running/);
      expect(out).toContain("credentials required");
      for (const role of ["admin", "node", "client", "observer"]) {
        expect(readFileSync(join(auth, `${role}.creds`), "utf8")).toContain("BEGIN USER NKEY SEED");
        expect(statSync(join(auth, `${role}.creds`)).mode & 0o077).toBe(0);
      }
      expect(statSync(join(auth, "authority.json")).mode & 0o077).toBe(0);

      // Anonymous connections are refused.
      await expect(connect({ servers: url, timeout: 3000, reconnect: false })).rejects.toThrow(/Authorization Violation/);

      // A node (node.creds) and the admin commands (admin.creds), all without flags.
      node = new AgentctlProcess(["node", "start", "--name", "dev-n1"], env);
      await node.waitFor(/ready in namespace default/);
      expect((await agentctl(["spawn", "counter", "--key", "c1"], env)).code).toBe(0);
      const asked = await agentctl(["ask", "counter/c1", '{"op":"inc"}'], env);
      expect(asked.stderr).toBe("");
      expect(asked.stdout.trim()).toBe("1");
      const ps = await agentctl(["ps"], env);
      expect(ps.stdout).toContain("counter/c1");

      // The client credential may ask, but not kill.
      const asClient = { ...env, NATS_CREDS: join(auth, "client.creds") };
      expect((await agentctl(["ask", "counter/c1", '{"op":"inc"}'], asClient)).stdout.trim()).toBe("2");
      const kill = await agentctl(["kill", "counter/c1"], asClient);
      expect(kill.code).toBe(6);
      expect(kill.stderr).toMatch(/permission denied/i);
      // Nor list: a refusal, not nodes that look silent.
      const psAsClient = await agentctl(["ps"], asClient);
      expect(psAsClient.code).toBe(6);
      expect(psAsClient.stderr).toMatch(/permission denied: .*\.info/);
      // The observer credential may list.
      expect((await agentctl(["ps"], { ...env, NATS_CREDS: join(auth, "observer.creds") })).stdout).toContain("counter/c1");

      // Another namespace while the server runs: an account of its own, and the server reloads.
      const second = await agentctl(["dev", "--secure", "-n", "other"], env);
      expect(second.stderr).toContain("reloaded its configuration");
      other = new AgentctlProcess(["node", "start", "-n", "other", "--name", "dev-o1"], env);
      await other.waitFor(/ready in namespace other/);
      expect((await agentctl(["spawn", "-n", "other", "counter", "--key", "o"], env)).code).toBe(0);
      expect((await agentctl(["ask", "-n", "other", "counter/o", '{"op":"inc"}'], env)).stdout.trim()).toBe("1");
      // The default namespace's client credential is of another account: it sees nothing of "other".
      const across = await agentctl(["ask", "-n", "other", "counter/o", '{"op":"get"}'], asClient);
      expect(across.code).toBe(2);
      expect(across.stderr).toContain('for namespace "default", not "other"');
    } finally {
      await other?.stop("SIGINT");
      await node?.stop("SIGINT");
      const end = await dev.stop("SIGINT");
      expect(end.stderr).toContain("NATS server stopped");
    }
  });
});
