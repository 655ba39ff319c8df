// agentctl dlq ls: the newest dead letters, as a table or JSON.

import type { Command } from "commander";
import { DEFAULT_DEAD_LETTER_LIMIT, parseAgentId } from "../../actors/index.js";
import { deadLetterHeaders, deadLetterJson, deadLetterRows } from "../dead-letter-view.js";
import type { Factory } from "../factory.js";
import { positiveInteger } from "../option-parsers.js";

/** Register `agentctl dlq ls [--agent ID] [--limit N] [--json]`. */
export function register(dlq: Command, f: Factory): void {
  dlq
    .command("ls")
    .summary("list dead letters")
    .description("list the newest dead letters, oldest first: sequence, age, agent, message type, reason and sender")
    .option("-a, --agent <id>", "only the dead letters of this agent, as TYPE/KEY")
    .option("-l, --limit <n>", `at most this many, the newest (default ${DEFAULT_DEAD_LETTER_LIMIT})`, positiveInteger)
    .option("--json", "print the dead letters in full as a JSON array")
    .addHelpText("after", "\nExample:\n  $ agentctl dlq ls --agent counter/c1 --limit 10")
    .action(
      f.action(async (opts: { agent?: string; limit?: number; json?: boolean }) => {
        if (opts.agent !== undefined) parseAgentId(opts.agent);
        const client = await f.client();
        const { letters, more } = await client.deadLetters.list({ agent: opts.agent, limit: opts.limit });
        const of = opts.agent === undefined ? `in namespace ${client.namespace}` : `for ${opts.agent}`;
        if (more > 0) f.out.note(`${more} older dead letter${more === 1 ? "" : "s"} ${of} not shown (--limit)`);
        if (opts.json) return f.out.json(letters.map(deadLetterJson));
        if (letters.length === 0) return f.out.line(`no dead letters ${of}`);
        f.out.table(deadLetterHeaders(letters), deadLetterRows(letters, Date.now()));
      }),
    );
}
