// agentctl kv ls: the keys that hold a value.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { openBucket, withBucketOption, inNamespace } from "../kv-bucket.js";

/** Register `agentctl kv ls [PATTERN]`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("ls"))
    .summary("list keys")
    .description("list the keys that hold a value")
    .argument("[pattern]", "only keys matching this pattern, e.g. user.> or user.*.name")
    .option("--json", "print the keys as a JSON array")
    .action(
      f.action(inNamespace(f, async (pattern: string | undefined, opts: { bucket?: string; json?: boolean }) => {
        const bucket = await openBucket(f, opts.bucket);
        const keys: string[] = [];
        for await (const k of bucket.keys(pattern)) keys.push(k);
        keys.sort();
        if (opts.json) return f.out.json(keys);
        if (keys.length === 0) f.out.note(`no keys${pattern ? ` matching ${pattern}` : ""} in bucket ${bucket.name}`);
        for (const k of keys) f.out.line(k);
      })),
    );
}
