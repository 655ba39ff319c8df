// A throwaway NATS cluster for tests: `size` nats-servers on loopback,
// routed to each other, JetStream on with a store each, and a JetStream meta
// leader elected before it resolves. Servers are named n1..nN; each can be
// killed and restarted by name (the cluster keeps its quorum while a majority
// runs), and the cluster says which server leads JetStream (the meta leader)
// and which leads a stream, so a test can kill exactly that one.
//
//   const cluster = await startNatsCluster(3);
//   const node = await startNode({ servers: cluster.urls, replicas: 3 });
//   const leader = await cluster.streamLeader("KV_troupe_default_state");
//   await cluster.kill(leader); ... await cluster.restart(leader);
//   await cluster.dispose();
//
// Infrastructure, like nats-server.ts: it uses Node's timers directly.

import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { startNatsServer, type NatsServer } from "./nats-server.js";

/** One server of a cluster: a {@link NatsServer} with its server name; its restart() resolves once it is back in the JetStream cluster. */
export interface ClusterServer extends NatsServer {
  /** `n1`, `n2`, ...: the server's `server_name`, as JetStream names leaders and peers. */
  readonly name: string;
  /** Its monitoring endpoint (`/jsz`, `/routez`, ...). */
  readonly monitorUrl: string;
  /** False between kill()/stop() and restart(). */
  readonly running: boolean;
}

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions {
  /** Client port of the first server, the next ones on the following ports; default: random free ports. */
  port?: number;
  /** Where each server keeps its JetStream store (`<storeRoot>/<name>`); default: a temporary directory, removed by dispose(). */
  storeRoot?: string;
  /** The cluster's name; default `troupe-test`. */
  name?: string;
}

/** A running cluster. */
export interface NatsCluster {
  readonly servers: readonly ClusterServer[];
  /** Every server's client URL, for `servers:` options (a client moves between them). */
  readonly urls: string[];
  /** The server named `name`; throws on an unknown name. */
  server(name: string): ClusterServer;
  /** SIGKILL the server named `name` (a crash) and wait for its exit. */
  kill(name: string): Promise<void>;
  /**
   * Start the server named `name` again, same port and store; resolves when it
   * is back in the JetStream cluster (healthy, and current as the meta leader
   * sees it): until then, creating a stream that needs it fails.
   */
  restart(name: string): Promise<void>;
  /** The JetStream meta leader's name, as a running server reports it; undefined during an election. */
  metaLeader(): Promise<string | undefined>;
  /** The name of the server leading stream `stream` (a KV bucket's is `KV_<bucket>`); undefined during its election. */
  streamLeader(stream: string): Promise<string | undefined>;
  /** Until the running servers agree on a meta leader and JetStream answers; resolves with its name. */
  waitForMetaLeader(timeoutMs?: number): Promise<string>;
  /** Until stream `stream` has a leader; resolves with its name. */
  waitForStreamLeader(stream: string, timeoutMs?: number): Promise<string>;
  /** Stop every server and remove the stores this helper created. */
  dispose(): Promise<void>;
}

/** How long a new or restarted cluster may take until it places replicated streams (seen up to 30 s on a loaded machine). */
const READY_TIMEOUT_MS = 60_000;
/** The stream {@link placeable} creates and deletes (tests' own names never start with an underscore). */
const PROBE_STREAM = "_cluster_probe";
/** How long one question to a server may take. */
const ASK_TIMEOUT_MS = 2_000;

