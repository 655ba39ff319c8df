// A throwaway nats-server with Troupe's security on: an operator and account
// made for it (runtime/auth/authority.ts), anonymous connections refused, and
// credentials issued on demand for any role and scope, as `.creds` files in
// the server's own temporary directory. Part of the test kit.
//
//   const secure = await startSecureNatsServer();
//   const node = await startNode({ servers: secure.url, credentials: await secure.creds({ role: "node" }), agents });

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Authority, type IssueOptions } from "../auth/authority.js";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "./nats-server.js";

/** A secured server and the authority whose credentials it accepts. */
export interface SecureNatsServer {
  readonly url: string;
  readonly server: NatsServer;
  readonly authority: Authority;
  /** Issue a credential and write it as a `.creds` file; resolves with its path. */
  creds(opts: IssueOptions): Promise<string>;
  /** Stop the server and remove its directories. */
  dispose(): Promise<void>;
}

let issued = 0;

/**
 * Start a secured nats-server on a random loopback port, with an account for
 * each of `namespaces` (default: `default`; the first is the default of `creds`).
 */
export async function startSecureNatsServer(opts: { namespaces?: readonly string[]; server?: NatsServerOptions } = {}): Promise<SecureNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-secure-"));
  const authority = await Authority.create(opts.namespaces ?? ["default"]);
  const configFile = join(dir, "server.conf");
  writeFileSync(configFile, authority.serverConfig({ port: 4222 }));
  let server: NatsServer;
  try {
    server = await startNatsServer({ ...opts.server, configFile });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    server,
    authority,
    async creds(o) {
      const { creds } = await authority.issue(o);
      const path = join(dir, `${o.name ?? o.role}-${++issued}.creds`);
      writeFileSync(path, creds, { mode: 0o600 });
      return path;
    },
    async dispose() {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
