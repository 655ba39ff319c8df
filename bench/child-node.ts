// Starts a Troupe node in a child process (child-node-main), for scenarios
// that kill nodes the hard way. The process is managed by child-process.ts:
// killed when this process exits, and it leaves by itself when its stdin closes.

import { childMain, startChildProcess } from "./child-process.js";

export interface ChildNodeOptions {
  servers: string;
  namespace: string;
  /** The node's id. */
  name: string;
  heartbeatMs: number;
  /** Host the `durable` scenario's ledger (a durable mailbox) too. */
  durable?: boolean;
  /** How long to wait for the node to serve (default 30 s: tsx compiles the sources first). */
  readyTimeoutMs?: number;
}

/** A node running in a child process. */
export interface ChildNode {
  readonly id: string;
  readonly pid: number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Send `signal` (default SIGKILL: a crash) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Leave gracefully (SIGTERM, the node closes), SIGKILL after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start a node process and wait until it serves.
 *
 * @example
 * const n = await startChildNode({ servers: server.url, namespace: "nk", name: "nk-a", heartbeatMs: 250 });
 * ctx.defer(() => n.stop());
 * await n.kill(); // SIGKILL
 */
export async function startChildNode(o: ChildNodeOptions): Promise<ChildNode> {
  const child = await startChildProcess({
    main: childMain(import.meta.url, "./child-node-main"),
    args: ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--heartbeat-ms", String(o.heartbeatMs), ...(o.durable ? ["--durable"] : [])],
    label: `node process ${o.name}`,
    readyTimeoutMs: o.readyTimeoutMs,
  });
  return asChildNode(child);
}

/** A started node process as the scenarios drive it: its id (from its ready line), pid, kill and stop. */
export function asChildNode(child: Awaited<ReturnType<typeof startChildProcess>>): ChildNode {
  return {
    id: String(child.ready.ready),
    pid: child.pid,
    get exited() {
      return child.exited;
    },
    kill: (signal) => child.kill(signal),
    stop: (graceMs) => child.stop(graceMs),
  };
}
