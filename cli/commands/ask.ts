// agentctl ask: send a message and print the agent's answer as JSON, or with
// --stream each chunk of it as a JSON line as it comes (the last is `done`).

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { withTypeHint } from "../hosted-types.js";
import { readJsonArg } from "../json-arg.js";
import { positiveInteger } from "../option-parsers.js";

/** Register `agentctl ask ID MESSAGE [--timeout MS] [--id KEY] [--stream]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("ask")
    .summary("send a message and print the answer")
    .description("send a message (JSON) to an agent and print its answer as JSON")
    .argument("<id>", "the agent, as TYPE/KEY")
    .argument("<message>", "the message, as JSON; - reads it from stdin, @FILE from a file")
    .option("-t, --timeout <ms>", "give up after this many milliseconds with nothing from the agent (each chunk or keep-alive starts it again)", positiveInteger, 5000)
    .option(
      "--id <key>",
      "the message's id: asked again with it, a durable agent or a model agent answers with the first outcome instead of a second application",
    )
    .option("-s, --stream", "print each chunk of the answer as a JSON line as it comes (ctx.emit; a model agent's text, tool calls, approvals), the reply last as a done chunk")
    .addHelpText(
      "after",
      `
Examples:
  agentctl ask counter/c1 '{"op":"get"}'
  agentctl ask assistant/u42 '{"prompt":"What is 2+3?"}' --timeout 30000
  agentctl ask assistant/u42 '"Summarise my orders"' --stream
  agentctl ask echo/e1 @message.json            # JSON from a file (any size)
  cat message.json | agentctl ask echo/e1 -     # JSON from stdin`,
    )
    .action(
      f.action(async (id: string, message: string, opts: { timeout: number; id?: string; stream?: boolean }) => {
        const { type } = parseAgentId(id);
        const msg = await readJsonArg(message, "MESSAGE");
        const client = await f.client();
        await withTypeHint(f, type, async () => {
          if (opts.stream) {
            for await (const chunk of client.ref(id).stream(msg, { inactivityMs: opts.timeout, id: opts.id })) f.out.line(JSON.stringify(chunk));
            return;
          }
          const reply = await client.ref(id).ask(msg, { timeoutMs: opts.timeout, id: opts.id });
          f.out.json(reply);
        });
      }),
    );
}
