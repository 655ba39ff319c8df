// Test support: the built agentctl (`node dist/cli/main.js`, as `npm install`
// ships it) run in a directory of the test's choosing, for what differs from
// running it from source through tsx: loading a user's TypeScript agents module.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { agentctlCommand, REPO_ROOT, type Finished } from "./agentctl-process.js";

/** The built CLI's entry point. */
export const BUILT_MAIN = join(REPO_ROOT, "dist", "cli", "main.js");

/**
 * Run the built agentctl in `cwd` to completion, or until its stdout matches
 * `until` or `timeoutMs` passed: then it gets SIGTERM (Ctrl-C's twin) and ends.
 */
export function builtAgentctl(args: readonly string[], cwd: string, opts: { until?: RegExp; timeoutMs?: number } = {}): Promise<Finished> {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` first`);
  const { env } = agentctlCommand([]);
  const child = spawn(process.execPath, [BUILT_MAIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    if (opts.until?.test(stdout)) child.kill("SIGTERM");
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}
