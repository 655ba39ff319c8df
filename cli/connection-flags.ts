// How agentctl connects: the server URL, the credentials file and the TLS
// files, each taken from the first place that gives it: a flag (--server,
// --creds, --tls-ca/--tls-cert/--tls-key), the environment (NATS_URL,
// NATS_CREDS, NATS_CA/NATS_CERT/NATS_KEY, as the `nats` CLI reads them), a NATS
// CLI context (--context, else NATS_CONTEXT, else the selected one), and last
// the local development credentials of `agentctl dev --secure` (for a server
// on this machine only). Resolved once per run, before connecting.

import { accessSync, constants as fsConstants } from "node:fs";
import { resolve } from "node:path";
import type { TlsFiles } from "../runtime/connection.js";
import { InvalidCredentialsError } from "../runtime/errors.js";
import { devCredentials, type DevRole } from "./dev-credentials.js";
import { UsageError } from "./exit-code.js";
import { readNatsContext, selectedContextName, type NatsContext } from "./nats-context.js";
import { serverAddress } from "./server-probe.js";

/** The URL used when nothing names a server: the local development server. */
export const DEFAULT_SERVER = "nats://127.0.0.1:4222";

/** Where a setting came from. */
export const Source = { Flag: "flag", Env: "env", Context: "context", Dev: "dev", Default: "default" } as const;
export type Source = (typeof Source)[keyof typeof Source];

/** The connection flags as given on the command line (undefined when not given). */
export interface ConnectionFlags {
  server?: string;
  creds?: string;
  context?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** What {@link resolveConnection} reads besides the flags. */
export interface ResolveEnvironment {
  /** Environment variables (NATS_URL, NATS_CREDS, NATS_CA, NATS_CERT, NATS_KEY, NATS_CONTEXT, XDG_CONFIG_HOME). */
  env: NodeJS.ProcessEnv;
  /** Which development credential the command needs. */
  role: DevRole;
  /** Where the development credentials live ({@link devAuthDir}). */
  devAuthDir: string;
}

/** The connection to open, and where each part came from. */
export interface ResolvedConnection {
  /** The server URL(s) as given (comma-separated for several). */
  server: string;
  /** The same, one URL per entry, for the client. */
  servers: string[];
  /** An absolute path of a `.creds` file, or none. */
  credentials?: string;
  /** TLS files (absolute paths), or none. */
  tls?: TlsFiles;
  /** The NATS context used, if any. */
  context?: NatsContext;
  /** Where the URL and the credentials came from. */
  from: { server: Source; credentials?: Source };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

function flagValue(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") throw new UsageError(`${flag} needs a value`);
  return value;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** The first of `choices` that has a value, with its source. */
function first<T>(...choices: Array<[T | undefined, Source, string]>): { value: T; from: Source; what: string } | undefined {
  for (const [value, from, what] of choices) if (value !== undefined) return { value, from, what };
  return undefined;
}

/** Why a file cannot be read (`ENOENT`, `EACCES`, ...), or undefined when it can. */
function unreadable(path: string): string | undefined {
  try {
    accessSync(path, fsConstants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/**
 * Resolve the connection settings: for each of the URL, the credentials and
 * each TLS file, a flag wins over the environment, which wins over the NATS
 * context; without credentials from any of them, a server on this machine is
 * reached with the development credentials when `agentctl dev --secure` made
 * them. Files named are checked for reading: a credentials file that cannot be
 * read is an InvalidCredentialsError, a TLS file a UsageError, each saying
 * where the path came from. The files' contents are checked when connecting.
 *
 * @example
 * resolveConnection({ creds: "ops.creds" }, { env: process.env, role: "admin", devAuthDir: devAuthDir() })
 * // { server: "nats://127.0.0.1:4222", credentials: "/work/ops.creds", from: { server: "default", credentials: "flag" }, ... }
 */
export function resolveConnection(flags: ConnectionFlags, where: ResolveEnvironment): ResolvedConnection {
  const { env } = where;
  const contextName = selectedContextName(flagValue("--context", flags.context), env);
  const context = contextName === undefined ? undefined : readNatsContext(contextName, env);
  const inContext = (field: string): string => `${field} of NATS context "${context?.name}"`;

  const server = first<string>(
    [flagValue("--server", flags.server), Source.Flag, "--server"],
    [envValue(env, "NATS_URL"), Source.Env, "NATS_URL"],
    [context?.url, Source.Context, inContext("url")],
  ) ?? { value: DEFAULT_SERVER, from: Source.Default, what: "the default" };
  const servers = server.value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (servers.length === 0) throw new UsageError(`${server.what} names no server URL`);
  for (const url of servers) {
    try {
      serverAddress(url);
    } catch (err) {
      throw new UsageError(`${server.what}: ${(err as Error).message}`);
    }
  }

  let creds = first<string>(
    [flagValue("--creds", flags.creds), Source.Flag, "--creds"],
    [envValue(env, "NATS_CREDS"), Source.Env, "NATS_CREDS"],
    [context?.creds, Source.Context, inContext("creds")],
  );
  if (creds === undefined && servers.every((url) => LOOPBACK.has(serverAddress(url).host))) {
    const dev = devCredentials(where.role, where.devAuthDir);
    if (dev !== undefined) creds = { value: dev, from: Source.Dev, what: "the development credentials (agentctl dev --secure)" };
  }
  let credentials: string | undefined;
  if (creds !== undefined) {
    credentials = resolve(creds.value);
    const why = unreadable(credentials);
    if (why !== undefined) throw new InvalidCredentialsError(credentials, `cannot read it (${why}); it was given by ${creds.what}`);
  }

  const tlsFile = (flag: string, flagVal: string | undefined, envName: string, fromContext: string | undefined, field: string): string | undefined => {
    const chosen = first<string>(
      [flagValue(flag, flagVal), Source.Flag, flag],
      [envValue(env, envName), Source.Env, envName],
      [fromContext, Source.Context, inContext(field)],
    );
    if (chosen === undefined) return undefined;
    const path = resolve(chosen.value);
    const why = unreadable(path);
    if (why !== undefined) throw new UsageError(`cannot read the TLS file ${path} (${why}), given by ${chosen.what}`);
    return path;
  };
  const ca = tlsFile("--tls-ca", flags.tlsCa, "NATS_CA", context?.ca, "ca");
  const cert = tlsFile("--tls-cert", flags.tlsCert, "NATS_CERT", context?.cert, "cert");
  const key = tlsFile("--tls-key", flags.tlsKey, "NATS_KEY", context?.key, "key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(`a client certificate (--tls-cert) and its key (--tls-key) go together: give both or neither (only the ${cert === undefined ? "key" : "certificate"} was given)`);
  }
  const tls = ca === undefined && cert === undefined ? undefined : { ca, cert, key };

  return {
    server: server.value,
    servers,
    credentials,
    tls,
    context,
    from: { server: server.from, credentials: creds?.from },
  };
}
