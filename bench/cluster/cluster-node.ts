// Starts a node process of the `cluster` scenario (cluster-node-main) through
// child-process.ts: killed when this process exits, and it leaves by itself
// when this process goes away.

import { asChildNode, type ChildNode } from "../child-node.js";
import { childMain, startChildProcess } from "../child-process.js";

export interface ClusterNodeOptions {
  /** The one server it connects to first (it learns the rest of the cluster from it). */
  server: string;
  namespace: string;
  /** The node's id. */
  name: string;
  heartbeatMs: number;
  replicas: number;
  /** Where it appends its activation records (activation-log.ts). */
  logFile: string;
  /** How long to wait for the node to serve (default 30 s: tsx compiles the sources first). */
  readyTimeoutMs?: number;
}

/**
 * Start a node process and wait until it serves.
 *
 * @example
 * const n = await startClusterNode({ server: cluster.urls[0], namespace: "cl", name: "cl-1", heartbeatMs: 1000, replicas: 3, logFile });
 * ctx.defer(() => n.stop());
 */
export async function startClusterNode(o: ClusterNodeOptions): Promise<ChildNode> {
  const child = await startChildProcess({
    main: childMain(import.meta.url, "./cluster-node-main"),
    args: [
      "--servers", o.server,
      "--namespace", o.namespace,
      "--name", o.name,
      "--heartbeat-ms", String(o.heartbeatMs),
      "--replicas", String(o.replicas),
      "--log", o.logFile,
    ],
    label: `node process ${o.name}`,
    readyTimeoutMs: o.readyTimeoutMs,
  });
  return asChildNode(child);
}
