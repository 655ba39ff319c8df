// agentctl spawn: start an agent on a node that hosts its type, and print its id.

import { Option, type Command } from "commander";
import { agentId, parseAgentId, RestartType } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { requireHostedType } from "../hosted-types.js";
import { readJsonArg } from "../json-arg.js";

interface SpawnFlags {
  key?: string;
  args?: string;
  node?: string;
  supervisor?: string;
  restart?: RestartType;
}

/** Register `agentctl spawn TYPE [--key K] [--args JSON] [--node NAME] [--supervisor ID] [--restart TYPE]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("spawn")
    .summary("start an agent and print its id")
    .description("start an agent of TYPE on a node that hosts the type, and print its id (TYPE/KEY)")
    .argument("<type>", "the agent type, e.g. counter")
    .option("-k, --key <key>", "the agent's key (default: a fresh unique one)")
    .option("-a, --args <json>", "arguments for the agent's initial state, as JSON; - reads them from stdin, @FILE from a file")
    .option("--node <name>", "start it on this node")
    .option("--supervisor <id>", "start it under this supervisor agent (TYPE/KEY) instead of the node's root")
    .addOption(
      new Option("--restart <type>", "when its supervisor restarts it").choices(Object.values(RestartType)).default(RestartType.Permanent),
    )
    .action(
      f.action(async (type: string, opts: SpawnFlags) => {
        const args = opts.args === undefined ? undefined : await readJsonArg(opts.args, "--args");
        // Check the names before connecting, so a typo is a usage error even with no server.
        agentId(type, opts.key ?? "any");
        if (opts.supervisor !== undefined) parseAgentId(opts.supervisor);
        const client = await f.client();
        // To the pool: a type no live node hosts is said at once, with what is hosted.
        if (opts.node === undefined && opts.supervisor === undefined) await requireHostedType(f, type);
        const ref = await client.spawn(type, {
          key: opts.key,
          args,
          node: opts.node,
          supervisor: opts.supervisor,
          restart: opts.restart,
        });
        f.out.line(ref.id);
      }),
    );
}
