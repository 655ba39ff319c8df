// agentctl dlq: the namespace's dead letters (the stream TROUPE_<NS>_DLQ), one subcommand per file.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import * as ls from "./dlq-ls.js";
import * as purge from "./dlq-purge.js";
import * as replay from "./dlq-replay.js";
import * as show from "./dlq-show.js";

/** Register `agentctl dlq` and its subcommands. */
export function register(program: Command, f: Factory): void {
  const dlq = program
    .command("dlq")
    .summary("list, show, replay and purge dead letters")
    .description(
      "list, show, replay and purge dead letters: messages an agent could not handle (it failed on them, was killed or stopped " +
        "with them waiting, or they did not decode), kept with the reason in the stream TROUPE_<NS>_DLQ for 7 days",
    );
  for (const sub of [ls, show, replay, purge]) sub.register(dlq, f);
}
