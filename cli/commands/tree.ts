// agentctl tree: the supervision tree of every node that hosts agents.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { drawTrees } from "../tree-drawing.js";

/** Register `agentctl tree`. */
export function register(program: Command, f: Factory): void {
  program
    .command("tree")
    .summary("show the supervision trees")
    .description("draw each node's supervision tree, with states and restart counts")
    .option("--json", "print the trees as JSON")
    .action(
      f.action(async (opts: { json?: boolean }) => {
        const node = await f.node();
        // Clients such as agentctl itself host no types and have empty trees: leave them out.
        const [nodes, trees] = await Promise.all([node.nodes(), node.treeAll()]);
        const hosting = new Set(nodes.filter((n) => n.types.length > 0).map((n) => n.id));
        const shown = trees.filter((t) => hosting.has(t.node));
        if (opts.json) return f.out.json(shown);
        if (shown.length === 0) return f.out.line(`no nodes in namespace ${node.namespace}`);
        f.out.line(drawTrees(shown));
      }),
    );
}
