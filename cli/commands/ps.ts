// agentctl ps: every agent of the namespace, across all nodes.

import type { Command } from "commander";
import { AGENT_TABLE_HEADERS, agentRows } from "../agent-table.js";
import type { Factory } from "../factory.js";
import { poolLines, poolSummaries, withPools } from "../pool-summary.js";
import { statePreview, stoppedAgents } from "../stopped-agents.js";

/** Register `agentctl ps`. */
export function register(program: Command, f: Factory): void {
  program
    .command("ps")
    .summary("list the agents of the namespace")
    .description("list every agent in the namespace, on every node, then a line per pool (agents keyed <name>-<i>) with the messages each member handled")
    .option("--json", "print the agents as a JSON array (pool members carry `pool` and `poolIndex`)")
    .option("-a, --all", "also list agents that are not running but kept their state (stopped), with that state: a preview, all of it with --json")
    .addHelpText("after", "\nExamples:\n  agentctl ps\n  agentctl ps --all          # stopped agents too, with their kept state\n  agentctl ps --all --json")
    .action(
      f.action(async (opts: { json?: boolean; all?: boolean }) => {
        const client = await f.client();
        const { agents, unreachable } = await client.listAll();
        for (const id of unreachable) f.out.note(`warning: node ${id} did not answer; its agents are not listed`);
        const stopped = opts.all ? await stoppedAgents(client, agents) : [];
        if (opts.json) return f.out.json([...withPools(agents), ...stopped]);
        if (agents.length === 0 && stopped.length === 0) return f.out.line(`no agents in namespace ${client.namespace}`);
        if (opts.all) {
          const rows = [
            ...agentRows(agents).map((r) => [...r, "-"]),
            ...stopped.map((a) => [a.id, "-", a.state, "-", "-", "-", a.problem ?? statePreview(a.keptState)]),
          ];
          f.out.table([...AGENT_TABLE_HEADERS, "KEPT STATE"], rows);
        } else f.out.table(AGENT_TABLE_HEADERS, agentRows(agents));
        // Pools (agents keyed <name>-<i>): members and the messages each handled.
        const pools = poolLines(poolSummaries(agents));
        if (pools.length > 0) f.out.line(["", ...pools].join("\n"));
      }),
    );
}
