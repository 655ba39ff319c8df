// Runs the timers bench once on a throwaway server and prints its figures (a helper until the lead's scenario calls it).
//   npx tsx bench/coordination/run-timers-once.ts [nodes] [--kill | --server-restart]
import { startNatsServer } from "../../runtime/testing/nats-server.js";
import { timersBench, timersKillBench, timersServerRestartBench } from "./timers.js";

const server = await startNatsServer();
try {
  const nodes = process.argv[2] && !process.argv[2].startsWith("--") ? Number(process.argv[2]) : undefined;
  const r = process.argv.includes("--kill")
    ? await timersKillBench({ servers: server.url, nodes })
    : process.argv.includes("--server-restart")
      ? await timersServerRestartBench({ servers: server.url, nodes, server })
      : await timersBench({ servers: server.url, nodes });
  console.log(JSON.stringify(r));
} finally {
  await server.dispose();
}
