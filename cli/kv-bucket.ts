// The bucket a `kv` command works on: the namespace's shared bucket, or the
// named one given with `--bucket`.

import type { Command } from "commander";
import type { MemoryBucket, MemoryEntry } from "../actors/index.js";
import { ErrorCode } from "../runtime/errors.js";
import type { Factory } from "./factory.js";
import { toJson } from "./output.js";

/** Add `--bucket NAME` to a kv command. */
export function withBucketOption(cmd: Command): Command {
  return cmd.option("-b, --bucket <name>", "a named shared-memory bucket (default: the namespace's shared bucket)");
}

/** The bucket named by `--bucket`, or the namespace's shared bucket. */
export async function openBucket(f: Factory, name: string | undefined): Promise<MemoryBucket> {
  const { memory } = await f.client();
  return name === undefined ? memory : memory.bucket(name);
}

/** A history or watch entry as plain JSON data. */
export function entryJson(e: MemoryEntry): Record<string, unknown> {
  return {
    key: e.key,
    op: e.op,
    revision: e.revision,
    created: e.created.toISOString(),
    value: e.value ?? null,
    ...(e.error ? { error: e.error.message } : {}),
  };
}

/** A history or watch entry as one line of text: `put user.1 = {"name":"Ada"}`. */
export function entryText(e: MemoryEntry): string {
  if (e.op === "delete") return `del  ${e.key}`;
  return `put  ${e.key} = ${e.error ? `<${e.error.message}>` : toJson(e.value)}`;
}

/**
 * Wrap a kv command's action: a bucket that does not exist because the whole
 * namespace does not (no node ever ran in it, or a mistyped -n) is said as
 * that, NamespaceNotFoundError, rather than as a missing bucket.
 */
export function inNamespace<A extends unknown[]>(f: Factory, fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<number | void> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== ErrorCode.BucketNotFound) throw err;
      // Throws NamespaceNotFoundError when the namespace's membership bucket is missing too.
      await (await f.client()).nodes();
      throw err;
    }
  };
}
