// agentctl ask: send a message and print the agent's answer as JSON.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { parseJsonArg } from "../json-arg.js";
import { positiveInteger } from "../option-parsers.js";

/** Register `agentctl ask ID MESSAGE [--timeout MS]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("ask")
    .summary("send a message and print the answer")
    .description("send a message (JSON) to an agent and print its answer as JSON")
    .argument("<id>", "the agent, as TYPE/KEY")
    .argument("<message>", "the message, as JSON")
    .option("-t, --timeout <ms>", "give up after this many milliseconds", positiveInteger, 5000)
    .option("--id <key>", "an idempotency key (durable mailboxes): asked again with it, the first answer comes back instead of a second application")
    .action(
      f.action(async (id: string, message: string, opts: { timeout: number; id?: string }) => {
        parseAgentId(id);
        const msg = parseJsonArg(message, "MESSAGE");
        const client = await f.client();
        const reply = await client.ref(id).ask(msg, { timeoutMs: opts.timeout, id: opts.id });
        f.out.json(reply);
      }),
    );
}
