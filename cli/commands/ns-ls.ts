// agentctl ns ls: the namespaces on the server, with their nodes, agents and streams.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { listNamespaces } from "../namespace-listing.js";

/** Register `agentctl ns ls`. */
export function register(ns: Command, f: Factory): void {
  ns.command("ls")
    .summary("list the namespaces on the server")
    .description(
      "list the namespaces present on the server (found from their streams and buckets), each with its live nodes,\n" +
        "the agents running on them, and its streams (KV buckets included). On a server with credentials, each\n" +
        "namespace is an account of its own: only the credential's namespace is seen. -n is not used.",
    )
    .option("--json", "print them as a JSON array ({namespace, nodes, agents, streams}; agents null when a node did not answer)")
    .action(
      f.action(async (opts: { json?: boolean }) => {
        const list = await listNamespaces(await f.client());
        if (opts.json) return f.out.json(list);
        if (list.length === 0) return f.out.line("no namespaces on this server");
        f.out.table(
          ["NAMESPACE", "NODES", "AGENTS", "STREAMS"],
          list.map((n) => [n.namespace, String(n.nodes), n.agents === null ? "?" : String(n.agents), String(n.streams)]),
        );
      }),
    );
}
