// The node side of the micro-service bench (bench/interop/service.ts), in a
// process of its own as in the throughput scenario: a node hosting an echo,
// registered as a NATS micro service or not (`--service on|off`), with
// echo/e1 spawned before it says ready. Not meant to be run by hand.
//
//   node service-node-main.js --servers URL --namespace NS --name NAME --service on|off

import { parseArgs } from "node:util";
import { defineAgent, startNode } from "../../actors/index.js";
import { serveUntilParentLeaves } from "../responders/main-lifecycle.js";

const { values } = parseArgs({
  options: { servers: { type: "string" }, namespace: { type: "string" }, name: { type: "string" }, service: { type: "string" } },
});

await serveUntilParentLeaves(values.name ?? "service-node", async () => {
  const echo = defineAgent({ type: "echo", persist: false, service: values.service !== "off", receive: (msg: unknown) => msg });
  const node = await startNode({ servers: values.servers, namespace: values.namespace, name: values.name, agents: [echo], failover: false });
  await node.spawn("echo", { key: "e1" });
  return () => node.close();
});
