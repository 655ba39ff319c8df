// An auth directory on disk, as `agentctl auth init` writes it and `agentctl
// dev --secure` uses it: authority.json (the seeds; secret), server.conf (for
// `nats-server -c`), a JetStream store, and one credentials file per role.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AUTHORITY_FILE, Authority, SERVER_CONF_FILE } from "../runtime/auth/authority.js";
import { ROLES, type Role } from "../runtime/auth/roles.js";

/** The credentials file of `role` for `namespace`: `DIR/<role>.creds` for the directory's first namespace, `DIR/namespaces/<ns>/<role>.creds` for others. */
export function credsPath(dir: string, authority: Authority, role: Role, namespace = authority.namespace): string {
  return namespace === authority.namespace ? join(dir, `${role}.creds`) : join(namespaceDir(dir, namespace), `${role}.creds`);
}

/** Where an auth directory keeps the credentials of a namespace added to it: `DIR/namespaces/<ns>`. */
export function namespaceDir(dir: string, namespace: string): string {
  return join(dir, "namespaces", namespace);
}

/** Whether `dir` holds an authority already. */
export function hasAuthority(dir: string): boolean {
  return existsSync(join(dir, AUTHORITY_FILE));
}

/**
 * Write `authority`, its server configuration (JetStream store in `DIR/jetstream`;
 * not with `{ serverConfig: false }`, for a caller that writes its own) and the
 * standard credentials of `namespace` (every role) into `dir`; the paths
 * written, in order.
 */
export async function writeAuthDir(dir: string, authority: Authority, namespace: string, opts: { serverConfig?: boolean } = {}): Promise<string[]> {
  await authority.save(dir);
  const written = [join(dir, AUTHORITY_FILE)];
  if (opts.serverConfig !== false) {
    const conf = join(dir, SERVER_CONF_FILE);
    await writeFile(conf, authority.serverConfig({ storeDir: join(dir, "jetstream") }), { mode: 0o600 });
    written.push(conf);
  }
  for (const role of ROLES) {
    const path = credsPath(dir, authority, role, namespace);
    await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
    await writeFile(path, (await authority.issue({ role, namespace })).creds, { mode: 0o600 });
    written.push(path);
  }
  return written;
}
