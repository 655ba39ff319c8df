// Finds and runs a real nats-server: throwaway servers for tests, benchmarks and
// `agentctl demo` (random loopback port, own store directory), and the binary
// `agentctl dev` runs. Part of the public test kit (`troupe/testing`), not of the
// runtime. Infrastructure, so it uses Node's timers directly. A server still
// running when this process exits (or dies of an unhandled SIGINT, SIGTERM or
// SIGHUP) is killed and its temporary directories removed: none is left behind.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestCertificates } from "./tls-certificates.js";

/** The oldest nats-server Troupe runs on. */
const MIN_VERSION = { major: 2, minor: 10 } as const;
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 40;

/** Thrown when no usable nats-server binary is found; the message says how to get one. */
export class NatsServerMissingError extends Error {
  readonly code = "NATS_SERVER_MISSING";
  constructor(details: string[], options?: { cause?: unknown }) {
    super(
      [
        `no usable nats-server (${MIN_VERSION.major}.${MIN_VERSION.minor} or newer) was found`,
        ...details.map((d) => `  - ${d}`),
        "Run `npm run nats-server` (bash scripts/ensure-nats-server.sh) to install one into .nats/bin,",
        "or set NATS_SERVER_BIN to the path of a nats-server binary.",
      ].join("\n"),
      options,
    );
    this.name = new.target.name;
  }
}

/** Options of {@link startNatsServer}. The server always binds 127.0.0.1. */
export interface NatsServerOptions {
  /** Client port; default: a random free port chosen by the server. */
  port?: number;
  /** JetStream store directory; default: a fresh temporary directory, removed by dispose(). */
  storeDir?: string;
  /** Enable JetStream; default true. */
  jetstream?: boolean;
  /** A configuration file (`-c`). The options here are passed as flags and override it. */
  configFile?: string;
  /** Open the monitoring endpoint on a random port too; default false. */
  monitor?: boolean;
  /** Extra command-line arguments. */
  args?: string[];
  /** The server's working directory (relative paths in a config file resolve against it). */
  cwd?: string;
  /** The server's name (`--server_name`). */
  serverName?: string;
  /**
   * Require TLS: certificates are made for the server ({@link NatsServer.tls}: a CA,
   * a server certificate for 127.0.0.1 and localhost, a client certificate), and
   * clients must trust the CA. `{ verify: true }` also requires a client
   * certificate signed by it (mutual TLS). Default: no TLS.
   */
  tls?: boolean | { verify?: boolean };
}

/** The TLS files of a server started with `tls` (paths of PEM files), and whether it verifies clients. */
export interface NatsServerTls extends TestCertificates {
  /** Whether the server requires a client certificate. */
  readonly verify: boolean;
}

/** A running (or stopped, restartable) nats-server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` when the monitoring endpoint is on. */
  readonly monitorUrl?: string;
  readonly storeDir: string;
  /** With the `tls` option: the CA clients trust, and certificates for the server and a client. */
  readonly tls?: NatsServerTls;
  /** The pid of the current process; changes on restart(). */
  readonly pid: number;
  /** SIGTERM (graceful shutdown) and wait for the exit; SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port and store directory (stopping first if running); resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stop if running and remove the temporary directories this module created. Idempotent. */
  dispose(): Promise<void>;
}

// ---- finding the binary ----------------------------------------------------

interface Version {
  major: number;
  minor: number;
  text: string;
}

