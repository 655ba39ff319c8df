// Vitest hooks around the kit (`troupe/testing/vitest`): a nats-server per
// test file, and connections to it. Kept apart from `troupe/testing` so that
// the kit itself does not need vitest installed.
//
//   const nats = useNatsServer();
//   const conn = useConnection(nats);
//   it("...", async () => { await conn.nc.request(...); await nats.server.kill(); });

import { afterAll, beforeAll } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo } from "./connect.js";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "./nats-server.js";

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
