// agentctl kv get: a key's value, as JSON.

import type { Command } from "commander";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { openBucket, withBucketOption, inNamespace } from "../kv-bucket.js";

/** Register `agentctl kv get KEY`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("get"))
    .summary("print a key's value")
    .description("print a key's value as JSON")
    .argument("<key>", "the key, e.g. user.1")
    .option("--json", "print {key, value, revision} as JSON")
    .action(
      f.action(inNamespace(f, async (key: string, opts: { bucket?: string; json?: boolean }) => {
        const bucket = await openBucket(f, opts.bucket);
        const found = await bucket.get(key);
        if (found === undefined) throw new NotFoundError(`key ${key} not found in bucket ${bucket.name}`);
        if (opts.json) return f.out.json({ key, value: found.value, revision: found.revision });
        f.out.json(found.value);
      })),
    );
}
