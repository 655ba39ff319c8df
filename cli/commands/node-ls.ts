// agentctl node ls: the live nodes of the namespace and what they host.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { formatDuration } from "../output.js";

/** Register `agentctl node ls`. */
export function register(node: Command, f: Factory): void {
  node
    .command("ls")
    .summary("list the live nodes")
    .description("list the live nodes of the namespace (clients such as agentctl itself join no cluster and are never listed)")
    .option("--json", "print the nodes as a JSON array")
    .action(
      f.action(async (opts: { json?: boolean }) => {
        const client = await f.client();
        const nodes = await client.nodes();
        if (opts.json) return f.out.json(nodes);
        if (nodes.length === 0) return f.out.line(`no nodes in namespace ${client.namespace}`);
        const now = Date.now();
        f.out.table(
          ["ID", "HOST", "PID", "UPTIME", "AGENTS", "TYPES"],
          nodes.map((n) => [n.id, n.host, String(n.pid), formatDuration(now - n.startedAt), String(n.agents), n.types.join(",")]),
        );
      }),
    );
}
