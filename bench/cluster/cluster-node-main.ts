// A Troupe node in a process of its own for the `cluster` scenario (started by
// cluster-node.ts, not meant to be run by hand): it connects to one server of
// a NATS cluster (the client learns the others from it), keeps `--replicas`
// copies of every stream and bucket it creates, hosts the logged counter,
// prints one JSON line `{"ready":"<node id>","pid":N}` when it serves, and
// leaves when told to (SIGTERM, SIGINT) or when its parent goes away.
//
//   node cluster-node-main.js --servers nats://127.0.0.1:4222 --namespace ns --name n1 \
//     --heartbeat-ms 1000 --replicas 3 --log /tmp/n1.jsonl

import { parseArgs } from "node:util";
import { startNode } from "../../actors/index.js";
import { serveUntilParentLeaves } from "../responders/main-lifecycle.js";
import { loggedCounter } from "./logged-counter.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "heartbeat-ms": { type: "string" },
    replicas: { type: "string" },
    log: { type: "string" },
  },
});

await serveUntilParentLeaves(values.name ?? "node", async () => {
  if (!values.log) throw new Error("--log <file> is required");
  const node = await startNode({
    servers: values.servers,
    namespace: values.namespace,
    name: values.name,
    heartbeatMs: values["heartbeat-ms"] === undefined ? undefined : Number(values["heartbeat-ms"]),
    replicas: values.replicas === undefined ? undefined : Number(values.replicas),
    agents: [loggedCounter(values.log)],
  });
  return () => node.close();
});
