// agentctl dev: a local NATS server for development, from the project's
// nats.conf (loopback only, JetStream on), in the foreground or detached;
// with --cluster, a 3-server NATS cluster on loopback to try Troupe on
// (`--replicas 3`), in the foreground until Ctrl-C.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { natsServerBinary } from "../nats-binary.js";
import { packageRoot } from "../package-root.js";
import { probeServer, serverAddress } from "../server-probe.js";
import { untilSignal } from "../signals.js";
import { positiveInteger } from "../option-parsers.js";
import { startNatsCluster } from "../../runtime/testing/nats-cluster.js";
import { Authority } from "../../runtime/auth/authority.js";
import { hasAuthority, writeAuthDir } from "../auth-dir.js";
import { devAuthDir } from "../dev-credentials.js";

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

/**
 * `--secure`: the development credentials in `.nats/auth` (made on first use, with an account
 * for the namespace, added when another namespace is asked for), and a server configuration
 * for `port` that trusts only them. The store is apart from the unsecured server's.
 */
async function secureLayout(root: string, port: number, namespace: string, note: (text: string) => void): Promise<{ cwd: string; args: string[]; store: string }> {
  const { authority } = await devAuthority(namespace, note);
  const { conf, store } = writeSecureConfig(authority, port);
  return { cwd: root, args: ["-c", conf], store };
}

/** The development authority in `.nats/auth`: made on first use, given an account for `namespace` when it has none. */
async function devAuthority(namespace: string, note: (text: string) => void): Promise<{ authority: Authority; added: boolean }> {
  const dir = devAuthDir();
  const where = relative(process.cwd(), dir) || ".";
  if (!hasAuthority(dir)) {
    const authority = await Authority.create(namespace);
    await writeAuthDir(dir, authority, namespace, { serverConfig: false });
    note(`development credentials written to ${where} (admin, node, client, observer)`);
    return { authority, added: true };
  }
  const authority = await Authority.load(dir);
  if (authority.namespaces.includes(namespace)) return { authority, added: false };
  await authority.addNamespace(namespace);
  await writeAuthDir(dir, authority, namespace, { serverConfig: false });
  note(`namespace ${namespace} added to the development credentials in ${where}`);
  return { authority, added: true };
}

/** The secured server's configuration for `port` (and its pid file, so a later run can make it reload). */
function writeSecureConfig(authority: Authority, port: number): { conf: string; store: string; pidFile: string } {
  const dir = devAuthDir();
  const own = port === DEFAULT_PORT;
  const store = join(dir, own ? "jetstream" : `jetstream-${port}`);
  const conf = join(dir, own ? "server.conf" : `server-${port}.conf`);
  const pidFile = join(dir, `nats-server-${port}.pid`);
  const extra = `pid_file: ${JSON.stringify(pidFile)}`;
  writeFileSync(conf, authority.serverConfig({ port, storeDir: store, httpPort: own ? 8222 : undefined, serverName: "troupe-dev", extra }), { mode: 0o600 });
  return { conf, store, pidFile };
}

/**
 * `--secure` with a secured development server already running: a namespace it
 * has no account for is added, and the server reloads its configuration
 * (SIGHUP to the pid in its pid file), so its credentials work at once.
 */
async function addToRunning(port: number, namespace: string, f: Factory): Promise<void> {
  const { authority, added } = await devAuthority(namespace, (t) => f.out.note(t));
  if (!added) return;
  const { conf, pidFile } = writeSecureConfig(authority, port);
  const pid = serverPid(pidFile, conf);
  if (pid === undefined) {
    f.out.note(`the running server was not started by agentctl dev --secure here: reload it yourself (nats-server --signal reload) to use namespace ${namespace}`);
    return;
  }
  process.kill(pid, "SIGHUP");
  f.out.note(`the server (pid ${pid}) reloaded its configuration: namespace ${namespace}'s credentials work now`);
}

/**
 * The pid in `pidFile` when it is a live nats-server running `conf` (its
 * command line names the file); undefined otherwise: a pid file left behind
 * may name another process by now, and an empty one would name the group.
 */
function serverPid(pidFile: string, conf: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return cmdline.includes(conf) ? pid : undefined;
  } catch {
    return undefined;
  }
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

/** `--port 4222`: a TCP port. */
function parsePort(value: string): number {
  const n = positiveInteger(value);
  if (n > 65_535) throw new InvalidArgumentError("expected a port from 1 to 65535.");
  return n;
}

