// agentctl kv: the namespace's shared memory (JetStream KV), one subcommand per file.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import * as del from "./kv-del.js";
import * as get from "./kv-get.js";
import * as history from "./kv-history.js";
import * as ls from "./kv-ls.js";
import * as put from "./kv-put.js";
import * as watch from "./kv-watch.js";

/** Register `agentctl kv` and its subcommands. */
export function register(program: Command, f: Factory): void {
  const kv = program
    .command("kv")
    .summary("read, write and watch shared memory")
    .description("read, write and watch shared memory (JetStream key-value buckets)");
  for (const sub of [ls, get, put, del, history, watch]) sub.register(kv, f);
}
