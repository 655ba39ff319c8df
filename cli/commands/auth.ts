// agentctl auth: credentials the NATS way (an operator, an account per
// namespace, users with subject permissions), one subcommand per file.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import * as init from "./auth-init.js";
import * as issue from "./auth-issue.js";

/** Register `agentctl auth` and its subcommands. */
export function register(program: Command, f: Factory): void {
  const auth = program
    .command("auth")
    .summary("make credentials and a secured server configuration")
    .description(
      "make credentials the NATS way: an operator; per namespace an account for its nodes and admins and one for its\n" +
        "clients and observers (namespaces cannot see each other); users with subject permissions per role (admin,\n" +
        "node, client, observer), as standard .creds files any NATS client can use. The server enforces the\n" +
        "permissions; new credentials need no server restart.",
    );
  for (const sub of [init, issue]) sub.register(auth, f);
}
