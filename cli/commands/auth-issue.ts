// agentctl auth issue: one more credential, for a role, narrowed to agent
// types, one agent, a node name; signed by the namespace's account, so the
// running server accepts it without a restart.

import { existsSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { Authority } from "../../runtime/auth/authority.js";
import { ROLES, type Role } from "../../runtime/auth/roles.js";
import { typeReaches } from "../../runtime/auth/type-reach.js";
import { parseAgentId, validateToken } from "../../runtime/subjects.js";
import { loadAgentModule } from "../agent-module.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { durationSeconds, list } from "../option-parsers.js";
import { DEFAULT_AUTH_DIR } from "./auth-init.js";

interface IssueFlags {
  role: Role;
  types?: string[];
  agent?: string;
  node?: string;
  agents?: string;
  buckets?: string[];
  memoryRead?: string[];
  name?: string;
  expires?: number;
  dir: string;
  out?: string;
  force?: boolean;
}

/** Register `agentctl auth issue --role ROLE [--types T1,T2] [--agent ID] [--out FILE] ...`. */
export function register(auth: Command, f: Factory): void {
  auth
    .command("issue")
    .summary("issue a credential for a role, narrowed to types or one agent")
    .description(
      "issue a .creds file for the namespace (-n; default: the one auth init was given), signed with the authority in --dir. Roles: node (hosts agents),\n" +
        "client (sends to agents, reads its replies), observer (reads events, lists agents), admin (everything in the\n" +
        "namespace). --types and --agent narrow a node to hosting those agents and a client to sending to them. With\n" +
        "--agents MODULE, a node credential for --types carries only what those types' `can` declarations reach\n" +
        "(messages, memory writes), so the server enforces them too when they run on their own node.",
    )
    .addOption(new Option("--role <role>", "the role").choices(ROLES as string[]).makeOptionMandatory())
    .option("--types <t1,t2>", "only these agent types", list)
    .option("--agent <id>", "only this agent (TYPE/KEY)")
    .option("--node <name>", "a node credential for this node name only (its membership entry and control subjects)")
    .option("--agents <module>", "the agents module declaring the --types (their `can` narrows a node credential)")
    .option("--buckets <b1,b2>", "named shared-memory buckets it may use, besides the default one", list)
    .option("--memory-read <patterns>", "a client may read shared memory: key patterns (facts.>, or bucket:pattern); the server grants reading per bucket", list)
    .option("--name <name>", "the credential's name, as the server's monitoring shows it (default: the role)")
    .option("--expires <duration>", "expire after this long (90s, 30m, 12h, 30d); default never", durationSeconds)
    .option("--dir <dir>", "the authority's directory (from auth init)", DEFAULT_AUTH_DIR)
    .option("--out <file>", "write the credential here (mode 0600) instead of to stdout")
    .option("--force", "overwrite --out if it exists")
    .action(
      f.action(async (opts: IssueFlags) => {
        const authority = await Authority.load(resolve(opts.dir));
        // Without -n, the namespace the authority was made for.
        const namespace = f.namespaceChosen() ? f.namespace() : authority.namespace;
        if (opts.types && opts.agent) throw new UsageError("give --types or --agent, not both");
        if (opts.node !== undefined && opts.role !== "node") throw new UsageError("--node narrows a node credential: use it with --role node");
        if (opts.memoryRead && opts.role !== "client") throw new UsageError("--memory-read is for --role client (a node reads what its types' `can` allows)");
        if (opts.agents && opts.role !== "node") throw new UsageError("--agents narrows a node credential by its types' `can`: use it with --role node");
        for (const t of opts.types ?? []) validateToken("agent type", t);
        if (opts.node !== undefined) validateToken("node name", opts.node);
        const agent = opts.agent === undefined ? undefined : parseAgentId(opts.agent);
        let reach: ReturnType<typeof typeReaches> | undefined;
        if (opts.agents) {
          const defs = await loadAgentModule(opts.agents);
          const wanted = new Set(opts.types ?? (agent ? [agent.type] : []));
          if (wanted.size === 0) throw new UsageError("--agents needs --types (or --agent): the types whose `can` the credential carries");
          const missing = [...wanted].filter((t) => !defs.some((d) => d.type === t));
          if (missing.length > 0) throw new UsageError(`${opts.agents} does not define ${missing.join(", ")}`);
          reach = typeReaches(defs.filter((d) => wanted.has(d.type)));
        } else if (opts.role === "node" && (opts.types || agent)) {
          f.out.note("note: without --agents the types' `can` declarations are not known, so their agents may message every agent and write all shared memory");
        }
        if (opts.out !== undefined && existsSync(opts.out) && !opts.force) throw new UsageError(`${opts.out} exists: --force overwrites it`);
        const issued = await authority.issue({
          role: opts.role,
          namespace,
          types: opts.types,
          agent,
          node: opts.node,
          buckets: opts.buckets,
          memoryRead: opts.memoryRead,
          reach,
          name: opts.name,
          expiresInSeconds: opts.expires,
        });
        if (opts.out === undefined) {
          f.out.line(new TextDecoder().decode(issued.creds).trimEnd());
        } else {
          // "wx" fails if the file appeared since the check; an overwritten file keeps its old mode, hence the chmod.
          await writeFile(opts.out, issued.creds, { mode: 0o600, flag: opts.force ? "w" : "wx" });
          await chmod(opts.out, 0o600);
          f.out.line(resolve(opts.out));
          f.out.note(`${opts.role} credential for namespace ${namespace}, user ${issued.publicKey}`);
        }
      }),
    );
}
