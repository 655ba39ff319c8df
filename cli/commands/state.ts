// agentctl state: an agent's persisted state and its revision.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { toJson } from "../output.js";

/** Register `agentctl state ID`. */
export function register(program: Command, f: Factory): void {
  program
    .command("state")
    .summary("show an agent's persisted state")
    .description("print an agent's persisted state and its revision (running or not)")
    .argument("<id>", "the agent, as TYPE/KEY")
    .option("--json", "print {id, revision, value} as JSON")
    .action(
      f.action(async (id: string, opts: { json?: boolean }) => {
        parseAgentId(id);
        const stored = await (await f.client()).persistedState(id);
        if (stored === undefined) throw new NotFoundError(`no persisted state for ${id}`);
        if (opts.json) return f.out.json({ id, revision: stored.revision, value: stored.value });
        f.out.line(`${id}  revision ${stored.revision}`);
        f.out.line(toJson(stored.value, 2));
      }),
    );
}
