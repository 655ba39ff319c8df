// agentctl kv history: the revisions of a key the bucket still keeps, and who
// wrote each (as the writing runtime stated it; "-" for a write made without Troupe).

import type { Command } from "commander";
import type { MemoryEntry } from "../../actors/index.js";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { entryJson, openBucket, withBucketOption, inNamespace } from "../kv-bucket.js";
import { toJson } from "../output.js";

/** Register `agentctl kv history KEY`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("history"))
    .summary("list a key's revisions")
    .description(
      "list the revisions of a key still kept, oldest first, with who wrote each (an agent id, client:<name> or node:<id>).\n" +
        "KEY may be a pattern ('user.*', '>'): then the revisions of every matching key are listed, in the order\n" +
        "they were written, with a KEY column.",
    )
    .argument("<key>", "the key, e.g. user.1, or a pattern such as 'user.>'")
    .option("--json", "print the revisions as a JSON array, each with its key (writer: null for a write made without Troupe)")
    .addHelpText("after", "\nExamples:\n  agentctl kv history user.1\n  agentctl kv history '>'        # every key, with a KEY column")
    .action(
      f.action(inNamespace(f, async (key: string, opts: { bucket?: string; json?: boolean }) => {
        const bucket = await openBucket(f, opts.bucket);
        const entries: MemoryEntry[] = [];
        for await (const e of bucket.history(key)) entries.push(e);
        if (entries.length === 0) throw new NotFoundError(`key ${key} has no history in bucket ${bucket.name}`);
        if (opts.json) return f.out.json(entries.map((e) => ({ ...entryJson(e), writer: e.writer ?? null })));
        // A pattern can match several keys: then each row names its key.
        const keyed = isPattern(key);
        f.out.table(
          [...(keyed ? ["KEY"] : []), "REVISION", "OP", "CREATED", "WRITER", "VALUE"],
          entries.map((e) => [
            ...(keyed ? [e.key] : []),
            String(e.revision),
            e.op,
            e.created.toISOString(),
            e.writer ?? "-",
            e.op === "delete" ? "-" : e.error ? `<${e.error.message}>` : toJson(e.value),
          ]),
        );
      })),
    );
}

/** Whether a key argument is a pattern that may match more than one key (`*` or `>` as a token). */
function isPattern(key: string): boolean {
  return key.split(".").some((t) => t === "*" || t === ">");
}
