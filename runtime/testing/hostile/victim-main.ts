// The node that the hostile-client tests attack, in a process of its own so
// that a crash, an unhandled rejection (Node's default: the process exits) or
// running out of heap shows as the process ending. It hosts the built-in
// `echo` (synchronous, not persisted) and `counter` (persisted) and a
// `sleeper` whose async receive waits `ms` before answering. Prints
// `{"ready":"<node id>"}` when it serves; leaves when stdin closes.
//
//   node --import tsx victim-main.ts --servers URL --namespace NS --name N

import { parseArgs } from "node:util";
import { builtinAgents, defineAgent, startNode } from "../../../actors/index.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
  },
});

const sleeper = defineAgent({
  type: "sleeper",
  persist: false,
  async receive(msg: { ms?: number }) {
    await new Promise((resolve) => setTimeout(resolve, typeof msg?.ms === "number" ? msg.ms : 50));
    return "slept";
  },
});

const node = await startNode({
  servers: values.servers,
  namespace: values.namespace,
  name: values.name,
  heartbeatMs: 250,
  agents: [...builtinAgents, sleeper],
});
process.stdin.on("end", () => void node.close().finally(() => process.exit(0)));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ ready: node.id })}\n`);
