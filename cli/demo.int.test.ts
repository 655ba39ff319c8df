// agentctl demo and agentctl dev against a real server.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctl, freePort, REPO_ROOT } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer();

describe("agentctl demo", { timeout: SLOW_MS }, () => {
  it("runs the tour on the given server, shows the agents working, and cleans up", async () => {
    const r = await agentctl(["demo", "--server", nats.url]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`using the NATS server at ${nats.url}`);
    expect(r.stdout).toContain('ask echo/hello {"hello":"troupe"}  →  {"hello":"troupe"}');
    expect(r.stdout).toContain('ask counter/visits {"op":"get"}  →  100  ✓ expected 100');
    expect(r.stdout).toContain("✗ flaky/w1 failed: dropped job 3");
    expect(r.stdout).toContain("✗ flaky/w1 failed: killed: demo: simulated crash");
    expect(r.stdout.match(/✓ flaky\/w1 is running again/g)).toHaveLength(2);
    expect(r.stdout).toContain('ask flaky/w1 {"job":5}  →  {"job":5,"done":4}');
    expect(r.stdout).toMatch(/^\s+flaky\/w1\s+demo-node\s+running\s+\S+\s+\d+\s+2$/m);
    expect(r.stdout).toMatch(/└── flaky\/w1 {2}running {2}restarts 2/);
    const namespace = /namespace (demo-[0-9a-f]+)/.exec(r.stdout)![1];
    expect(r.stdout).toContain(`removed namespace ${namespace}`);

    // Nothing of the demo's namespace is left on the server.
    const left = await agentctl(["kv", "ls", "--json", "--server", nats.url, "--namespace", namespace!]);
    expect(left.code).toBe(4);
    expect(left.stderr).toMatch(/does not exist/);
    const ps = await agentctl(["ps", "--server", nats.url, "--namespace", namespace!]);
    expect(ps.code).toBe(4);
    expect(ps.stderr).toContain(`namespace "${namespace}" does not exist`);
  });
});

describe("agentctl dev", { timeout: SLOW_MS }, () => {
  it("says so and exits 0 when a server already answers", async () => {
    const r = await agentctl(["dev", "--server", nats.url]);
    expect(r).toMatchObject({ code: 0, stdout: `a NATS server is already running at ${nats.url}\n` });
  });

  it("--detach starts a server from nats.conf, prints its pid, and exits 0", async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const r = await agentctl(["dev", "--detach", "--server", url]);
    const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
    try {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`NATS server running at ${url}`);
      expect(pid).toBeGreaterThan(0);
      const ps = await agentctl(["ps", "--server", url, "--namespace", "dev-test"]);
      // A read-only command creates nothing: on a fresh server the namespace does not exist yet.
      expect(ps.code).toBe(4);
      expect(ps.stderr).toContain('namespace "dev-test" does not exist');
    } finally {
      if (pid > 0) process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && pid > 0; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((res) => setTimeout(res, 50));
        } catch {
          break;
        }
      }
      rmSync(join(REPO_ROOT, ".nats", `port-${port}`), { recursive: true, force: true });
      rmSync(join(REPO_ROOT, ".nats", `nats-server-${port}.log`), { force: true });
    }
  });
});
