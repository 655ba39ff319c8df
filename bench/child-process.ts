// Starts a benchmark helper (a `*-main` file) in a child process and waits for
// its ready line. From source (a .ts file, as under vitest or tsx) the child
// runs through tsx's loader; from dist it runs the compiled .js. Every child
// still alive when this process exits is killed, and each one leaves by itself
// when this process goes away (its stdin closes): the contract every main keeps.

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface ChildProcessOptions {
  /** The main file beside the caller, without extension: `childMain(import.meta.url, "./child-node-main")`. */
  main: ChildMain;
  args: string[];
  /** For messages: "node process nk-a". */
  label: string;
  /** How long to wait for the ready line (default 30 s: tsx compiles the sources first). */
  readyTimeoutMs?: number;
  /** Called with each line the child prints on stdout after its ready line. */
  onLine?: (line: string) => void;
}

/** Which file a child runs, and from where. */
export interface ChildMain {
  args: string[];
  cwd: string;
}

/** A helper running in a child process. */
export interface ChildHandle {
  readonly pid: number;
  /** The JSON object the child printed as its ready line (it has a `ready` field). */
  readonly ready: Readonly<Record<string, unknown>>;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Send `signal` (default SIGKILL: a crash) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Leave gracefully (SIGTERM), SIGKILL after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killAllNow(): void {
  for (const child of live) child.kill("SIGKILL");
}

/**
 * The command that runs `name` (a path relative to `here`, no extension) from
 * source or from dist, whichever `here` is.
 *
 * @example
 * childMain(import.meta.url, "./responders/raw-responder-main")
 */
export function childMain(here: string, name: string): ChildMain {
  const cwd = fileURLToPath(new URL("..", import.meta.url));
  if (here.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(here).resolve("tsx")).href;
    return { args: ["--import", tsx, fileURLToPath(new URL(`${name}.ts`, here))], cwd };
  }
  return { args: [fileURLToPath(new URL(`${name}.js`, here))], cwd };
}

/**
 * Start a child and wait for the first stdout line that is a JSON object with
 * a `ready` field.
 *
 * @example
 * const c = await startChildProcess({ main: childMain(import.meta.url, "./x-main"), args: ["--servers", url], label: "x" });
 * ctx.defer(() => c.stop());
 */
export async function startChildProcess(o: ChildProcessOptions): Promise<ChildHandle> {
  const child = spawn(process.execPath, [...o.main.args, ...o.args], { cwd: o.main.cwd, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  if (!hooked) {
    hooked = true;
    process.once("exit", killAllNow);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const gone = (): void => {
      exited = true;
      live.delete(child);
      resolve();
    };
    child.once("exit", gone);
    child.once("error", gone);
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

  const readyTimeoutMs = o.readyTimeoutMs ?? 30_000;
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`${o.label} did not start within ${readyTimeoutMs / 1000} s${tail(stderr)}`)), readyTimeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      void killAndWait("SIGKILL");
      reject(err);
    };
    let isReady = false;
    lines.on("line", (line) => {
      if (isReady) return o.onLine?.(line);
      try {
        const msg = JSON.parse(line) as Record<string, unknown> | null;
        if (msg !== null && typeof msg === "object" && "ready" in msg) {
          isReady = true;
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        // not the ready line
      }
    });
    void exit.then(() => fail(new Error(`${o.label} exited before it was ready${tail(stderr)}`)));
  });

  return {
    pid: typeof ready.pid === "number" ? ready.pid : (child.pid ?? -1),
    ready,
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

/** Whether a process with `pid` still runs (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
