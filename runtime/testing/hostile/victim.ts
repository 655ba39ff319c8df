// Starts the hostile tests' victim node (victim-main.ts) in a child process
// and watches it: whether it is still running, and what it wrote to stderr.

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A victim node process. */
export interface Victim {
  readonly id: string;
  /** The exit code or signal once it ended; undefined while it runs. */
  readonly ended: string | undefined;
  /** Everything it wrote to stderr (its last 8 KB). */
  readonly stderr: string;
  /** Close its stdin (it leaves the cluster and exits) and wait, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Start the victim with Node's default `--unhandled-rejections=throw` and the given Node flags. */
export async function startVictim(o: { servers: string; namespace: string; name: string; nodeArgs?: string[] }): Promise<Victim> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const main = fileURLToPath(new URL("./victim-main.ts", import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [...(o.nodeArgs ?? []), "--import", tsx, main, "--servers", o.servers, "--namespace", o.namespace, "--name", o.name],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let ended: string | undefined;
  let stderr = "";
  const exit = new Promise<void>((resolve) => child.once("exit", (code, signal) => ((ended = signal ?? `exit ${code}`), resolve())));
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  child.stdin!.on("error", () => {});
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`victim did not start within 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { ready: string }).ready);
    });
    void exit.then(() => reject(new Error(`victim exited before it served (${ended}): ${stderr}`)));
  });
  return {
    id,
    get ended() {
      return ended;
    },
    get stderr() {
      return stderr;
    },
    async stop() {
      if (ended) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
