// agentctl kv put: store a value (JSON when it parses as JSON, else a string).

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { readLooseValue } from "../json-arg.js";
import { openBucket, withBucketOption } from "../kv-bucket.js";

/** Register `agentctl kv put KEY VALUE`. */
export function register(kv: Command, f: Factory): void {
  withBucketOption(kv.command("put"))
    .summary("store a value")
    .description(
      "store a value under a key; VALUE is JSON when it parses as JSON, else a string. - reads VALUE from stdin,\n" +
        "@FILE from a file (to store the string \"-\" or one starting with @, give it as JSON: '\"@home\"').",
    )
    .argument("<key>", "the key, e.g. user.1")
    .argument("<value>", `the value, e.g. '{"name":"Ada"}', 42, hello, @doc.json or - (stdin)`)
    .action(
      f.action(async (key: string, value: string, opts: { bucket?: string }) => {
        const bucket = await openBucket(f, opts.bucket);
        const parsed = await readLooseValue(value, "VALUE");
        const revision = await bucket.put(key, parsed);
        f.out.line(`put ${key} (revision ${revision})`);
      }),
    );
}
