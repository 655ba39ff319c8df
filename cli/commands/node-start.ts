// agentctl node start: host agents in the foreground until Ctrl-C or SIGTERM,
// then hand them to live peers (a rolling restart loses nothing) and leave.

import type { Command } from "commander";
import { builtinAgents, startNode } from "../../actors/index.js";
import { loadAgentModule, type Definition } from "../agent-module.js";
import { DevRole } from "../dev-credentials.js";
import type { Factory } from "../factory.js";
import { untilSignal } from "../signals.js";
import { positiveInteger } from "../option-parsers.js";
import type { NodeNotice } from "../../runtime/node-notice.js";

/** The line `node start` prints for a notice of its node. */
export function noticeLine(node: string, n: NodeNotice): string {
  switch (n.kind) {
    case "adopted":
      return `node ${node} adopted ${n.agent} from node ${n.from}, which is gone`;
    case "disconnected":
      return `node ${node} lost the server ${n.server}; reconnecting`;
    case "reconnected":
      return `node ${node} reconnected to ${n.server}`;
  }
}

/** The built-in types, then the module's; a module type of the same name replaces the built-in one. */
function hostedTypes(fromModule: readonly Definition[]): Definition[] {
  const names = new Set(fromModule.map((d) => d.type));
  return [...builtinAgents.filter((b) => !names.has(b.type)), ...fromModule];
}

/** Register `agentctl node start [--agents MODULE] [--name NAME] [--replicas N] [--no-handover]`. */
export function register(node: Command, f: Factory): void {
  node
    .command("start")
    .summary("run a node in the foreground")
    .description(
      "run a node in the foreground hosting echo, counter and the agent types a module exports. On Ctrl-C or SIGTERM it\n" +
        "hands its agents to live peers that host their types (each commits, stops here and starts there from its state;\n" +
        "asks sent meanwhile wait for it), so restarting nodes one at a time keeps every agent running. Agents no peer\n" +
        "takes are stopped. --no-handover stops them all instead.",
    )
    .option("--agents <module>", "a .ts, .js or .mjs file whose exports include defineAgent/defineSupervisor results")
    .option("--name <name>", "this node's id (default: host-pid-random)")
    .option("--replicas <n>", "copies of each stream and bucket this node creates: 1 on one server, 3 on a NATS cluster", positiveInteger)
    .option("--no-handover", "on Ctrl-C or SIGTERM, stop the agents instead of handing them to peers")
    .action(
      f.action(async (opts: { agents?: string; name?: string; replicas?: number; handover: boolean }) => {
        const types = hostedTypes(opts.agents === undefined ? [] : await loadAgentModule(opts.agents));
        const c = f.connection(DevRole.Node);
        const signal = untilSignal();
        const running = await startNode({
          servers: c.servers,
          credentials: c.credentials,
          tls: c.tls,
          namespace: f.namespace(),
          agents: types,
          name: opts.name,
          replicas: opts.replicas,
        });
        f.out.line(
          `node ${running.id} ready in namespace ${running.namespace} at ${c.server}${c.credentials ? ` with credentials ${c.credentials}` : ""}, hosting ${types.map((t) => t.type).join(", ")}`,
        );
        running.onNotice((n) => f.out.line(noticeLine(running.id, n)));
        f.out.note("press Ctrl-C to stop");
        // The node may also close on its own (another process took its name): then exit with its reason.
        const got = await Promise.race([signal, running.whenClosed().then((reason) => reason ?? new Error(`node ${running.id} closed`))]);
        if (got instanceof Error) throw got;
        f.out.note(`${got}: ${opts.handover ? "handing agents to peers" : "stopping agents"} and leaving the cluster`);
        await running.close({ handover: opts.handover });
        f.out.note(`node ${running.id} stopped`);
      }),
    );
}
