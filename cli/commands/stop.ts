// agentctl stop: stop an agent for good (its supervisor does not restart it).

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";

/** Register `agentctl stop ID`. */
export function register(program: Command, f: Factory): void {
  program
    .command("stop")
    .summary("stop an agent for good")
    .description("stop an agent for good: it is not restarted, and its persisted state is kept")
    .argument("<id>", "the agent, as TYPE/KEY")
    .action(
      f.action(async (id: string) => {
        parseAgentId(id);
        await (await f.client()).stop(id);
        f.out.line(`stopped ${id}`);
      }),
    );
}
