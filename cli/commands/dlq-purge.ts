// agentctl dlq purge: delete dead letters for good (all, or one agent's), only with --yes.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";

/** Register `agentctl dlq purge [--agent ID] --yes`. */
export function register(dlq: Command, f: Factory): void {
  dlq
    .command("purge")
    .summary("delete dead letters for good")
    .description("delete every dead letter of the namespace, or of one agent, for good; asks for --yes")
    .option("-a, --agent <id>", "only the dead letters of this agent, as TYPE/KEY")
    .option("-y, --yes", "really delete them")
    .addHelpText("after", "\nExample:\n  $ agentctl dlq purge --agent counter/c1 --yes")
    .action(
      f.action(async (opts: { agent?: string; yes?: boolean }) => {
        if (opts.agent !== undefined) parseAgentId(opts.agent);
        const what = opts.agent === undefined ? "every dead letter of the namespace" : `every dead letter of ${opts.agent}`;
        if (!opts.yes) throw new UsageError(`dlq purge deletes ${what} for good; add --yes to do it`);
        const client = await f.client();
        const purged = await client.deadLetters.purge({ agent: opts.agent });
        const of = opts.agent === undefined ? `in namespace ${client.namespace}` : `of ${opts.agent}`;
        f.out.line(`purged ${purged} dead letter${purged === 1 ? "" : "s"} ${of}`);
      }),
    );
}
