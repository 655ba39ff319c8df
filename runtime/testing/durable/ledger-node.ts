// Starts a ledger node (ledger-node-main.ts) in a child process for the
// durable-mailbox crash tests, and collects what it says it applied.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A ledger node process. */
export interface LedgerNode {
  readonly id: string;
  /** Ids its ledgers applied (not necessarily committed), in order. */
  readonly applied: readonly string[];
  /** SIGKILL it and wait for it to be gone: a crash. */
  kill(): Promise<void>;
  /** Close its stdin (it closes its node and exits) and wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Start a ledger node that spawns the ledgers `spawn` (keys), and wait until it serves. */
export async function startLedgerNode(o: { servers: string; namespace: string; name: string; heartbeatMs: number; spawn: string[] }): Promise<LedgerNode> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const main = fileURLToPath(new URL("./ledger-node-main.ts", import.meta.url));
  const args = ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--heartbeat-ms", String(o.heartbeatMs), "--spawn", o.spawn.join(",")];
  const child = spawn(process.execPath, ["--import", tsx, main, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let ended = false;
  let stderr = "";
  const applied: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => ((ended = true), resolve())));
  // Every line it wrote before it died is read before the exit counts.
  const drained = new Promise<void>((resolve) => child.stdout!.once("close", resolve));
  const exit = Promise.all([exited, drained]).then(() => undefined);
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  child.stdin!.on("error", () => {});
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ledger node ${o.name} did not start within 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const msg = JSON.parse(line) as { ready?: string; applied?: string };
      if (msg.applied !== undefined) applied.push(msg.applied);
      if (msg.ready !== undefined) {
        clearTimeout(timer);
        resolve(msg.ready);
      }
    });
    void exited.then(() => reject(new Error(`ledger node ${o.name} exited before it served: ${stderr}`)));
  });
  return {
    id,
    applied,
    async kill() {
      if (!ended) child.kill("SIGKILL");
      await exit;
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
