// agentctl dlq show: one dead letter in full.

import type { Command } from "commander";
import { deadLetterJson, deadLetterText } from "../dead-letter-view.js";
import type { Factory } from "../factory.js";
import { positiveInteger } from "../option-parsers.js";

/** Register `agentctl dlq show SEQ [--json]`. */
export function register(dlq: Command, f: Factory): void {
  dlq
    .command("show")
    .summary("show one dead letter in full")
    .description("show one dead letter in full: where it was going, why it failed, and the message, pretty-printed")
    .argument("<seq>", "its sequence, as `dlq ls` lists it", positiveInteger)
    .option("--json", "print it as JSON")
    .addHelpText("after", "\nExample:\n  $ agentctl dlq show 12")
    .action(
      f.action(async (seq: number, opts: { json?: boolean }) => {
        const entry = await (await f.client()).deadLetters.get(seq);
        if (opts.json) return f.out.json(deadLetterJson(entry));
        for (const line of deadLetterText(entry, Date.now())) f.out.line(line);
      }),
    );
}
