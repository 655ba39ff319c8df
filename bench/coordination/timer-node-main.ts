// A node hosting the timers bench's agent in a process of its own (started by
// timers.ts for the variant that SIGKILLs a node; not meant to be run by hand).
//
//   node timer-node-main.js --servers nats://127.0.0.1:4222 --namespace ns --name n1 --heartbeat-ms 250

import { parseArgs } from "node:util";
import { startNode } from "../../actors/index.js";
import { serveUntilParentLeaves } from "../responders/main-lifecycle.js";
import { timerBenchAgent } from "./timer-bench-agent.js";

const { values } = parseArgs({
  options: { servers: { type: "string" }, namespace: { type: "string" }, name: { type: "string" }, "heartbeat-ms": { type: "string" } },
});

await serveUntilParentLeaves(values.name ?? "node", async () => {
  const node = await startNode({
    servers: values.servers,
    namespace: values.namespace,
    name: values.name,
    heartbeatMs: values["heartbeat-ms"] === undefined ? undefined : Number(values["heartbeat-ms"]),
    agents: [timerBenchAgent],
  });
  return () => node.close();
});
