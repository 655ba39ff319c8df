// agentctl demo and agentctl dev against a real server; the demo's model
// agents against its own scripted model, and with --model against a scripted
// model server the test starts.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { startModelServer } from "../runtime/testing/model-server.js";
import { demoResponder, TASKS } from "./demo-model-script.js";
import { agentctl, freePort, REPO_ROOT } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer();

/** The lines every run of the model-agent team prints, whatever model it talks to (the model says the same). */
function expectTeamStory(stdout: string): void {
  for (const t of TASKS) {
    expect(stdout).toContain(`→ delegate worker/${t.worker}  ${t.prompt}`);
    expect(stdout).toContain(`← worker/${t.worker}  ${t.answer}`);
  }
  expect(stdout).toContain("⏸ reviewer/p1 waits for a person to approve publish:");
  expect(stdout).toMatch(/^ +title +Welcome to Troupe$/m);
  expect(stdout).toContain("✓ approving as the demo operator");
  expect(stdout).toContain('← reviewer/p1  Published "Welcome to Troupe" at demo.published.');
  expect(stdout).toContain('planner/p1: The note is ready: three workers wrote a line each, and the reviewer says: Published "Welcome to Troupe" at demo.published.');
  expect(stdout).toMatch(/done +3 model calls, \d+ tokens in, \d+ out/);
  expect(stdout).toContain('kv get demo.published  →  "Welcome to Troupe" by reviewer/p1');
  // In that order: delegation, approval, the reviewer's answer, the final answer.
  const at = (s: string) => stdout.indexOf(s);
  expect(at("→ delegate worker/w1")).toBeLessThan(at("⏸ reviewer/p1"));
  expect(at("⏸ reviewer/p1")).toBeLessThan(at("✓ approving as the demo operator"));
  expect(at("✓ approving as the demo operator")).toBeLessThan(at("← reviewer/p1"));
  expect(at("← reviewer/p1")).toBeLessThan(at("planner/p1: "));
}

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
    expect(r.stdout).toMatch(/model {3}the scripted model server at http:\/\/127\.0\.0\.1:\d+\/v1 \(started by the demo/);
    expectTeamStory(r.stdout);
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

  it("--model runs the team against that endpoint, with --model-name, and --api-key over OPENAI_API_KEY", async () => {
    const model = await startModelServer(demoResponder, { apiKey: "key-from-flag" });
    try {
      const r = await agentctl(["demo", "--server", nats.url, "--model", model.url, "--model-name", "demo-test-model", "--api-key", "key-from-flag"], {
        OPENAI_API_KEY: "key-from-env",
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`model   demo-test-model at ${model.url} (what happens is up to the model)`);
      expect(r.stdout).not.toContain("scripted model server");
      expectTeamStory(r.stdout);
      // planner 3, workers 3, reviewer 2: every one reached this server, naming the model given.
      expect(model.calls).toBe(8);
      expect(new Set(model.requests.map((q) => q.model))).toEqual(new Set(["demo-test-model"]));
    } finally {
      await model.close();
    }
  });

  it("--api-key defaults to OPENAI_API_KEY", async () => {
    const model = await startModelServer(demoResponder, { apiKey: "key-from-env" });
    try {
      const r = await agentctl(["demo", "--server", nats.url, "--model", model.url], { OPENAI_API_KEY: "key-from-env" });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`model   gpt-4o-mini at ${model.url}`);
      expect(r.stdout).toContain("✓ approving as the demo operator");
      expect(model.calls).toBe(8);
    } finally {
      await model.close();
    }
  });

  it("refuses a --model that is not an http(s) URL as a usage error, and --help explains both ways", async () => {
    const bad = await agentctl(["demo", "--model", "localhost:11434"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("expected the http(s) base URL of an OpenAI-compatible API");
    const help = await agentctl(["demo", "--help"]);
    expect(help.code).toBe(0);
    for (const text of ["--model <url>", "--model-name <name>", "--api-key <key>", "OPENAI_API_KEY", "scripted OpenAI-compatible model server", "as the demo operator"]) {
      expect(help.stdout).toContain(text);
    }
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
