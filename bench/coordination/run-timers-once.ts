// Runs the timers bench once on a throwaway server and prints its figures (a helper for the lead's scenario).
//   npx tsx bench/coordination/run-timers-once.ts [nodes]
import { startNatsServer } from "../../runtime/testing/nats-server.js";
import { timersBench } from "./timers.js";

const server = await startNatsServer();
try {
  const r = await timersBench({ servers: server.url, nodes: Number(process.argv[2] ?? 2) });
  console.log(JSON.stringify(r));
} finally {
  await server.dispose();
}
