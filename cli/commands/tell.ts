// agentctl tell: send a message without waiting for an answer.

import type { Command } from "commander";
import { ActivationMode, AgentNotFoundError, MailboxKind, parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { withTypeHint } from "../hosted-types.js";
import { readJsonArg } from "../json-arg.js";

/** Register `agentctl tell ID MESSAGE`. */
export function register(program: Command, f: Factory): void {
  program
    .command("tell")
    .summary("send a message without waiting for an answer")
    .description(
      "send a message (JSON) to an agent, without waiting for an answer. To an agent with a core mailbox it must be\n" +
        "running (else exit 4), unless its type is activated on demand: then it is activated first. To an agent with a\n" +
        "durable mailbox it is stored first, whether the agent runs or not, and applied once; --id makes a retried send\n" +
        "safe (the same id within the duplicate window is stored once).",
    )
    .argument("<id>", "the agent, as TYPE/KEY")
    .argument("<message>", "the message, as JSON; - reads it from stdin, @FILE from a file")
    .option("--id <message-id>", "the message's id (durable mailboxes: a send retried with it is stored once)")
    .addHelpText("after", "\nExamples:\n  agentctl tell counter/c1 '{\"op\":\"inc\"}'\n  agentctl tell orders/o-17 '{\"op\":\"pay\"}' --id pay-o-17\n  agentctl tell docs/d1 @big-message.json\n  generate-report | agentctl tell docs/d1 -")
    .action(
      f.action(async (id: string, message: string, opts: { id?: string }) => {
        const { type } = parseAgentId(id);
        const msg = await readJsonArg(message, "MESSAGE");
        const client = await f.client();
        const durable = (await client.mailboxOf(type)) === MailboxKind.Durable;
        await withTypeHint(f, type, async () => {
          if ((await client.activationOf(type)) === ActivationMode.OnDemand) await client.activate(id);
          else if (!durable && (await client.whereIs(id)) === undefined) throw new AgentNotFoundError(id);
          await client.ref(id).tell(msg, { id: opts.id });
        });
        f.out.line(durable ? `stored in the durable mailbox of ${id}` : `sent to ${id}`);
      }),
    );
}
