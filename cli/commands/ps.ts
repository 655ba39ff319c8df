// agentctl ps: every agent of the namespace, across all nodes.

import type { Command } from "commander";
import { AGENT_TABLE_HEADERS, agentRows } from "../agent-table.js";
import type { Factory } from "../factory.js";
import { poolLines, poolSummaries, withPools } from "../pool-summary.js";

/** Register `agentctl ps`. */
export function register(program: Command, f: Factory): void {
  program
    .command("ps")
    .summary("list the agents of the namespace")
    .description("list every agent in the namespace, on every node, then a line per pool (agents keyed <name>-<i>) with the messages each member handled")
    .option("--json", "print the agents as a JSON array (pool members carry `pool` and `poolIndex`)")
    .action(
      f.action(async (opts: { json?: boolean }) => {
        const client = await f.client();
        const { agents, unreachable } = await client.listAll();
        for (const id of unreachable) f.out.note(`warning: node ${id} did not answer; its agents are not listed`);
        if (opts.json) return f.out.json(withPools(agents));
        if (agents.length === 0) return f.out.line(`no agents in namespace ${client.namespace}`);
        f.out.table(AGENT_TABLE_HEADERS, agentRows(agents));
        // Pools (agents keyed <name>-<i>): members and the messages each handled.
        const pools = poolLines(poolSummaries(agents));
        if (pools.length > 0) f.out.line(["", ...pools].join("\n"));
      }),
    );
}
