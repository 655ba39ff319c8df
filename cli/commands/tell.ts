// agentctl tell: send a message without waiting for an answer.

import type { Command } from "commander";
import { AgentNotFoundError, parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { parseJsonArg } from "../json-arg.js";

/** Register `agentctl tell ID MESSAGE`. */
export function register(program: Command, f: Factory): void {
  program
    .command("tell")
    .summary("send a message without waiting for an answer")
    .description("send a message (JSON) to a running agent, without waiting for an answer")
    .argument("<id>", "the agent, as TYPE/KEY")
    .argument("<message>", "the message, as JSON")
    .action(
      f.action(async (id: string, message: string) => {
        parseAgentId(id);
        const msg = parseJsonArg(message, "MESSAGE");
        const client = await f.client();
        if ((await client.whereIs(id)) === undefined) throw new AgentNotFoundError(id);
        await client.ref(id).tell(msg);
        f.out.line(`sent to ${id}`);
      }),
    );
}
