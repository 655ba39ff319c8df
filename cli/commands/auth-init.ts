// agentctl auth init: new keys, a server configuration that trusts them, and
// a credentials file for each standard role.

import { join, resolve } from "node:path";
import type { Command } from "commander";
import { Authority, SERVER_CONF_FILE } from "../../runtime/auth/authority.js";
import { Role } from "../../runtime/auth/roles.js";
import { credsPath, hasAuthority, writeAuthDir } from "../auth-dir.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";

/** Where `auth init` and `auth issue` keep the authority when not told. */
export const DEFAULT_AUTH_DIR = "troupe-auth";

/** Register `agentctl auth init [--out DIR] [--add] [--force]`. */
export function register(auth: Command, f: Factory): void {
  auth
    .command("init")
    .summary("write a secured server configuration and credentials for every role")
    .description(
      "write DIR/server.conf (run it with `nats-server -c DIR/server.conf`; `-p PORT` overrides its port 4222) and\n" +
        "DIR/admin.creds, node.creds, client.creds, observer.creds for the namespace (-n). DIR/authority.json holds the\n" +
        "keys that sign every credential: keep it secret. --add gives another namespace an account of its own in an\n" +
        "existing DIR (its credentials go to DIR/namespaces/<namespace>/); reload the server afterwards (`nats-server --signal reload`).",
    )
    .option("--out <dir>", "the directory to write", DEFAULT_AUTH_DIR)
    .option("--add", "add the namespace to the authority already in DIR")
    .option("--force", "replace the authority already in DIR with new keys (every credential it issued stops working)")
    .action(
      f.action(async (opts: { out: string; add?: boolean; force?: boolean }) => {
        const namespace = f.namespace();
        const dir = resolve(opts.out);
        let authority: Authority;
        if (hasAuthority(dir) && !opts.force) {
          if (!opts.add) throw new UsageError(`${dir} holds an authority already: --add adds namespace "${namespace}" to it, --force replaces it`);
          authority = await Authority.load(dir);
          await authority.addNamespace(namespace);
        } else {
          if (opts.add) throw new UsageError(`${dir} holds no authority to add to: run without --add`);
          authority = await Authority.create(namespace);
        }
        const written = await writeAuthDir(dir, authority, namespace);
        for (const path of written) f.out.line(path);
        f.out.note(
          [
            `namespace ${namespace}: account ${authority.account(namespace)}`,
            `start the server:   nats-server -c ${join(dir, SERVER_CONF_FILE)}`,
            `use a credential:   agentctl --creds ${credsPath(dir, authority, Role.Admin, namespace)} ps   (or NATS_CREDS=...)`,
            "issue more:         agentctl auth issue --role client --types orders --out orders-client.creds",
          ].join("\n"),
        );
      }),
    );
}
