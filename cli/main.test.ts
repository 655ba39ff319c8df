// agentctl without a server: help never connects, usage errors exit 2 with
// the command's usage, and an unreachable server is one sentence and exit 3.
// Every case is its own process, so they run concurrently.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, it, type ExpectStatic } from "vitest";
import { agentctl, freePort, REPO_ROOT } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

let deadUrl: string;
beforeAll(async () => {
  deadUrl = `nats://127.0.0.1:${await freePort()}`;
});

const noStack = (expect: ExpectStatic, text: string): void => {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/\.ts:\d+:\d+/);
};

describe.concurrent("help", { timeout: SLOW_MS }, () => {
  it("lists the commands and documents the exit codes", async ({ expect }) => {
    const r = await agentctl(["--help", "--server", deadUrl]);
    expect(r.code).toBe(0);
    for (const cmd of ["dev", "node", "spawn", "ps", "tell", "ask", "stop", "kill", "tree", "state", "kv", "dlq", "demo", "bench"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
    }
    expect(r.stdout).toContain("Exit codes:");
    expect(r.stdout).toMatch(/3\s+not connected/);
    expect(r.stdout).toMatch(/5\s+timeout/);
  });

  it.for([["ps"], ["ask"], ["node", "start"], ["kv", "get"], ["kv", "watch"], ["state"], ["demo"], ["dev"], ["bench"], ["spawn"]])(
    "`%s --help` works without a server",
    async (cmd, { expect }) => {
      const r = await agentctl([...cmd, "--help", "--server", deadUrl]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: agentctl ${cmd.join(" ")}`);
      expect(r.stdout).toContain("--server <url>");
      expect(r.stderr).toBe("");
    },
  );

  it("prints the package version", async ({ expect }) => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const r = await agentctl(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});

describe.concurrent("usage errors exit 2 and show the usage, before connecting", { timeout: SLOW_MS }, () => {
  it.for([
    ["bad JSON", ["ask", "counter/c1", "{op:inc}"], /MESSAGE is not valid JSON/],
    ["bad JSON for tell", ["tell", "counter/c1", "not json"], /MESSAGE is not valid JSON/],
    ["bad --args", ["spawn", "counter", "--args", "{"], /--args is not valid JSON/],
    ["bad agent id", ["stop", "counter"], /invalid agent id "counter": expected TYPE\/KEY/],
    ["bad --timeout", ["ask", "echo/e", "1", "--timeout", "soon"], /--timeout <ms>' argument 'soon' is invalid/],
    ["bad --restart", ["spawn", "counter", "--restart", "sometimes"], /argument 'sometimes' is invalid/],
    ["bad agent type", ["spawn", "no such!"], /invalid agent type "no such!"/],
    ["bad --key", ["spawn", "counter", "--key", "a.b"], /invalid agent key "a.b"/],
    ["bad namespace", ["ps", "--namespace", "Not Valid"], /invalid namespace "Not Valid"/],
    ["unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
    ["missing argument", ["ask", "echo/e"], /missing required argument 'message'/],
    ["missing agents module", ["node", "start", "--agents", "cli/fixtures/missing.ts"], /agents module cli\/fixtures\/missing.ts does not exist/],
  ] as const)("%s", async ([, args, message], { expect }) => {
    const r = await agentctl([...args, "--server", deadUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Usage: agentctl/);
    expect(r.stderr).not.toContain("cannot reach");
    noStack(expect, r.stderr);
  });
});

describe.concurrent("an unreachable server", { timeout: SLOW_MS }, () => {
  it.for([["ps"], ["ps", "--json"], ["ask", "counter/c1", '{"op":"get"}'], ["kv", "ls"], ["tree"], ["state", "counter/c1"]])(
    "`%s` prints one sentence naming the URL and `agentctl dev`, exit 3",
    async (args, { expect }) => {
      const r = await agentctl([...args, "--server", deadUrl, "--namespace", "nowhere"]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(deadUrl);
      expect(lines[0]).toContain("agentctl dev");
      noStack(expect, r.stderr);
    },
  );

  it("takes the URL from NATS_URL when --server is not given", async ({ expect }) => {
    const r = await agentctl(["ps"], { NATS_URL: deadUrl });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(deadUrl);
  });
});
