// The Moleculer peer of the throughput scenario, in a process of its own
// (started by responder-processes.ts): a ServiceBroker on the NATS
// transporter, Moleculer's defaults otherwise (JSON serializer, no request
// timeout), with a service `echo` whose action `echo` answers with its params.
//
//   node moleculer-responder-main.js --servers nats://127.0.0.1:4222 --namespace bench-x

import { parseArgs } from "node:util";
import { serveUntilParentLeaves } from "./main-lifecycle.js";
import { moleculerBroker } from "./moleculer-broker.js";

const { values } = parseArgs({ options: { servers: { type: "string" }, namespace: { type: "string" } } });

await serveUntilParentLeaves("moleculer-responder", async () => {
  const broker = await moleculerBroker({ servers: values.servers ?? "", namespace: values.namespace ?? "bench", nodeID: "bench-echo" });
  broker.createService({
    name: "echo",
    actions: {
      echo: (ctx) => ctx.params,
    },
  });
  await broker.start();
  return () => broker.stop();
});
