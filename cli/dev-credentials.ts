// Where `agentctl dev --secure` keeps the local development credentials, and
// which of them a command uses when nothing else gives one: admin.creds for
// every command, node.creds for `agentctl node start`.

import { accessSync, constants as fsConstants } from "node:fs";
import { join } from "node:path";
import { namespaceDir } from "./auth-dir.js";
import { packageRoot } from "./package-root.js";

/** Which credential a command needs from the development set. */
export const DevRole = { Admin: "admin", Node: "node" } as const;
export type DevRole = (typeof DevRole)[keyof typeof DevRole];

/** The directory of the local development credentials: `<package root>/.nats/auth` (`TROUPE_DEV_AUTH_DIR` moves it, for tests). */
export function devAuthDir(): string {
  return process.env.TROUPE_DEV_AUTH_DIR || join(packageRoot(), ".nats", "auth");
}

/**
 * The development credentials of `namespace`: those of a namespace added later
 * (`.nats/auth/namespaces/<ns>`, see cli/auth-dir.ts) when there are some, else
 * the directory's own.
 */
export function devAuthDirFor(namespace: string, dir: string = devAuthDir()): string {
  const own = namespaceDir(dir, namespace);
  return readable(join(own, "admin.creds")) ? own : dir;
}

function readable(path: string): boolean {
  try {
    accessSync(path, fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The development credentials file for `role` in `dir`, if there is one:
 * `node.creds` for a node (else `admin.creds`), `admin.creds` otherwise.
 */
export function devCredentials(role: DevRole, dir: string = devAuthDir()): string | undefined {
  const candidates = role === DevRole.Node ? ["node.creds", "admin.creds"] : ["admin.creds"];
  for (const file of candidates) {
    const path = join(dir, file);
    if (readable(path)) return path;
  }
  return undefined;
}
