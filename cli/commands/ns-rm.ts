// agentctl ns rm: delete a namespace's streams and buckets (state, registry,
// memory, mailboxes, dead letters, ...), after a confirmation.

import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { NamespaceNotFoundError } from "../../runtime/errors.js";
import { asPermissionDenied } from "../../runtime/auth/permission-violation.js";
import { validateNamespace } from "../../runtime/subjects.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { nodesOf, streamsByNamespace } from "../namespace-listing.js";

interface RmFlags {
  yes?: boolean;
  force?: boolean;
}

/** Register `agentctl ns rm NS [--yes] [--force]`. */
export function register(ns: Command, f: Factory): void {
  ns.command("rm")
    .summary("delete a namespace's streams and buckets")
    .description(
      "delete every stream and bucket of namespace NS: agent state, registry, membership, shared memory (named\n" +
        "buckets too), durable mailboxes, dead letters, topics. Refused while a node of NS runs, unless --force (a\n" +
        "running node would make its streams again). Asks you to type NS to confirm; without a terminal, give --yes.\n" +
        "On a server with credentials only the admin credential may delete streams.",
    )
    .argument("<ns>", "the namespace to delete")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--force", "delete even while nodes of the namespace run")
    .addHelpText("after", "\nExamples:\n  agentctl ns ls\n  agentctl ns rm typo --yes")
    .action(
      f.action(async (name: string, opts: RmFlags) => {
        const namespace = validateNamespace(name);
        const client = await f.client();
        const streams = (await streamsByNamespace(client)).get(namespace) ?? [];
        if (streams.length === 0) throw new NamespaceNotFoundError(namespace);
        const { ids } = await nodesOf(client, namespace);
        if (ids.length > 0 && !opts.force) {
          throw new Error(`namespace ${namespace} has ${ids.length} node${ids.length === 1 ? "" : "s"} running (${ids.join(", ")}): stop ${ids.length === 1 ? "it" : "them"} first, or give --force`);
        }
        if (!opts.yes && !(await confirmed(namespace, streams))) {
          f.out.note(`namespace ${namespace} not removed`);
          return 1;
        }
        const jsm = await jetstreamManager(client.connection);
        for (const stream of streams) {
          try {
            await jsm.streams.delete(stream);
          } catch (err) {
            throw asPermissionDenied(err);
          }
        }
        f.out.line(`removed namespace ${namespace} (${streams.length} streams and buckets)`);
      }),
    );
}

/** Ask at the terminal; without one, a usage error asking for --yes. */
async function confirmed(namespace: string, streams: readonly string[]): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    throw new UsageError(`ns rm deletes ${streams.length} streams and buckets of namespace ${namespace} for good; add --yes to do it`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`This deletes ${streams.join(", ")} for good.\nType the namespace name (${namespace}) to confirm: `);
    return answer.trim() === namespace;
  } finally {
    rl.close();
  }
}
