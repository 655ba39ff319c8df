// A node hosting the ledger agent in a process of its own, so a test can
// SIGKILL it (started by ledger-node.ts, not meant to be run by hand). It
// spawns the ledgers named by --spawn, prints `{"ready":"<node id>"}` when it
// serves, then `{"applied":"<id>"}` for each message a ledger applies (before
// its commit), and leaves when its stdin closes.
//
//   node --import tsx ledger-node-main.ts --servers URL --namespace NS --name N --heartbeat-ms 100 --spawn k1,k2

import { parseArgs } from "node:util";
import { startNode } from "../../node.js";
import { ledgerAgent } from "./ledger.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "heartbeat-ms": { type: "string" },
    spawn: { type: "string" },
  },
});

const node = await startNode({
  servers: values.servers,
  namespace: values.namespace,
  name: values.name,
  heartbeatMs: Number(values["heartbeat-ms"] ?? 100),
  agents: [ledgerAgent({ applied: (id) => process.stdout.write(`${JSON.stringify({ applied: id })}\n`) })],
});
for (const key of (values.spawn ?? "").split(",").filter(Boolean)) await node.spawn("ledger", { key });
process.stdin.on("end", () => void node.close().finally(() => process.exit(0)));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ ready: node.id })}\n`);
