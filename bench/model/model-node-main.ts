// A Troupe node in a process of its own hosting the `model` scenario's resume
// agent (started by the scenario, not meant to be run by hand). The agent's
// tool prints each execution as a JSON line `{"tool":"start"|"end","key":...}`
// on stdout, so the scenario sees which calls ran, and which finished, before
// it kills the process with SIGKILL. Ready line and leaving as every bench
// helper process (main-lifecycle.ts).
//
//   node model-node-main.js --servers nats://127.0.0.1:4222 --namespace ns --name n1 --heartbeat-ms 250 --model-url http://127.0.0.1:PORT/v1

import { parseArgs } from "node:util";
import { startNode } from "../../actors/index.js";
import { serveUntilParentLeaves } from "../responders/main-lifecycle.js";
import { resumeAgent } from "./bench-model.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "heartbeat-ms": { type: "string" },
    "model-url": { type: "string" },
  },
});

await serveUntilParentLeaves(values.name ?? "model-node", async () => {
  const agent = resumeAgent(values["model-url"]!, (r) => process.stdout.write(`${JSON.stringify({ tool: r.phase, key: r.key })}\n`));
  const node = await startNode({
    servers: values.servers,
    namespace: values.namespace,
    name: values.name,
    heartbeatMs: values["heartbeat-ms"] === undefined ? undefined : Number(values["heartbeat-ms"]),
    agents: [agent],
  });
  return () => node.close();
});
