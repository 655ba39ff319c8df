// agentctl kv watch: print changes to keys as they happen, until Ctrl-C.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { entryJson, entryText, openBucket, withBucketOption, inNamespace } from "../kv-bucket.js";
import { untilSignal } from "../signals.js";

/** Register `agentctl kv watch [PATTERN]`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("watch"))
    .summary("print changes as they happen")
    .description("print every change to matching keys as it happens, until Ctrl-C")
    .argument("[pattern]", "only keys matching this pattern, e.g. user.>")
    .option("--json", "print one JSON object per change, one per line")
    .action(
      f.action(inNamespace(f, async (pattern: string | undefined, opts: { bucket?: string; json?: boolean }) => {
        const bucket = await openBucket(f, opts.bucket);
        const watch = bucket.watch(pattern);
        void untilSignal().then(() => watch.stop());
        await watch.ready;
        f.out.note(`watching ${pattern ?? "every key"} in bucket ${bucket.name}; press Ctrl-C to stop`);
        for await (const change of watch) {
          if (opts.json) f.out.jsonLine(entryJson(change));
          else f.out.line(`${entryText(change)}  (revision ${change.revision})`);
        }
      })),
    );
}
