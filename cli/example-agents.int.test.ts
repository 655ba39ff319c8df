// The example agents file the README points to (actors/examples/agents.ts),
// run as a new user would: the built agentctl starts a node with it, then
// spawns the greeter and asks it, which asks the tally.

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctlCommand, REPO_ROOT } from "./testing/agentctl-process.js";
import { BUILT_MAIN, builtAgentctl } from "./testing/built-agentctl.js";

const SLOW_MS = 60_000;

const nats = useNatsServer();

describe("actors/examples/agents.ts", { timeout: SLOW_MS }, () => {
  it("agentctl node start --agents actors/examples/agents.ts hosts its agents: the greeter answers and the tally counts", async () => {
    const flags = ["--server", nats.url, "--namespace", "examples"];
    const node = spawn(process.execPath, [BUILT_MAIN, "node", "start", "--agents", "actors/examples/agents.ts", ...flags], {
      cwd: REPO_ROOT,
      env: agentctlCommand([]).env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    node.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    node.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    const ended = new Promise<number | null>((resolve) => node.once("close", (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        node.stdout.on("data", () => /ready in namespace examples/.test(out) && resolve());
        void ended.then(() => reject(new Error(`the node ended: ${out}`)));
      });
      expect(out).toMatch(/hosting echo, counter, greeter, tally$/m);
      const spawned = await builtAgentctl(["spawn", "greeter", "--key", "g1", ...flags], REPO_ROOT);
      expect(spawned).toMatchObject({ code: 0, stdout: "greeter/g1\n" });
      const first = await builtAgentctl(["ask", "greeter/g1", '{"name":"Ada"}', ...flags], REPO_ROOT);
      expect(first).toMatchObject({ code: 0, stdout: '"hello, Ada: visitor number 1"\n' });
      const second = await builtAgentctl(["ask", "greeter/g1", '{"name":"Grace"}', ...flags], REPO_ROOT);
      expect(second.stdout).toBe('"hello, Grace: visitor number 2"\n');
      const count = await builtAgentctl(["ask", "tally/visits", '{"op":"get"}', ...flags], REPO_ROOT);
      expect(count).toMatchObject({ code: 0, stdout: "2\n" });
    } finally {
      node.kill("SIGTERM");
      await ended;
    }
  });
});
