// Runs one `scale` measurement (scale-main) in a child process with its
// garbage collector exposed, and collects the JSON lines it prints. The child
// is killed when the run is aborted, when it overruns its time limit, and when
// this process exits; what it printed until then is kept.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { childMain } from "../child-process.js";

/** One line a scale-main process printed. */
export interface ScaleLine {
  phase: string;
  [field: string]: unknown;
}

/** What a child left behind. */
export interface ScaleChildRun {
  lines: ScaleLine[];
  /** Set when the child did not end by itself: killed at its time limit or on abort. */
  killed?: string;
  /** The end of its stderr, when it printed any. */
  stderr: string;
}

export interface ScaleChildOptions {
  servers: string;
  mode: "raw" | "spawned" | "on-demand";
  n: number;
  concurrency: number;
  /** Cap of each activation run inside the child. */
  capMs: number;
  /** The on-demand run also measures passivation and reactivation. */
  idle?: boolean;
  /** Kill the child after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with each line as it arrives (for the run log). */
  onLine?: (line: ScaleLine) => void;
}

/** Heap room for 100,000 agents at several KB each, whatever the machine's default. */
const HEAP_MB = 6144;

/**
 * Run one measurement and return its lines.
 *
 * @example
 * const run = await runScaleChild({ servers: url, mode: "spawned", n: 1000, concurrency: 64, capMs: 90_000, timeoutMs: 300_000, signal });
 */
export function runScaleChild(o: ScaleChildOptions): Promise<ScaleChildRun> {
  const main = childMain(import.meta.url, "./scale-main");
  const args = [
    "--expose-gc",
    `--max-old-space-size=${HEAP_MB}`,
    ...main.args,
    "--servers", o.servers,
    "--mode", o.mode,
    "--n", String(o.n),
    "--concurrency", String(o.concurrency),
    "--cap-ms", String(o.capMs),
    ...(o.idle ? ["--idle"] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: main.cwd, stdio: ["pipe", "pipe", "pipe"] });
  const lines: ScaleLine[] = [];
  let stderr = "";
  let killed: string | undefined;
  const kill = (why: string): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killed ??= why;
    child.kill("SIGKILL");
  };
  const onExit = (): void => kill("the parent exited");
  process.once("exit", onExit);
  const onAbort = (): void => kill("the run was aborted");
  o.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => kill(`it ran past its limit of ${Math.round(o.timeoutMs / 1000)} s`), o.timeoutMs);
  child.stdin.on("error", () => {});
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on("line", (text) => {
    try {
      const line = JSON.parse(text) as ScaleLine;
      if (line !== null && typeof line === "object" && typeof line.phase === "string") {
        lines.push(line);
        o.onLine?.(line);
      }
    } catch {
      // not one of its lines
    }
  });
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off("exit", onExit);
      o.signal.removeEventListener("abort", onAbort);
      resolve({ lines, killed, stderr: stderr.trim() });
    };
    child.once("close", done);
    child.once("error", (err) => {
      stderr += String(err);
      done();
    });
    if (o.signal.aborted) onAbort();
  });
}
