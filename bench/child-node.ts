// Starts a Troupe node in a child process (child-node-main), for scenarios
// that kill nodes the hard way. From source (a .ts file, as under vitest or
// tsx) the child runs through tsx's loader; from dist it runs the compiled .js.
// Every child still alive when this process exits is killed, and each one
// leaves by itself when this process goes away (its stdin closes).

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface ChildNodeOptions {
  servers: string;
  namespace: string;
  /** The node's id. */
  name: string;
  heartbeatMs: number;
  /** How long to wait for the node to serve (default 30 s: tsx compiles the sources first). */
  readyTimeoutMs?: number;
}

/** A node running in a child process. */
export interface ChildNode {
  readonly id: string;
  readonly pid: number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Send `signal` (default SIGKILL: a crash) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Leave gracefully (SIGTERM, the node closes), SIGKILL after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killAllNow(): void {
  for (const child of live) child.kill("SIGKILL");
}

/** The command that runs child-node-main next to this file, from source or from dist. */
function command(): { args: string[]; cwd: string } {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(here).resolve("tsx")).href;
    return { args: ["--import", tsx, fileURLToPath(new URL("./child-node-main.ts", here))], cwd: fileURLToPath(new URL("..", here)) };
  }
  return { args: [fileURLToPath(new URL("./child-node-main.js", here))], cwd: fileURLToPath(new URL("..", here)) };
}

/**
 * Start a node process and wait until it serves.
 *
 * @example
 * const n = await startChildNode({ servers: server.url, namespace: "nk", name: "nk-a", heartbeatMs: 250 });
 * ctx.defer(() => n.stop());
 * await n.kill(); // SIGKILL
 */
export async function startChildNode(o: ChildNodeOptions): Promise<ChildNode> {
  const { args, cwd } = command();
  const child = spawn(
    process.execPath,
    [...args, "--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--heartbeat-ms", String(o.heartbeatMs)],
    { cwd, stdio: ["pipe", "pipe", "pipe"] },
  );
  live.add(child);
  if (!hooked) {
    hooked = true;
    process.once("exit", killAllNow);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once("error", () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  child.stdin!.on("error", () => {}); // EPIPE once the child is gone

  const killAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    if (!exited) child.kill(signal);
    await exit;
  };

  const ready = await new Promise<{ ready: string; pid: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`node process ${o.name} did not start within ${(o.readyTimeoutMs ?? 30_000) / 1000} s${tail(stderr)}`)), o.readyTimeoutMs ?? 30_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      void killAndWait("SIGKILL");
      reject(err);
    };
    lines.on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: string; pid?: number };
        if (typeof msg.ready === "string") {
          clearTimeout(timer);
          resolve({ ready: msg.ready, pid: msg.pid ?? child.pid ?? -1 });
        }
      } catch {
        // not the ready line
      }
    });
    void exit.then(() => fail(new Error(`node process ${o.name} exited before it served${tail(stderr)}`)));
  });

  return {
    id: ready.ready,
    pid: ready.pid,
    get exited() {
      return exited;
    },
    kill: (signal = "SIGKILL") => killAndWait(signal),
    async stop(graceMs = 5_000) {
      if (exited) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([exit.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (late) await killAndWait("SIGKILL");
    },
  };
}

function tail(stderr: string): string {
  const t = stderr.trim();
  return t ? `: ${t.split("\n").slice(-5).join(" / ")}` : "";
}
