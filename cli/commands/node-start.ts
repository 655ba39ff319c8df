// agentctl node start: host agents in the foreground until Ctrl-C or SIGTERM,
// then hand them to live peers (a rolling restart loses nothing) and leave.

import type { Command } from "commander";
import { builtinAgents, EventKind, startNode } from "../../actors/index.js";
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

/** The collector to export to: the flag, else TROUPE_OTLP, else OTEL_EXPORTER_OTLP_ENDPOINT; an empty value is none. */
function otlpEndpoint(flag: string | undefined): string | undefined {
  const url = flag ?? process.env.TROUPE_OTLP ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return url === undefined || url.trim() === "" ? undefined : url.trim();
}

/** Register `agentctl node start [--agents MODULE] [--name NAME] [--replicas N] [--no-handover] [--otlp URL]`. */
export function register(node: Command, f: Factory): void {
  node
    .command("start")
    .summary("run a node in the foreground")
    .description(
      "run a node in the foreground hosting echo, counter and the agent types a module exports. On Ctrl-C or SIGTERM it\n" +
        "hands its agents to live peers that host their types (each commits, stops here and starts there from its state;\n" +
        "asks sent meanwhile wait for it), so restarting nodes one at a time keeps every agent running. Agents no peer\n" +
        "takes are stopped. --no-handover stops them all instead.\n\n" +
        "--otlp URL exports traces (an ask chain across agents is one trace) and metrics (messages handled, mailbox\n" +
        "depth, restarts, handling time) over OTLP/HTTP to a collector such as Jaeger or the OpenTelemetry Collector;\n" +
        "an unreachable collector is reported once and never stops the node.\n\n" +
        "Examples:\n" +
        "  agentctl node start --agents ./agents.ts\n" +
        "  agentctl node start --otlp http://localhost:4318",
    )
    .option("--agents <module>", "a .ts, .js or .mjs file whose exports include defineAgent/defineSupervisor results")
    .option("--name <name>", "this node's id (default: host-pid-random)")
    .option("--replicas <n>", "copies of each stream and bucket this node creates: 1 on one server, 3 on a NATS cluster", positiveInteger)
    .option("--no-handover", "on Ctrl-C or SIGTERM, stop the agents instead of handing them to peers")
    .option("--otlp <url>", "export traces and metrics over OTLP/HTTP to this collector (default: TROUPE_OTLP, else OTEL_EXPORTER_OTLP_ENDPOINT, else none)")
    .action(
      f.action(async (opts: { agents?: string; name?: string; replicas?: number; handover: boolean; otlp?: string }) => {
        const types = hostedTypes(opts.agents === undefined ? [] : await loadAgentModule(opts.agents));
        const c = f.connection(DevRole.Node);
        const signal = untilSignal();
        const otlp = otlpEndpoint(opts.otlp);
        const running = await startNode({
          servers: c.servers,
          credentials: c.credentials,
          tls: c.tls,
          namespace: f.namespace(),
          agents: types,
          name: opts.name,
          replicas: opts.replicas,
          telemetry: otlp === undefined ? undefined : { otlp },
        });
        f.out.line(
          `node ${running.id} ready in namespace ${running.namespace} at ${c.server}${c.credentials ? ` with credentials ${c.credentials}` : ""}, hosting ${types.map((t) => t.type).join(", ")}`,
        );
        if (otlp !== undefined) {
          f.out.note(`exporting traces and metrics to ${otlp} (OTLP/HTTP)`);
          running.onEvent((e) => {
            if (e.where === "telemetry export") f.out.note(String(e.reason));
          }, { kind: EventKind.AgentError, type: "node", key: running.id });
        }
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