/** A free loopback port (for cluster routes, which must be known before the servers start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Start a `size`-server cluster (3 by default) and wait until its JetStream has a meta leader that sees every server current. */
export async function startNatsCluster(size = 3, options: NatsClusterOptions = {}): Promise<NatsCluster> {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`a cluster needs at least one server, got ${size}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(size, options);
    } catch (err) {
      if (!(err instanceof NotFormedError) || attempt === START_ATTEMPTS) throw err;
    }
  }
}

/**
 * A cluster started at once that did not come to place replicated streams in
 * time. nats-server 2.10 was seen to form, now and then on a loaded machine,
 * a cluster whose meta leader kept refusing placement on one of the servers
 * for over a minute; a cluster started again does not carry that over.
 */
class NotFormedError extends Error {}

/** How many fresh starts {@link startNatsCluster} makes before it gives up. */
const START_ATTEMPTS = 3;
/** How long a fresh cluster may take to place a stream on every server (seconds at most, usually). */
const FORM_TIMEOUT_MS = 20_000;

async function startOnce(size: number, options: NatsClusterOptions): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-cluster-"));
  const routePorts = await Promise.all(Array.from({ length: size }, freePort));
  const raw: NatsServer[] = [];
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const disposeAll = async (): Promise<void> => {
    await Promise.all(raw.map((s) => s.dispose()));
    await removeDir();
  };
  const clusterName = options.name ?? "troupe-test";
  try {
    const started = await Promise.all(
      routePorts.map((routePort, i) => {
        const name = `n${i + 1}`;
        const config = join(dir, `${name}.conf`);
        const routes = routePorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
        writeFileSync(
          config,
          [`server_name: ${name}`, "cluster {", `  name: ${clusterName}`, `  listen: 127.0.0.1:${routePort}`, `  routes: [${routes.join(", ")}]`, "}", ""].join("\n"),
        );
        return startNatsServer({
          configFile: config,
          serverName: name,
          monitor: true,
          port: options.port !== undefined ? options.port + i : undefined,
          storeDir: options.storeRoot !== undefined ? join(options.storeRoot, name) : undefined,
        });
      }),
    );
    raw.push(...started);
  } catch (err) {
    await disposeAll();
    throw err;
  }

  const states = raw.map((s) => ({ server: s, running: true }));
  const servers: ClusterServer[] = states.map((st, i) => {
    const s = st.server;
    const handle: ClusterServer = {
      name: `n${i + 1}`,
      url: s.url,
      port: s.port,
      monitorUrl: s.monitorUrl!,
      storeDir: s.storeDir,
      get pid() {
        return s.pid;
      },
      get running() {
        return st.running;
      },
      async stop() {
        st.running = false;
        await s.stop();
      },
      async kill() {
        st.running = false;
        await s.kill();
      },
      async restart() {
        await s.restart();
        st.running = true;
        await waitForFormed(`${handle.name} back in JetStream`);
      },
      async dispose() {
        st.running = false;
        await s.dispose();
      },
    };
    return handle;
  });

  const server = (name: string): ClusterServer => {
    const found = servers.find((s) => s.name === name);
    if (!found) throw new RangeError(`no server named ${JSON.stringify(name)} in this cluster (${servers.map((s) => s.name).join(", ")})`);
    return found;
  };
  const live = () => servers.filter((s) => s.running);

  const metaLeader = async (): Promise<string | undefined> => {
    const seen = await Promise.all(live().map((s) => jszMetaLeader(s.monitorUrl)));
    const named = seen.filter((l): l is string => l !== undefined);
    // Every running server that has an opinion agrees, and the leader itself runs.
    if (named.length === 0 || named.some((l) => l !== named[0])) return undefined;
    return live().some((s) => s.name === named[0]) ? named[0] : undefined;
  };

  const streamLeader = async (stream: string): Promise<string | undefined> => {
    const nc = await connectLive(live().map((s) => s.url));
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: ASK_TIMEOUT_MS });
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      return leader && live().some((s) => s.name === leader) ? leader : undefined;
    } catch {
      return undefined;
    } finally {
      await nc.close().catch(() => {});
    }
  };

  /**
   * Whether every running server reports itself healthy, they agree on a
   * meta leader, and a stream replicated on all of them can be placed. The
   * meta leader places a stream only on peers it has statistics from; until
   * it has them from every server it refuses ("no suitable peers for
   * placement, peer offline"), for some seconds after a start or a restart.
   */
  const formed = async (): Promise<boolean> => {
    const running = live();
    if (!(await Promise.all(running.map((s) => healthy(s.monitorUrl)))).every(Boolean)) return false;
    if ((await metaLeader()) === undefined) return false;
    return placeable(running.map((s) => s.url), running.length);
  };

  const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`the cluster had no ${what} within ${timeoutMs} ms`);
      await sleep(50);
    }
  };

  const waitForFormed = (what: string, timeoutMs = READY_TIMEOUT_MS) => until(what, timeoutMs, async () => ((await formed()) ? true : undefined));

  const waitForMetaLeader = (timeoutMs = READY_TIMEOUT_MS) =>
    until("JetStream meta leader", timeoutMs, async () => {
      const leader = await metaLeader();
      return leader !== undefined && (await jetStreamAnswers(live().map((s) => s.url))) ? leader : undefined;
    });

  const cluster: NatsCluster = {
    servers,
    urls: servers.map((s) => s.url),
    server,
    kill: (name) => server(name).kill(),
    restart: (name) => server(name).restart(),
    metaLeader,
    streamLeader,
    waitForMetaLeader,
    waitForStreamLeader: (stream, timeoutMs = READY_TIMEOUT_MS) => until(`leader for stream ${stream}`, timeoutMs, () => streamLeader(stream)),
    dispose: async () => {
      await Promise.all(servers.map((s) => s.dispose()));
      await removeDir();
    },
  };
  try {
    await waitForFormed("JetStream cluster of every server", FORM_TIMEOUT_MS).catch((err: unknown) => {
      throw new NotFormedError(String(err), { cause: err });
    });
  } catch (err) {
    await cluster.dispose();
    throw err;
  }
  return cluster;
}

/** A short-lived connection to the servers that run (for one question). */
function connectLive(urls: string[]): Promise<NatsConnection> {
  return connect({ servers: urls, timeout: ASK_TIMEOUT_MS, maxReconnectAttempts: 0 });
}

/** Whether the cluster's JetStream answers an account request (it does once a meta leader is elected). */
async function jetStreamAnswers(urls: string[]): Promise<boolean> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connectLive(urls);
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: ASK_TIMEOUT_MS });
    await jsm.getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** Whether a stream with `replicas` copies can be placed now: one is created and deleted again. */
async function placeable(urls: string[], replicas: number): Promise<boolean> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connectLive(urls);
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: ASK_TIMEOUT_MS });
    await jsm.streams.add({ name: PROBE_STREAM, subjects: [PROBE_STREAM], num_replicas: replicas, storage: StorageType.Memory });
    await jsm.streams.delete(PROBE_STREAM);
    return true;
  } catch {
    return false;
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** What `/jsz` says about the JetStream meta group (the fields read here). */
interface Jsz {
  meta_cluster?: { leader?: string };
}

/** A server's `/jsz`, or undefined when it does not answer. */
async function jsz(monitorUrl: string): Promise<Jsz | undefined> {
  try {
    const res = await fetch(`${monitorUrl}/jsz`, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) });
    return res.ok ? ((await res.json()) as Jsz) : undefined;
  } catch {
    return undefined;
  }
}

/** The meta leader a server's monitoring endpoint names, or undefined (none, or it does not answer). */
async function jszMetaLeader(monitorUrl: string): Promise<string | undefined> {
  return (await jsz(monitorUrl))?.meta_cluster?.leader || undefined;
}

/** Whether a server's `/healthz` says it is healthy (JetStream current with its cluster). */
async function healthy(monitorUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) });
    return res.ok;
  } catch {
    return false;
  }
}