/** How many servers `--cluster` runs. */
const CLUSTER_SIZE = 3;

/**
 * `agentctl dev --cluster`: three servers on `port`, `port + 1`, `port + 2`
 * (routes on free ports), each with its store in `.nats/cluster-<port>/n<i>`;
 * prints their URLs and how to use them, and stops all three on Ctrl-C.
 */
async function runCluster(f: Factory, port: number): Promise<void> {
  const ports = Array.from({ length: CLUSTER_SIZE }, (_, i) => port + i);
  if (ports.at(-1)! > 65_535) throw new UsageError(`--port ${port} leaves no room for ${CLUSTER_SIZE} servers (the last would be on ${ports.at(-1)})`);
  for (const p of ports) {
    if (await probeServer(`nats://127.0.0.1:${p}`)) throw new UsageError(`something already answers on port ${p}; pick another with --port`);
  }
  natsServerBinary((text) => f.out.note(text));
  const storeRoot = join(packageRoot(), ".nats", `cluster-${port}`);
  mkdirSync(storeRoot, { recursive: true });
  const signal = untilSignal();
  const cluster = await startNatsCluster(CLUSTER_SIZE, { port, storeRoot, name: "troupe-dev" });
  f.out.line(`NATS cluster running: ${cluster.servers.map((s) => `${s.name} ${s.url}`).join(", ")} (JetStream stores in ${relative(process.cwd(), storeRoot) || "."}); press Ctrl-C to stop`);
  // A NATS client given one server learns the others from it, and moves to them when it dies.
  f.out.note(`use it with: agentctl node start --server ${cluster.urls[0]} --replicas 3 ...  (or startNode({ servers: [${cluster.urls.map((u) => JSON.stringify(u)).join(", ")}], replicas: 3 }))`);
  await signal;
  await cluster.dispose();
  f.out.note("NATS cluster stopped");
}

/** Register `agentctl dev [--detach] [--secure] [--cluster [--port P]]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("dev")
    .summary("run a local NATS server for development")
    .description("run a local NATS server (nats.conf: loopback, JetStream in .nats/data) unless one already answers at --server")
    .option("-d, --detach", "start it in the background, wait until it answers, print its pid and exit")
    .option(
      "--secure",
      "require credentials: the server trusts only those in .nats/auth (made on first use: admin, node, client, observer\n" +
        "for the namespace), and agentctl on this machine uses them without flags (admin; node for `node start`)",
    )
    .option("--cluster", "run a 3-server NATS cluster instead (ports P, P+1, P+2), to try Troupe with --replicas 3")
    .option("--port <port>", "with --cluster: the first server's client port (default: the --server port, 4222)", parsePort)
    .action(
      f.action(async (opts: { detach?: boolean; cluster?: boolean; port?: number; secure?: boolean }) => {
        const { server } = f.connection();
        const namespace = f.namespace();
        const { host, port } = serverAddress(server);
        if (opts.cluster) {
          if (opts.detach) throw new UsageError("--cluster runs in the foreground: it cannot be combined with --detach");
          if (opts.secure) throw new UsageError("--secure runs one server: it cannot be combined with --cluster");
          if (!LOOPBACK.has(host)) throw new UsageError(`agentctl dev runs servers on this machine, but --server points at ${host}`);
          return runCluster(f, opts.port ?? port);
        }
        if (opts.port !== undefined) throw new UsageError("--port goes with --cluster; for one server, use --server nats://127.0.0.1:PORT");
        const running = await probeServer(server);
        if (running) {
          const secured = (running as { auth_required?: boolean }).auth_required === true;
          f.out.line(`a NATS server is already running at ${server}${secured ? " (it requires credentials)" : ""}`);
          if (opts.secure && !secured) f.out.note("it does not require credentials: stop it first to run one with --secure");
          if (opts.secure && secured && LOOPBACK.has(host)) await addToRunning(port, namespace, f);
          return;
        }
        if (!LOOPBACK.has(host)) {
          throw new UsageError(`agentctl dev runs a server on this machine, but --server points at ${host}; use nats://127.0.0.1:PORT`);
        }
        const bin = natsServerBinary((text) => f.out.note(text));
        const root = packageRoot();
        const { cwd, args, store } = opts.secure ? await secureLayout(root, port, namespace, (t) => f.out.note(t)) : layout(root, port);
        const url = `nats://127.0.0.1:${port}`;
        const where = `${opts.secure ? "credentials required, " : ""}JetStream store ${relative(process.cwd(), store) || "."}`;

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
