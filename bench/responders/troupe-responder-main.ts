// The Troupe side of the throughput scenario, in a process of its own (started
// by responder-processes.ts, not meant to be run by hand): a node hosting the
// built-in echo and the bench agents, which it spawns before it says ready;
// with credentials, also the echo that accepts only verified senders.
//
//   node troupe-responder-main.js --servers nats://127.0.0.1:4222 --namespace bench --name bench-host [--credentials node.creds]

import { parseArgs } from "node:util";
import { echo, startNode } from "../../actors/index.js";
import { BENCH_KEYS, benchAgents, verifiedEcho } from "./bench-agents.js";
import { serveUntilParentLeaves } from "./main-lifecycle.js";

const { values } = parseArgs({
  options: { servers: { type: "string" }, namespace: { type: "string" }, name: { type: "string" }, credentials: { type: "string" } },
});

await serveUntilParentLeaves(values.name ?? "troupe-responder", async () => {
  const credentials = values.credentials;
  const agents = [echo, ...benchAgents, ...(credentials ? [verifiedEcho] : [])];
  const node = await startNode({ servers: values.servers, namespace: values.namespace, name: values.name, agents, credentials });
  if (credentials) await node.spawn("bench-verified-echo", { key: BENCH_KEYS.verified });
  await node.spawn("echo", { key: BENCH_KEYS.echo });
  await node.spawn("bench-tally", { key: BENCH_KEYS.tally });
  await node.spawn("bench-history", { key: BENCH_KEYS.small });
  await node.spawn("bench-history", { key: BENCH_KEYS.large });
  return () => node.close();
});
