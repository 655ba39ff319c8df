// A node hosting a model agent in a process of its own, so a test can SIGKILL
// it in the middle of a loop (started by model-node.ts, not meant to be run by
// hand). Its agent type `looper` calls the tool `step`, which prints
// `{"started":KEY}` when it starts and `{"finished":KEY}` when it ends (KEY:
// the call's idempotency key) and takes --tool-ms. It prints
// `{"ready":"<node id>"}` when it serves, and leaves when its stdin closes.
//
//   node --import tsx model-node-main.ts --servers URL --namespace NS --name N --model-url URL --tool-ms 300

import { parseArgs } from "node:util";
import { startNode } from "../../node.js";
import { looperAgent } from "./looper.js";

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    namespace: { type: "string" },
    name: { type: "string" },
    "model-url": { type: "string" },
    "tool-ms": { type: "string" },
  },
});

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const node = await startNode({
  servers: values.servers,
  namespace: values.namespace,
  name: values.name,
  heartbeatMs: 100,
  agents: [looperAgent(values["model-url"]!, Number(values["tool-ms"] ?? 300), say)],
});
process.stdin.on("end", () => void node.close().finally(() => process.exit(0)));
process.stdin.resume();
say({ ready: node.id });
