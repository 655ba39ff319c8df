// Test helpers: a real nats-server per test file (random loopback port, its own
// temporary store, disposed after the file's tests) and connections to it.
//
//   const nats = useNatsServer();
//   const conn = useConnection(nats);
//   it("...", async () => { await conn.nc.request(...); await nats.server.kill(); });

import { afterAll, beforeAll } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "../nats-server.js";

/** A live view of the file's server; read it inside tests and hooks, not at collection time. */
export interface NatsServerHandle {
  readonly url: string;
  readonly server: NatsServer;
}

/**
 * Starts a nats-server before the file's tests (beforeAll) and disposes of it after them
 * (afterAll). Without a binary, the hook fails with NatsServerMissingError, whose message
 * says how to install one.
 */
export function useNatsServer(opts?: NatsServerOptions): NatsServerHandle {
  let server: NatsServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer(opts);
  });
  afterAll(async () => {
    await server?.dispose();
    server = undefined;
  });
  const current = (): NatsServer => {
    if (server === undefined) throw new Error("useNatsServer: no server yet; read it inside a test or hook");
    return server;
  };
  return {
    get url() {
      return current().url;
    },
    get server() {
      return current();
    },
  };
}

/** Connects to `url` with options fit for tests: reconnect forever, and quickly. */
export function connectTo(url: string, name = "troupe-test"): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    reconnectJitter: 20,
  });
}

/**
 * Resolves once `nc` round-trips to its server again, e.g. after `server.restart()`.
 * nats.js drops what is published while disconnected (each reconnect attempt resets
 * its outbound buffer), so a request sent before the client is back times out:
 * await this between a restart and the next publish or request.
 */
export async function reconnected(nc: NatsConnection, timeoutMs = 10_000): Promise<void> {
  let timedOut = false;
  const deadline = setTimeout(() => (timedOut = true), timeoutMs);
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        nc.rtt().then(
          () => true,
          () => false,
        ),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), 500))),
      ]);
      clearTimeout(timer);
      if (ok) return;
      if (timedOut || nc.isClosed()) throw new Error(`connection did not come back within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    clearTimeout(deadline);
  }
}

/** A connection opened in beforeAll (after the server starts) and closed in afterAll. */
export function useConnection(target: { readonly url: string }, name?: string): { readonly nc: NatsConnection } {
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    nc = await connectTo(target.url, name);
  });
  afterAll(async () => {
    await nc?.close();
    nc = undefined;
  });
  return {
    get nc() {
      if (nc === undefined) throw new Error("useConnection: not connected yet; read it inside a test or hook");
      return nc;
    },
  };
}
