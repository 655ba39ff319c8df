// Test support: agentctl run as a child process from its TypeScript source
// (`node --import tsx cli/main.ts`), so tests need no build. Shared by the
// cli/*.test.ts files.

import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (agentctl runs with it as working directory). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAIN = join(REPO_ROOT, "cli", "main.ts");

/** A configuration directory that does not exist: agentctl finds no NATS CLI context unless a test gives XDG_CONFIG_HOME. */
const NO_CONFIG_DIR = join(REPO_ROOT, "cli", "fixtures", "no-config-dir");

/** What a finished agentctl run left behind. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without the variables that would change agentctl's defaults. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["NATS_URL", "NATS_CREDS", "NATS_CONTEXT", "NATS_CA", "NATS_CERT", "NATS_KEY", "TROUPE_NAMESPACE", "AGENTCTL_DEBUG", "TROUPE_OTLP", "OTEL_EXPORTER_OTLP_ENDPOINT"]) delete env[name];
  // No NATS CLI context of the machine's user is selected behind a test's back.
  env.XDG_CONFIG_HOME = NO_CONFIG_DIR;
  // Nor the development credentials of `agentctl dev --secure` in the checkout.
  env.TROUPE_DEV_AUTH_DIR = join(NO_CONFIG_DIR, "auth");
  return { ...env, ...extra };
}

function launch(args: readonly string[], env?: Record<string, string>, input?: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (input !== undefined) {
    // A reader that stops early (a usage error before reading) is not the test's failure.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input);
  }
  return child;
}

/** A running agentctl: its output so far, a way to wait for a line, and its end. */
export class AgentctlProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<Finished>;
  private readonly child: ChildProcess;

  /** `input`, when given, is piped to agentctl's stdin (else stdin is empty). */
  constructor(args: readonly string[], env?: Record<string, string>, input?: string) {
    this.child = launch(args, env, input);
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Resolves with stdout (or, with `stream` "stderr", stderr) once it matches
   * `pattern`; rejects if the process ends first or time runs out. The two
   * are separate pipes: a line on one says nothing of what reached the other.
   */
  async waitFor(pattern: RegExp, timeoutMs = 60_000, stream: "stdout" | "stderr" = "stdout"): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      const text = stream === "stdout" ? this.stdout : this.stderr;
      if (pattern.test(text)) return text;
      if (ended) throw new Error(`agentctl exited before printing ${pattern}: ${this.stdout}${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`agentctl did not print ${pattern} within ${timeoutMs} ms: ${this.stdout}${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Send a signal and wait for the end. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<Finished> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** How to start agentctl (command, arguments, environment, directory), for a test that spawns it itself (an MCP client's stdio transport). */
export function agentctlCommand(args: readonly string[], env?: Record<string, string>): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
  const e = Object.fromEntries(Object.entries(cleanEnv(env)).filter((kv): kv is [string, string] => kv[1] !== undefined));
  return { command: process.execPath, args: ["--import", "tsx", MAIN, ...args], env: e, cwd: REPO_ROOT };
}

/** Run agentctl to completion. */
export function agentctl(args: readonly string[], env?: Record<string, string>): Promise<Finished> {
  return new AgentctlProcess(args, env).exited;
}

/** Run agentctl to completion with `input` piped to its stdin (`agentctl tell ID -`). */
export function agentctlWithInput(args: readonly string[], input: string, env?: Record<string, string>): Promise<Finished> {
  return new AgentctlProcess(args, env, input).exited;
}

/** A loopback port nothing listens on (it was free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
