// Starts a model node (model-node-main.ts) in a child process for the
// resume-after-crash tests and bench, and collects what its tool reports.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StepReport } from "./looper.js";

/** A model node process. */
export interface ModelNode {
  readonly id: string;
  /** What its looper's tool reported, in order. */
  readonly reports: readonly StepReport[];
  /** SIGKILL it and wait for it to be gone: a crash. */
  kill(): Promise<void>;
  /** Close its stdin (it closes its node and exits) and wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Start a model node and wait until it serves. */
export async function startModelNode(o: { servers: string; namespace: string; name: string; modelUrl: string; toolMs: number }): Promise<ModelNode> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const main = fileURLToPath(new URL("./model-node-main.ts", import.meta.url));
  const args = ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--model-url", o.modelUrl, "--tool-ms", String(o.toolMs)];
  const child = spawn(process.execPath, ["--import", tsx, main, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let ended = false;
  let stderr = "";
  const reports: StepReport[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => ((ended = true), resolve())));
  const drained = new Promise<void>((resolve) => child.stdout!.once("close", resolve));
  const exit = Promise.all([exited, drained]).then(() => undefined);
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  child.stdin!.on("error", () => {});
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model node ${o.name} did not start within 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const msg = JSON.parse(line) as { ready?: string } & Partial<{ started: string; finished: string }>;
      if (msg.started !== undefined) reports.push({ started: msg.started });
      if (msg.finished !== undefined) reports.push({ finished: msg.finished });
      if (msg.ready !== undefined) {
        clearTimeout(timer);
        resolve(msg.ready);
      }
    });
    void exited.then(() => reject(new Error(`model node ${o.name} exited before it served: ${stderr}`)));
  });
  return {
    id,
    reports,
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
