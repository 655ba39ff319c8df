// agentctl dashboard: serve a web page of the namespace on this machine, live:
// supervision trees, agents with their counters, events, charts, and an
// agent's state, memory keys and conversation on click (with approve/deny).

import { InvalidArgumentError, type Command } from "commander";
import { startDashboard } from "../dashboard/dashboard-server.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { untilSignal } from "../signals.js";

const EXAMPLES = `
Examples:
  $ agentctl dashboard                      # prints http://127.0.0.1:7070/#token=...: open that URL
  $ agentctl dashboard --port 8080 -n prod  # another port, another namespace
  $ agentctl dashboard --port 0             # any free port (the URL is printed)`;

/** `--port 7070`: 0 (any free port) to 65535. */
function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535) throw new InvalidArgumentError("expected a port number from 0 to 65535.");
  return n;
}

/** Register `agentctl dashboard [--port P] [--host H]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("dashboard")
    .summary("serve a live web dashboard of the namespace")
    .description(
      "serve a web page on this machine that shows the namespace live: each node's supervision tree, the agents with " +
        "their state and counters, the events as they happen, message-rate and restart charts, and, on click, an " +
        "agent's persisted state, the memory keys it wrote and a model agent's conversation, whose pending approvals " +
        "can be approved or denied from the page. Needs no network beyond the NATS server; runs until Ctrl-C. " +
        "It prints the page's URL with a per-run token in its fragment (http://127.0.0.1:7070/#token=...): open " +
        "that URL. The browser never sends the fragment to a server; the page keeps the token in the tab and sends " +
        "it with every request, and without it the page shows no data (another user of the machine cannot read it). " +
        "No cookie is set",
    )
    .option("-p, --port <port>", "the port to listen on (0: any free one)", port, 7070)
    .option("--host <address>", "the address to listen on; anything but loopback makes the page reachable from other machines", "127.0.0.1")
    .addHelpText("after", EXAMPLES)
    .action(
      f.action(async (opts: { port: number; host: string }) => {
        const client = await f.client();
        // Fails with NamespaceNotFoundError (exit 4) when nothing runs in the namespace yet.
        await client.nodes();
        const dashboard = await startDashboard({ client, host: opts.host, port: opts.port }).catch((err: unknown) => {
          const code = (err as { code?: unknown }).code;
          if (code === "EADDRINUSE") throw new UsageError(`port ${opts.port} on ${opts.host} is in use: pick another with --port`);
          if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot listen on ${opts.host}: no such address on this machine`);
          throw err;
        });
        f.out.line(`dashboard of namespace ${client.namespace}: ${dashboard.url}`);
        f.out.note("press Ctrl-C to stop");
        await untilSignal();
        await dashboard.close();
      }),
    );
}
