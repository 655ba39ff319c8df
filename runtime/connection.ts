// Opening the NATS connection a node (or the CLI) talks through, with the
// options a long-running runtime needs, and an unreachable server turned into
// one clear NotConnectedError.

import { connect } from "@nats-io/transport-node";
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core";
import { NotConnectedError } from "./errors.js";

/** The default server URL: `NATS_URL`, else the local development server. */
export function defaultServers(): string {
  return process.env.NATS_URL || "nats://127.0.0.1:4222";
}

export interface ConnectOptions {
  servers?: string | string[];
  /** Client name shown by the server's monitoring. */
  name?: string;
  /** Give up the first connection attempt after this long (ms). Default 5000. */
  timeoutMs?: number;
  /** Anything else nats.js accepts. */
  nats?: Partial<ConnectionOptions>;
}

/**
 * Connect with reconnects forever (`maxReconnectAttempts: -1`), no async stack
 * traces on requests (they cost on every ask), and a clear error when no server answers.
 */
export async function openConnection(opts: ConnectOptions = {}): Promise<NatsConnection> {
  const servers = opts.servers ?? defaultServers();
  try {
    return await connect({
      servers,
      name: opts.name,
      timeout: opts.timeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      noAsyncTraces: true,
      ...opts.nats,
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new NotConnectedError(Array.isArray(servers) ? servers.join(",") : servers, detail, { cause: err });
  }
}

/**
 * Build something on a connection: the one given (left open whatever happens),
 * or a new one opened with `open`, which is closed again if `build` fails.
 * `build` learns whether it owns the connection.
 */
export async function onConnection<T>(
  given: NatsConnection | undefined,
  open: ConnectOptions,
  build: (nc: NatsConnection, owned: boolean) => T | Promise<T>,
): Promise<T> {
  const nc = given ?? (await openConnection(open));
  try {
    return await build(nc, given === undefined);
  } catch (err) {
    if (given === undefined) await nc.close().catch(() => {});
    throw err;
  }
}