const versionCache = new Map<string, Version | null>();

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<bin> --version` ("nats-server: v2.10.27"); null when it does not run or says nothing useful. */
function binaryVersion(bin: string): Version | null {
  let key = bin;
  try {
    key = `${bin}\0${statSync(bin).mtimeMs}`;
  } catch {
    return null;
  }
  const cached = versionCache.get(key);
  if (cached !== undefined) return cached;
  let version: Version | null = null;
  try {
    const out = execFileSync(bin, ["--version"], {
      encoding: "utf8",
      timeout: 10_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const m = /v(\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
    if (m) version = { major: Number(m[1]), minor: Number(m[2]), text: m[0].slice(1) };
  } catch {
    version = null;
  }
  versionCache.set(key, version);
  return version;
}

function newEnough(v: Version): boolean {
  return v.major > MIN_VERSION.major || (v.major === MIN_VERSION.major && v.minor >= MIN_VERSION.minor);
}

let packageRootCache: string | undefined;

/** The directory holding Troupe's package.json, found from this file's location (source or dist). */
function packageRoot(): string {
  if (packageRootCache !== undefined) return packageRootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const name: unknown = JSON.parse(readFileSync(pkg, "utf8")).name;
        if (name === "troupe") return (packageRootCache = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Unreachable in a normal checkout or install; fall back to the working directory.
  return (packageRootCache = process.cwd());
}

/**
 * Locates a nats-server binary of version 2.10 or newer: `$NATS_SERVER_BIN` (which, when
 * set, must be usable), `<package root>/.nats/bin/nats-server`, then `nats-server` on PATH.
 * Throws {@link NatsServerMissingError} naming what was found and how to get a good one.
 */
export function findNatsServer(): string {
  const notes: string[] = [];
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    const bin = resolve(fromEnv);
    if (!isExecutableFile(bin)) {
      throw new NatsServerMissingError([`NATS_SERVER_BIN=${fromEnv} is not an executable file`]);
    }
    const v = binaryVersion(bin);
    if (v === null) throw new NatsServerMissingError([`NATS_SERVER_BIN=${fromEnv} does not report a nats-server version`]);
    if (!newEnough(v)) throw new NatsServerMissingError([`NATS_SERVER_BIN=${fromEnv} is version ${v.text}, too old`]);
    return bin;
  }

  const local = join(packageRoot(), ".nats", "bin", "nats-server");
  if (isExecutableFile(local)) {
    const v = binaryVersion(local);
    if (v !== null && newEnough(v)) return local;
    notes.push(`${local} is ${v === null ? "not a working nats-server" : `version ${v.text}, too old`}`);
  } else {
    notes.push(`${local} does not exist`);
  }

  let onPath = false;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = resolve(dir, "nats-server");
    if (!isExecutableFile(candidate)) continue;
    onPath = true;
    const v = binaryVersion(candidate);
    if (v !== null && newEnough(v)) return candidate;
    notes.push(`${candidate} is ${v === null ? "not a working nats-server" : `version ${v.text}, too old`}`);
  }
  if (!onPath) notes.push("there is no nats-server on PATH");
  throw new NatsServerMissingError(notes);
}

// ---- keeping track of children -----------------------------------------------

const liveChildren = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
const forwardedSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of ownedDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort on the way out
    }
  }
  ownedDirs.clear();
}

/**
 * A signal nobody else handles would end this process without an 'exit' event: clean up,
 * then re-raise it so it keeps its default meaning. A program that handles the signal
 * itself (say, to stop its server gracefully) is left to do so; 'exit' catches leftovers.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAllNow();
  uninstallHooks();
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllNow);
  for (const s of forwardedSignals) process.on(s, onSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off("exit", killAllNow);
  for (const s of forwardedSignals) process.off(s, onSignal);
}

function track(child: ChildProcess): void {
  liveChildren.add(child);
  installHooks();
  child.once("exit", () => {
    liveChildren.delete(child);
    if (liveChildren.size === 0 && ownedDirs.size === 0) uninstallHooks();
  });
}

// ---- starting one process ----------------------------------------------------

interface Launched {
  child: ChildProcess;
  exited: Promise<void>;
  port: number;
  monitorPort?: number;
  stderrTail: () => string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads `<name>_<pid>.ports` ({"nats":["nats://127.0.0.1:4222"],"monitoring":[...]}) if it is there yet. */
function readPortsFile(dir: string, pid: number): { port: number; monitorPort?: number } | null {
  let file: string | undefined;
  try {
    file = readdirSync(dir).find((f) => f.endsWith(`_${pid}.ports`));
  } catch {
    return null;
  }
  if (file === undefined) return null;
  try {
    const ports = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nats?: string[]; monitoring?: string[] };
    const portOf = (u: string | undefined): number | undefined => {
      const m = u === undefined ? null : /:(\d+)\/?$/.exec(u);
      return m ? Number(m[1]) : undefined;
    };
    const port = portOf(ports.nats?.[0]);
    if (port === undefined) return null;
    return { port, monitorPort: portOf(ports.monitoring?.[0]) };
  } catch {
    return null; // partially written; try again
  }
}

/** What a NATS server says about itself in its INFO line (the fields Troupe reads). */
export interface ServerInfo {
  server_name?: string;
  version?: string;
  jetstream?: boolean;
  max_payload?: number;
}

/**
 * Connect once over plain TCP and read the server's INFO line: no client, no
 * reconnect loop. Resolves with it, or null when nothing answers within `timeoutMs`.
 */
export function readServerInfo(host: string, port: number, timeoutMs = 1_000): Promise<ServerInfo | null> {
  return new Promise((resolveProbe) => {
    const socket = netConnect({ host, port });
    let buf = "";
    const done = (v: ServerInfo | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolveProbe(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      const end = buf.indexOf("\r\n");
      if (end < 0) return;
      const line = buf.slice(0, end);
      if (!line.startsWith("INFO ")) return done(null);
      try {
        done(JSON.parse(line.slice(5)) as ServerInfo);
      } catch {
        done(null);
      }
    });
    socket.on("error", () => done(null));
    socket.on("close", () => done(null));
  });
}

/** Resolves with the INFO of our server on `port`, or null if it is not accepting yet. */
function probeInfo(port: number): Promise<ServerInfo | null> {
  return readServerInfo(HOST, port);
}

async function launch(bin: string, args: string[], runDir: string, cwd: string | undefined, jetstream: boolean): Promise<Launched> {
  const child = spawn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (lines.length > STDERR_TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const stderrTail = () => [...lines, partial].filter((l) => l !== "").join("\n");

  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once("exit", (code, signal) => {
      exitInfo = signal !== null ? `signal ${signal}` : `code ${code}`;
      resolveExit();
    });
  });
  const spawnError = new Promise<Error>((resolveErr) => child.once("error", resolveErr));

  if (child.pid === undefined) {
    const err = await spawnError;
    throw new Error(`could not start ${bin}: ${err.message}`, { cause: err });
  }
  track(child);

  const failure = (why: string) =>
    new Error(`nats-server (${bin} ${args.join(" ")}) ${why}${stderrTail() ? `; its output ends with:\n${stderrTail()}` : ""}`);

  let timedOut = false;
  const deadline = setTimeout(() => (timedOut = true), READY_TIMEOUT_MS);
  try {
    for (;;) {
      if (exitInfo !== undefined) throw failure(`exited during startup (${exitInfo})`);
      if (timedOut) throw failure(`was not ready within ${READY_TIMEOUT_MS} ms`);
      const ports = readPortsFile(runDir, child.pid);
      if (ports !== null) {
        const info = await probeInfo(ports.port);
        if (info !== null && (!jetstream || info.jetstream === true)) {
          return { child, exited, port: ports.port, monitorPort: ports.monitorPort, stderrTail };
        }
      }
      await Promise.race([sleep(25), exited]);
    }
  } catch (err) {
    if (exitInfo === undefined) {
      child.kill("SIGKILL");
      await exited;
    }
    throw err;
  } finally {
    clearTimeout(deadline);
  }
}

// ---- the handle ----------------------------------------------------------------

/**
 * Starts a nats-server on 127.0.0.1 and resolves once it accepts client connections
 * (and JetStream is ready). Rejects with the server's output when it exits early.
 *
 * @example
 * const server = await startNatsServer();           // random port, temp store
 * const nc = await connect({ servers: server.url });
 * await server.kill(); await server.restart();      // same port, same data
 * await server.dispose();
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = findNatsServer();
  const jetstream = opts.jetstream ?? true;
  const baseDir = opts.cwd !== undefined ? resolve(opts.cwd) : process.cwd();

  // One private directory per server: the ports file, and the store unless one was given.
  const runDir = mkdtempSync(join(tmpdir(), "troupe-nats-"));
  ownedDirs.add(runDir);
  installHooks();
  const storeDir = opts.storeDir !== undefined ? resolve(baseDir, opts.storeDir) : join(runDir, "store");
  let tls: NatsServerTls | undefined;
  if (opts.tls) {
    try {
      const { makeTestCertificates } = await import("./tls-certificates.js");
      tls = { ...(await makeTestCertificates(runDir)), verify: typeof opts.tls === "object" && opts.tls.verify === true };
    } catch (err) {
      ownedDirs.delete(runDir);
      await rm(runDir, { recursive: true, force: true });
      throw err;
    }
  }

  const argsFor = (port: number, monitorPort: number | undefined): string[] => {
    const args: string[] = [];
    if (opts.configFile !== undefined) args.push("-c", opts.configFile);
    args.push("-a", HOST, "-p", String(port), "--ports_file_dir", runDir);
    if (monitorPort !== undefined) args.push("-m", String(monitorPort));
    if (jetstream) args.push("-js", "-sd", storeDir);
    if (opts.serverName !== undefined) args.push("--server_name", opts.serverName);
    if (tls !== undefined) {
      args.push("--tls", "--tlscert", tls.server.cert, "--tlskey", tls.server.key, "--tlscacert", tls.ca);
      if (tls.verify) args.push("--tlsverify");
    }
    args.push(...(opts.args ?? []));
    return args;
  };

  const cleanupDir = async () => {
    ownedDirs.delete(runDir);
    await rm(runDir, { recursive: true, force: true });
    if (liveChildren.size === 0 && ownedDirs.size === 0) uninstallHooks();
  };

  let current: Launched;
  try {
    current = await launch(bin, argsFor(opts.port ?? -1, opts.monitor ? -1 : undefined), runDir, opts.cwd, jetstream);
  } catch (err) {
    await cleanupDir();
    throw err;
  }
  const port = current.port;
  const monitorPort = current.monitorPort;
  let running = true;
  let disposed: Promise<void> | undefined;

  const waitExit = async (signal: NodeJS.Signals, graceMs: number | undefined) => {
    if (!running) return;
    const { child, exited } = current;
    child.kill(signal);
    if (graceMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), graceMs)));
      const outcome = await Promise.race([exited, grace]);
      clearTimeout(timer);
      if (outcome === "late") child.kill("SIGKILL");
    }
    await exited;
    running = false;
  };

  const server: NatsServer = {
    url: `nats://${HOST}:${port}`,
    port,
    monitorUrl: monitorPort !== undefined ? `http://${HOST}:${monitorPort}` : undefined,
    storeDir,
    tls,
    get pid() {
      return current.child.pid ?? -1;
    },
    stop: () => waitExit("SIGTERM", STOP_GRACE_MS),
    kill: () => waitExit("SIGKILL", undefined),
    async restart() {
      if (disposed !== undefined) throw new Error("nats-server was disposed; start a new one");
      await waitExit("SIGTERM", STOP_GRACE_MS);
      current = await launch(bin, argsFor(port, monitorPort), runDir, opts.cwd, jetstream);
      running = true;
    },
    dispose() {
      disposed ??= (async () => {
        await waitExit("SIGTERM", STOP_GRACE_MS);
        await cleanupDir();
      })();
      return disposed;
    },
  };
  return server;
}
