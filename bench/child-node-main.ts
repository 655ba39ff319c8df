// A Troupe node in a process of its own, for the chaos scenarios that kill
// whole processes (started by child-node.ts, not meant to be run by hand).
// It hosts the built-in types (counter, echo) with the given heartbeat,
// prints one JSON line `{"ready":"<node id>","pid":N}` when it serves, and
// leaves the cluster when told to (SIGTERM, SIGINT) or when its parent goes
// away (stdin closes). SIGKILL is the crash the scenarios are about.
//
//   node child-node-main.js --servers nats://127.0.0.1:4222 --namespace ns --name n1 --heartbeat-ms 250

import { parseArgs } from "node:util";
import { builtinAgents, startNode, type TroupeNode } from "../actors/index.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "heartbeat-ms": { type: "string" },
  },
});

let node: TroupeNode | undefined;
let leaving = false;

async function leave(code: number): Promise<void> {
  if (leaving) return;
  leaving = true;
  const timer = setTimeout(() => process.exit(code), 5_000);
  try {
    await node?.close();
  } finally {
    clearTimeout(timer);
    process.exit(code);
  }
}

process.on("SIGTERM", () => void leave(0));
process.on("SIGINT", () => void leave(0));
process.stdin.on("end", () => void leave(0));
process.stdin.on("error", () => void leave(0));
process.stdin.resume();

try {
  node = await startNode({
    servers: values.servers,
    namespace: values.namespace,
    name: values.name,
    heartbeatMs: values["heartbeat-ms"] === undefined ? undefined : Number(values["heartbeat-ms"]),
    agents: [...builtinAgents],
  });
  process.stdout.write(`${JSON.stringify({ ready: node.id, pid: process.pid })}\n`);
} catch (err) {
  process.stderr.write(`node did not start: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
  process.exit(1);
}
