// NATS CLI contexts, read the way the `nats` CLI stores them: a named JSON file
// `<config>/nats/context/<name>.json` (config is $XDG_CONFIG_HOME, else
// ~/.config) and the selected name in `<config>/nats/context.txt`. agentctl
// takes a context's server URL, credentials file and TLS files; a context that
// authenticates another way is refused with one sentence rather than ignored.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "./exit-code.js";

/** What agentctl takes from a NATS context. Paths are expanded (`~`, `$VAR`) and absolute. */
export interface NatsContext {
  /** The context's name. */
  readonly name: string;
  /** The file it was read from. */
  readonly path: string;
  /** Server URL(s), comma-separated, when the context sets one. */
  readonly url?: string;
  /** A `.creds` file. */
  readonly creds?: string;
  /** The CA certificate that signed the server's (PEM). */
  readonly ca?: string;
  /** A client certificate (PEM). */
  readonly cert?: string;
  /** The client certificate's key (PEM). */
  readonly key?: string;
}

/** Context fields agentctl cannot honour, and what each means, for the refusal. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  user: "a user and password",
  password: "a user and password",
  token: "a token",
  nkey: "an nkey file",
  user_jwt: "a user JWT",
  nsc: "an nsc lookup",
  jetstream_domain: "a JetStream domain",
  jetstream_api_prefix: "a JetStream API prefix",
  jetstream_event_prefix: "a JetStream event prefix",
  inbox_prefix: "an inbox prefix",
  tls_first: "TLS before the server's greeting (tls_first)",
  windows_cert_store: "the Windows certificate store",
  socks_proxy: "a SOCKS proxy",
};

/** The directory holding the `nats` CLI's configuration: `$XDG_CONFIG_HOME/nats`, else `~/.config/nats`. */
export function natsConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const parent = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(parent, "nats");
}

/**
 * The context to use: `name` (from `--context`), else `NATS_CONTEXT`, else the
 * one selected in `context.txt`; undefined when none is named or selected.
 */
export function selectedContextName(name: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name !== undefined) return name;
  if (env.NATS_CONTEXT) return env.NATS_CONTEXT;
  let selected: string;
  try {
    selected = readFileSync(join(natsConfigDir(env), "context.txt"), "utf8").trim();
  } catch {
    return undefined;
  }
  return selected === "" ? undefined : selected;
}

/** A path from a context: `~` and `$VAR`/`${VAR}` expanded, relative paths from the working directory. */
function expandPath(value: string, env: NodeJS.ProcessEnv): string {
  let p = value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced?: string, bare?: string) => env[(braced ?? bare)!] ?? "");
  if (p === "~" || p.startsWith("~/")) p = join(homedir(), p.slice(1));
  return isAbsolute(p) ? p : resolve(p);
}

/**
 * Read the context called `name`. A bad name, a missing or malformed file, or
 * a field agentctl cannot honour is a {@link UsageError} naming the context.
 *
 * @example
 * readNatsContext("prod") // { name: "prod", url: "tls://nats.example:4222", creds: "/home/me/prod.creds", ... }
 */
export function readNatsContext(name: string, env: NodeJS.ProcessEnv = process.env): NatsContext {
  if (name === "" || name.includes("..") || /[/\\]/.test(name) || /[\s\u0000-\u001f\u007f]/.test(name)) {
    throw new UsageError(`invalid NATS context name ${JSON.stringify(name)}`);
  }
  const path = join(natsConfigDir(env), "context", `${name}.json`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `unknown NATS context "${name}": there is no ${path}` : `cannot read NATS context "${name}" (${path}): ${code ?? (err as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`NATS context "${name}" (${path}) is not valid JSON`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new UsageError(`NATS context "${name}" (${path}) is not a JSON object`);
  const fields = raw as Record<string, unknown>;

  for (const [field, what] of Object.entries(UNSUPPORTED)) {
    const v = fields[field];
    if (v === undefined || v === null || v === "" || v === false) continue;
    throw new UsageError(
      `NATS context "${name}" sets ${field} (${what}), which agentctl does not support; it connects with a creds file (creds), a server URL (url) and TLS files (ca, cert, key)`,
    );
  }
  const stringField = (field: "url" | "creds" | "ca" | "cert" | "key"): string | undefined => {
    const v = fields[field];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new UsageError(`NATS context "${name}" (${path}): ${field} must be a string`);
    return v.trim() === "" ? undefined : v;
  };
  const file = (field: "creds" | "ca" | "cert" | "key"): string | undefined => {
    const v = stringField(field);
    if (v === undefined) return undefined;
    if (/^[a-z][a-z0-9+.-]*:/i.test(v) && !/^[a-z]:[\\/]/i.test(v)) {
      throw new UsageError(`NATS context "${name}" gives ${field} as ${JSON.stringify(v)}, which agentctl does not support: give the path of a file`);
    }
    return expandPath(v, env);
  };
  return { name, path, url: stringField("url"), creds: file("creds"), ca: file("ca"), cert: file("cert"), key: file("key") };
}
