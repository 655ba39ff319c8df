// A light client's options: plain data with defaults merged once and every
// field validated once; a bad field fails with InvalidConfigError naming it.

import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import { systemClock, type Clock } from "./clock.js";
import { credentialsPath, tlsFiles } from "./auth/connect-options.js";
import type { Credentials } from "./auth/credentials.js";
import type { TlsFiles } from "./connection.js";
import { InvalidConfigError } from "./errors.js";
import type { MemoryOptions } from "./memory/index.js";
import { Subjects, validateToken } from "./subjects.js";

/** Options of {@link connectClient}. Plain data, validated once. */
export interface ClientOptions {
  /** NATS server URL(s). Default: `NATS_URL`, else `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** A NATS credentials file (`.creds`, made by `agentctl auth`) to connect with. Default: `NATS_CREDS`, else none; `null`: none. */
  credentials?: string | null;
  /** TLS files (PEM paths): the server's CA, and a client certificate and key when the server asks for one. */
  tls?: TlsFiles;
  /** The namespace to call into. Default: `TROUPE_NAMESPACE`, else `default`. */
  namespace?: string;
  /**
   * This client's name (letters, digits, `_`, `-`): the sender of its messages, and the
   * connection's name. Default: the name in its credential's JWT when that is a valid name
   * (an agent that requires verified senders takes a client credential's messages only as
   * `client:<the JWT's name>`), else client-pid-random.
   */
  name?: string;
  /** Use this connection instead of opening one; the client does not close it. */
  connection?: NatsConnection;
  /** Default ask timeout, ms. Default 5000. */
  askTimeoutMs?: number;
  /** How long spawn waits for a node that hosts the type, ms. Default 3000. */
  spawnWaitMs?: number;
  /** Largest message, bytes. Default: 1 MiB or the server's max_payload, whichever is smaller. */
  maxMessageBytes?: number;
  /** Shared memory options (cache size, history, ...). */
  memory?: MemoryOptions;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
}

/** ClientOptions with every default filled in. */
export interface ValidClientOptions {
  servers: string | string[];
  credentials: string | undefined;
  tls: TlsFiles | undefined;
  namespace: string;
  name: string;
  askTimeoutMs: number;
  spawnWaitMs: number;
  maxMessageBytes: number | undefined;
  memory: MemoryOptions | undefined;
  clock: Clock;
}

/** Merge defaults into `options` and check every field. */
export function validateClientOptions(options: ClientOptions): ValidClientOptions {
  if (options === null || typeof options !== "object") throw new InvalidConfigError("options", "connectClient takes an options object");
  const namespace = options.namespace ?? process.env.TROUPE_NAMESPACE ?? "default";
  try {
    new Subjects(namespace);
  } catch (err) {
    throw new InvalidConfigError("namespace", (err as Error).message);
  }
  const name = options.name ?? `client-${process.pid}-${nuid.next().slice(-4).toLowerCase()}`;
  try {
    validateToken("client name", name);
  } catch (err) {
    throw new InvalidConfigError("name", (err as Error).message);
  }
  return {
    servers: options.servers ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    credentials: credentialsPath(options.credentials),
    tls: tlsFiles(options.tls),
    namespace,
    name,
    askTimeoutMs: positive("askTimeoutMs", options.askTimeoutMs, 5000),
    spawnWaitMs: positive("spawnWaitMs", options.spawnWaitMs, 3000),
    maxMessageBytes: options.maxMessageBytes === undefined ? undefined : positive("maxMessageBytes", options.maxMessageBytes, 0),
    memory: options.memory,
    clock: options.clock ?? systemClock,
  };
}

/**
 * `o` named after the credential it connects with when `given` (the name in the
 * options) is undefined and the JWT's name is a valid client name; else `o`.
 */
export function nameFromCredentials(o: ValidClientOptions, given: string | undefined, credentials: Pick<Credentials, "name">): ValidClientOptions {
  if (given !== undefined || typeof credentials.name !== "string") return o;
  try {
    return { ...o, name: validateToken("client name", credentials.name) };
  } catch {
    return o;
  }
}

function positive(field: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigError(field, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}
