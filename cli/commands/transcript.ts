// agentctl transcript: a model agent's conversation, read from its persisted
// state (the journal): messages, tool calls and results, approvals and other
// log lines by request, and the usage.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { journalOf, transcriptJson, transcriptOf, transcriptText } from "../transcript-view.js";

const EXAMPLES = `
Examples:
  $ agentctl transcript assistant/u42          # the conversation, one line per message
  $ agentctl transcript assistant/u42 --json   # in full, for scripts`;

/** Register `agentctl transcript ID [--json]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("transcript")
    .summary("show a model agent's conversation")
    .description(
      "print a model agent's conversation from its persisted state, request by request: the prompts, the model's " +
        "answers and tool calls, the tool results, approvals, refusals and failures, and the tokens and model calls " +
        `spent (text is cut to a line; --json has it in full)`,
    )
    .argument("<id>", "the model agent, as TYPE/KEY")
    .option("--json", "print {id, spent, waiting, requests} as JSON")
    .addHelpText("after", EXAMPLES)
    .action(
      f.action(async (id: string, opts: { json?: boolean }) => {
        parseAgentId(id);
        const stored = await (await f.client()).persistedState(id);
        if (stored === undefined) throw new NotFoundError(`no persisted state for ${id}: it has no conversation yet`);
        const transcript = transcriptOf(id, journalOf(id, stored.value));
        if (opts.json) return f.out.json(transcriptJson(transcript));
        for (const line of transcriptText(transcript)) f.out.line(line);
      }),
    );
}
