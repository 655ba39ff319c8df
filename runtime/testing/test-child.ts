// Runs a node main of the test kit (a `*-main.ts` file) in a child process
// through tsx, for the tests that SIGKILL a node or watch it from outside:
// waits for its `{"ready": ...}` line, hands every other JSON line it prints
// to the caller, keeps the tail of its stderr, and stops it by closing its
// stdin (the contract every main keeps: it closes its node and exits).

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A test-kit node running in a child process. */
export interface TestChild {
  /** What its ready line named (`{"ready": "<node id>"}`). */
  readonly id: string;
  /** The exit code or signal once it ended; undefined while it runs. */
  readonly ended: string | undefined;
  /** The tail of what it wrote to stderr (8 KB). */
  readonly stderr: string;
  /** SIGKILL it and wait until it is gone and every line it wrote was read: a crash. */
  kill(): Promise<void>;
  /** Close its stdin (it closes its node and exits) and wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** How to start one: `main` is a URL (`new URL("./x-main.ts", import.meta.url)`). */
export interface TestChildOptions {
  main: URL;
  args: string[];
  /** For errors: "ledger node n1". */
  label: string;
  /** Flags for Node itself (before tsx's loader). */
  nodeArgs?: string[];
  /** Each JSON line it prints other than the ready line, parsed. */
  onLine?: (msg: Record<string, unknown>) => void;
}

/** Start a test-kit main in a child process and wait until it says it is ready (30 s at most). */
export async function startTestChild(o: TestChildOptions): Promise<TestChild> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), "--import", tsx, fileURLToPath(o.main), ...o.args], { stdio: ["pipe", "pipe", "pipe"] });
  let ended: string | undefined;
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.once("exit", (code, signal) => ((ended = signal ?? `exit ${code}`), resolve())));
  // Every line it wrote before it died is read before the exit counts.
  const drained = new Promise<void>((resolve) => child.stdout!.once("close", resolve));
  const exit = Promise.all([exited, drained]).then(() => undefined);
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  child.stdin!.on("error", () => {}); // EPIPE once it is gone
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.label} did not start within 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.ready === "string") {
        clearTimeout(timer);
        resolve(msg.ready);
      } else {
        o.onLine?.(msg);
      }
    });
    void exited.then(() => reject(new Error(`${o.label} exited before it served (${ended}): ${stderr}`)));
  });
  return {
    id,
    get ended() {
      return ended;
    },
    get stderr() {
      return stderr;
    },
    async kill() {
      if (ended === undefined) child.kill("SIGKILL");
      await exit;
    },
    async stop() {
      if (ended !== undefined) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
