// agentctl node: running a node, and listing the nodes of the namespace.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import * as ls from "./node-ls.js";
import * as start from "./node-start.js";

/** Register `agentctl node` and its subcommands. */
export function register(program: Command, f: Factory): void {
  const node = program.command("node").summary("run a node, or list the nodes").description("run a node that hosts agents, or list the live nodes of the namespace");
  for (const sub of [start, ls]) sub.register(node, f);
}
