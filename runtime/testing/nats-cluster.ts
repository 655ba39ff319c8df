// A throwaway NATS cluster for tests: `size` nats-servers on random loopback
// ports, routed to each other, JetStream on with a store each, and a
// JetStream meta leader elected before it resolves. Servers can be killed
// and restarted one by one (the cluster keeps its quorum while a majority runs).
//
//   const cluster = await startNatsCluster(3);
//   const node = await startNode({ servers: cluster.urls, durableMailboxes: { replicas: 3 } });
//   await cluster.servers[0].kill(); ... await cluster.servers[0].restart();
//   await cluster.dispose();

import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer, type NatsServer } from "./nats-server.js";

/** A running cluster. */
export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Every server's client URL, for `servers:` options. */
  readonly urls: string[];
  /** Stop every server and remove their stores. */
  dispose(): Promise<void>;
}

/** How long a new cluster may take to elect its JetStream meta leader. */
const READY_TIMEOUT_MS = 30_000;

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

/** Start a `size`-server cluster (3 by default) and wait until JetStream answers on it. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-cluster-"));
  const routePorts = await Promise.all(Array.from({ length: size }, freePort));
  const servers: NatsServer[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.dispose()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      routePorts.map((routePort, i) => {
        const config = join(dir, `n${i + 1}.conf`);
        const routes = routePorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
        writeFileSync(
          config,
          [`server_name: n${i + 1}`, "cluster {", "  name: troupe-test", `  listen: 127.0.0.1:${routePort}`, `  routes: [${routes.join(", ")}]`, "}", ""].join("\n"),
        );
        return startNatsServer({ configFile: config, serverName: `n${i + 1}` });
      }),
    );
    servers.push(...started);
    await jetStreamReady(servers.map((s) => s.url));
  } catch (err) {
    await dispose();
    throw err;
  }
  return { servers, urls: servers.map((s) => s.url), dispose };
}

/** Until the cluster's JetStream answers an account request (its meta leader is elected). */
async function jetStreamReady(urls: string[]): Promise<void> {
  const nc = await connect({ servers: urls });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the cluster's JetStream did not answer within ${READY_TIMEOUT_MS} ms: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await nc.close();
  }
}
