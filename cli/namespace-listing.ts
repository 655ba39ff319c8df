// The namespaces present on a server, found from their stream and bucket
// names (runtime/subjects.ts says which names are whose), with how many nodes
// and agents each has now.

import { jetstreamManager } from "@nats-io/jetstream";
import { connectClient, type TroupeClient } from "../actors/index.js";
import { ErrorCode } from "../runtime/errors.js";
import { asPermissionDenied } from "../runtime/auth/permission-violation.js";
import { namespaceOfStream } from "../runtime/subjects.js";

/** One namespace as `agentctl ns ls` shows it. */
export interface NamespaceSummary {
  namespace: string;
  /** Live nodes. */
  nodes: number;
  /** Agents running on them; null when a node did not answer. */
  agents: number | null;
  /** Its streams, KV buckets included (a bucket is a stream). */
  streams: number;
}

/** Every stream on the server, by namespace (streams of no namespace left out). */
export async function streamsByNamespace(client: TroupeClient): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  try {
    const jsm = await jetstreamManager(client.connection);
    for await (const name of jsm.streams.names()) {
      const ns = namespaceOfStream(name);
      if (ns !== undefined) out.set(ns, [...(out.get(ns) ?? []), name]);
    }
  } catch (err) {
    throw asPermissionDenied(err);
  }
  return out;
}

/** The live nodes of `namespace` (none when its membership bucket is gone), through `client`'s connection. */
export async function nodesOf(client: TroupeClient, namespace: string): Promise<{ ids: string[]; agents: number | null }> {
  const other = await connectClient({ connection: client.connection, namespace, name: `${client.name}-ns` });
  try {
    const nodes = await other.nodes().catch((err: unknown) => {
      if ((err as { code?: unknown }).code === ErrorCode.NamespaceNotFound) return [];
      throw err;
    });
    if (nodes.length === 0) return { ids: [], agents: 0 };
    const listed = await other.listAll(1000);
    return { ids: nodes.map((n) => n.id), agents: listed.unreachable.length > 0 ? null : listed.agents.length };
  } finally {
    await other.close();
  }
}

/** Every namespace on the server, sorted by name. */
export async function listNamespaces(client: TroupeClient): Promise<NamespaceSummary[]> {
  const byNs = await streamsByNamespace(client);
  const names = [...byNs.keys()].sort();
  return Promise.all(
    names.map(async (namespace) => {
      const { ids, agents } = await nodesOf(client, namespace);
      return { namespace, nodes: ids.length, agents, streams: byNs.get(namespace)!.length };
    }),
  );
}
