// agentctl kv history: the revisions of a key the bucket still keeps, and who
// wrote each (as the writing runtime stated it; "-" for a write made without Troupe).

import type { Command } from "commander";
import type { MemoryEntry } from "../../actors/index.js";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { entryJson, openBucket, withBucketOption } from "../kv-bucket.js";
import { toJson } from "../output.js";

/** Register `agentctl kv history KEY`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("history"))
    .summary("list a key's revisions")
    .description("list the revisions of a key still kept, oldest first, with who wrote each (an agent id, client:<name> or node:<id>)")
    .argument("<key>", "the key, e.g. user.1")
    .option("--json", "print the revisions as a JSON array (writer: null for a write made without Troupe)")
    .action(
      f.action(async (key: string, opts: { bucket?: string; json?: boolean }) => {
        const bucket = await openBucket(f, opts.bucket);
        const entries: MemoryEntry[] = [];
        for await (const e of bucket.history(key)) entries.push(e);
        if (entries.length === 0) throw new NotFoundError(`key ${key} has no history in bucket ${bucket.name}`);
        if (opts.json) return f.out.json(entries.map((e) => ({ ...entryJson(e), writer: e.writer ?? null })));
        f.out.table(
          ["REVISION", "OP", "CREATED", "WRITER", "VALUE"],
          entries.map((e) => [
            String(e.revision),
            e.op,
            e.created.toISOString(),
            e.writer ?? "-",
            e.op === "delete" ? "-" : e.error ? `<${e.error.message}>` : toJson(e.value),
          ]),
        );
      }),
    );
}
