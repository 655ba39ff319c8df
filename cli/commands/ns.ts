// agentctl ns: the namespaces on the server: list them, delete one.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import * as ls from "./ns-ls.js";
import * as rm from "./ns-rm.js";

/** Register `agentctl ns` and its subcommands. */
export function register(program: Command, f: Factory): void {
  const ns = program.command("ns").summary("list or delete namespaces").description("list the namespaces on the server, or delete one's streams and buckets");
  for (const sub of [ls, rm]) sub.register(ns, f);
}
