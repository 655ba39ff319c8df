// agentctl kv del: delete a key (its history keeps a delete marker).

import type { Command } from "commander";
import { NotFoundError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { openBucket, withBucketOption, inNamespace } from "../kv-bucket.js";

/** Register `agentctl kv del KEY`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("del"))
    .summary("delete a key")
    .description("delete a key")
    .argument("<key>", "the key, e.g. user.1")
    .action(
      f.action(inNamespace(f, async (key: string, opts: { bucket?: string }) => {
        const bucket = await openBucket(f, opts.bucket);
        if ((await bucket.get(key)) === undefined) throw new NotFoundError(`key ${key} not found in bucket ${bucket.name}`);
        const revision = await bucket.delete(key);
        f.out.line(`deleted ${key} (revision ${revision})`);
      })),
    );
}
