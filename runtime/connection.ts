// Opening the NATS connection a node (or the CLI) talks through, with the
// options a long-running runtime needs, and an unreachable server turned into
// one clear NotConnectedError.

import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import type { Credentials } from "./auth/credentials.js";
import { NotConnectedError } from "./errors.js";
import { INBOX_PREFIX } from "./subjects.js";

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
  /** Connect with this credential; replies then come to inboxes under the user's own prefix ({@link inboxPrefixOf}). */
  credentials?: Credentials;
  /** TLS: files of the CA that signed the server's certificate, and of a client certificate and key. */
  tls?: TlsFiles;
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
      ...(opts.credentials ? { authenticator: credsAuthenticator(opts.credentials.bytes), inboxPrefix: inboxPrefixOf(opts.credentials) } : {}),
      ...(opts.tls ? { tls: tlsOptions(opts.tls) } : {}),
      ...opts.nats,
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new NotConnectedError(Array.isArray(servers) ? servers.join(",") : servers, detail, { cause: err });
  }
}

/** TLS files, by path (PEM). */
export interface TlsFiles {
  /** The CA that signed the server's certificate (else the system's CAs). */
  ca?: string;
  /** This side's certificate, when the server asks for one (mutual TLS). */
  cert?: string;
  /** The key of `cert`. */
  key?: string;
}

function tlsOptions(files: TlsFiles): NonNullable<ConnectionOptions["tls"]> {
  return { caFile: files.ca, certFile: files.cert, keyFile: files.key };
}

/**
 * The inbox prefix of a credential's connections: `_INBOX.<user public key>`.
 * A credential may subscribe to its own inboxes only, so nobody else's replies
 * can be read with it, and a node may publish to `_INBOX.>` only, so a reply
 * goes nowhere but an inbox.
 */
export function inboxPrefixOf(credentials: Pick<Credentials, "publicKey">): string {
  return `${INBOX_PREFIX}${credentials.publicKey}`;
}

/**
 * The inbox prefix a connection was opened with (`inboxPrefix`), or undefined
 * for the default `_INBOX`. Subscriptions the runtime makes for replies use it,
 * as nats.js's own requests do, so they stay within the credential's grant.
 */
export function connectionInboxPrefix(nc: NatsConnection): string | undefined {
  return (nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix || undefined;
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
