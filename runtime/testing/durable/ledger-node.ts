// Starts a ledger node (ledger-node-main.ts) in a child process for the
// durable-mailbox crash tests, and collects what it says it applied.

import { startTestChild, type TestChild } from "../test-child.js";

/** A ledger node process. */
export interface LedgerNode extends TestChild {
  /** Ids its ledgers applied (not necessarily committed), in order. */
  readonly applied: readonly string[];
}

/** Start a ledger node that spawns the ledgers `spawn` (keys), and wait until it serves. */
export async function startLedgerNode(o: { servers: string; namespace: string; name: string; heartbeatMs: number; spawn: string[] }): Promise<LedgerNode> {
  const applied: string[] = [];
  const child = await startTestChild({
    main: new URL("./ledger-node-main.ts", import.meta.url),
    args: ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--heartbeat-ms", String(o.heartbeatMs), "--spawn", o.spawn.join(",")],
    label: `ledger node ${o.name}`,
    onLine: (msg) => {
      if (typeof msg.applied === "string") applied.push(msg.applied);
    },
  });
  return Object.assign(child, { applied });
}
