// A Troupe node in a process of its own, for the chaos scenarios that kill
// whole processes (started by child-node.ts, not meant to be run by hand).
// It hosts the built-in types (counter, echo) with the given heartbeat, and
// with `--durable` the durable ledger of the `durable` scenario too, with
// `--timers` the timers agent of the `coordination` scenario,
// prints one JSON line `{"ready":"<node id>","pid":N}` when it serves, and
// leaves the cluster when told to (SIGTERM, SIGINT) or when its parent goes
// away (stdin closes). SIGKILL is the crash the scenarios are about.
//
//   node child-node-main.js --servers nats://127.0.0.1:4222 --namespace ns --name n1 --heartbeat-ms 250 [--durable] [--timers]

import { parseArgs } from "node:util";
import { builtinAgents, startNode } from "../actors/index.js";
import { timerBenchAgent } from "./coordination/timer-bench-agent.js";
import { ledgerAgent } from "./durable/ledger-agent.js";
import { serveUntilParentLeaves } from "./responders/main-lifecycle.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "heartbeat-ms": { type: "string" },
    durable: { type: "boolean" },
    timers: { type: "boolean" },
  },
});

await serveUntilParentLeaves(values.name ?? "node", async () => {
  const node = await startNode({
    servers: values.servers,
    namespace: values.namespace,
    name: values.name,
    heartbeatMs: values["heartbeat-ms"] === undefined ? undefined : Number(values["heartbeat-ms"]),
    agents: [...builtinAgents, ...(values.durable ? [ledgerAgent] : []), ...(values.timers ? [timerBenchAgent] : [])],
  });
  return () => node.close();
});
