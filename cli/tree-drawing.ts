// Supervision trees drawn with box characters, for `agentctl tree` and the demo:
//
//   node web-1
//   └── root  one_for_one
//       ├── counter/c1  running  restarts 0
//       └── team/t1  running  restarts 0
//           └── flaky/w1  running  restarts 2

import type { NodeTree, TreeNode } from "../actors/index.js";

function label(n: TreeNode): string {
  return [n.id, n.state, `restarts ${n.restarts}`, n.strategy ?? ""].filter((s) => s !== "").join("  ");
}

function branch(nodes: readonly TreeNode[], indent: string, lines: string[]): void {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    lines.push(`${indent}${last ? "└── " : "├── "}${label(n)}`);
    if (n.children && n.children.length > 0) branch(n.children, indent + (last ? "    " : "│   "), lines);
  });
}

/** One node's tree as lines of text. */
export function drawTree(tree: NodeTree): string[] {
  const lines = [`node ${tree.node}`, `└── ${tree.id}  ${tree.strategy}`];
  if (tree.children.length === 0) lines.push("    (no agents)");
  branch(tree.children, "    ", lines);
  return lines;
}

/** Every node's tree, separated by blank lines. */
export function drawTrees(trees: readonly NodeTree[]): string {
  return trees.map((t) => drawTree(t).join("\n")).join("\n\n");
}
