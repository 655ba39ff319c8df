// agentctl tree: the supervision tree of every live node.

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
        const client = await f.client();
        const trees = await client.treeAll();
        if (opts.json) return f.out.json(trees);
        if (trees.length === 0) return f.out.line(`no nodes in namespace ${client.namespace}`);
        f.out.line(drawTrees(trees));
      }),
    );
}
