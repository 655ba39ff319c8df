// agentctl kill: make an agent fail, as if its receive threw; its supervisor decides what follows.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";

/** Register `agentctl kill ID [--reason TEXT]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("kill")
    .summary("crash an agent; its supervisor restarts it")
    .description("make an agent fail as if it crashed; its supervisor restarts it (or not) by its rules")
    .argument("<id>", "the agent, as TYPE/KEY")
    .option("-r, --reason <text>", "the failure reason its supervisor records", "killed")
    .action(
      f.action(async (id: string, opts: { reason: string }) => {
        parseAgentId(id);
        await (await f.client()).kill(id, opts.reason);
        f.out.line(`killed ${id} (${opts.reason})`);
      }),
    );
}
