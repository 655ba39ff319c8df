// agentctl dev: a local NATS server for development, from the project's
// nats.conf (loopback only, JetStream on), in the foreground or detached.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { natsServerBinary } from "../nats-binary.js";
import { packageRoot } from "../package-root.js";
import { probeServer, serverAddress } from "../server-probe.js";
import { untilSignal } from "../signals.js";

const DEFAULT_PORT = 4222;
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** How to run the server for a port: the config's defaults on 4222, a store of its own on any other port. */
function layout(root: string, port: number): { cwd: string; args: string[]; store: string } {
  const conf = join(root, "nats.conf");
  if (port === DEFAULT_PORT) return { cwd: root, args: ["-c", conf], store: join(root, ".nats", "data") };
  // nats.conf's store_dir is relative to the working directory: give this port its own, and no monitoring port clash.
  const cwd = join(root, ".nats", `port-${port}`);
  mkdirSync(cwd, { recursive: true });
  return { cwd, args: ["-c", conf, "-p", String(port), "-m", "0"], store: join(cwd, ".nats", "data") };
}

/** Resolves once a JetStream-enabled server answers at `url`; rejects when the child exits first or time runs out. */
async function ready(url: string, child: ChildProcess, output: () => string): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`nats-server exited during startup (${exited}): ${lastProblem(output())}`);
    const info = await probeServer(url, 500);
    if (info?.jetstream) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not answer at ${url} within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The most telling line of a server's output: its last error, else its last line. */
function lastProblem(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const bad = lines.filter((l) => /\[(ERR|FTL)\]|error/i.test(l));
  return (bad.at(-1) ?? lines.at(-1) ?? "no output").replace(/^\[\d+\] \S+ \S+ /, "");
}

/** Register `agentctl dev [--detach]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("dev")
    .summary("run a local NATS server for development")
    .description("run a local NATS server (nats.conf: loopback, JetStream in .nats/data) unless one already answers at --server")
    .option("-d, --detach", "start it in the background, wait until it answers, print its pid and exit")
    .action(
      f.action(async (opts: { detach?: boolean }) => {
        const { server } = f.globals();
        const { host, port } = serverAddress(server);
        if (await probeServer(server)) {
          f.out.line(`a NATS server is already running at ${server}`);
          return;
        }
        if (!LOOPBACK.has(host)) {
          throw new UsageError(`agentctl dev runs a server on this machine, but --server points at ${host}; use nats://127.0.0.1:PORT`);
        }
        const bin = natsServerBinary((text) => f.out.note(text));
        const root = packageRoot();
        const { cwd, args, store } = layout(root, port);
        const url = `nats://127.0.0.1:${port}`;
        const where = `JetStream store ${relative(process.cwd(), store) || "."}`;

        if (opts.detach) {
          mkdirSync(join(root, ".nats"), { recursive: true });
          const logFile = join(root, ".nats", `nats-server-${port}.log`);
          const fd = openSync(logFile, "a");
          const child = spawn(bin, args, { cwd, detached: true, stdio: ["ignore", fd, fd] });
          closeSync(fd);
          child.unref();
          await ready(url, child, () => {
            try {
              return readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
            } catch {
              return "";
            }
          });
          f.out.line(`NATS server running at ${url} (pid ${child.pid}, ${where}, log ${relative(process.cwd(), logFile)})`);
          f.out.note(`stop it with: kill ${child.pid}`);
          return;
        }

        const signal = untilSignal();
        // Its own process group: Ctrl-C reaches agentctl, which stops the server and reports it.
        const child = spawn(bin, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        const killOnExit = (): void => void child.kill("SIGTERM");
        process.once("exit", killOnExit);
        let tail = "";
        const onOutput = (chunk: Buffer): void => {
          const text = chunk.toString("utf8");
          tail = (tail + text).slice(-8000);
          // The server's own warnings and errors stay visible; its routine log does not.
          for (const l of text.split("\n")) if (/\[(WRN|ERR|FTL)\]/.test(l)) f.out.note(l.replace(/^\[\d+\] \S+ \S+ /, "nats-server: "));
        };
        child.stdout?.on("data", onOutput);
        child.stderr?.on("data", onOutput);
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        try {
          await ready(url, child, () => tail);
        } catch (err) {
          child.kill("SIGKILL");
          throw err;
        }
        f.out.line(`NATS server running at ${url} (pid ${child.pid}, ${where}); press Ctrl-C to stop`);
        const outcome = await Promise.race([signal, exited.then((code) => ({ code }))]);
        if (typeof outcome === "object") {
          throw new Error(`nats-server exited (code ${outcome.code}): ${lastProblem(tail)}`);
        }
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        process.off("exit", killOnExit);
        f.out.note("NATS server stopped");
      }),
    );
}
