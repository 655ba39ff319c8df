// What the namespace's nodes host, for commands that name an agent type: a
// type no node hosts is said at once, with the hosted types and a "did you mean".

import type { TroupeClient } from "../actors/index.js";
import { ErrorCode } from "../runtime/errors.js";
import { closestName } from "./did-you-mean.js";
import { NotFoundError } from "./exit-code.js";
import type { Factory } from "./factory.js";

/**
 * Why no agent of `type` can run in the namespace now, as one sentence, or
 * undefined when a live node hosts it (or the nodes cannot be read).
 *
 * @example
 * // 'no node in namespace default hosts agent type "countr"; did you mean "counter"? (hosted: counter, echo)'
 */
export async function unhostedTypeReason(client: TroupeClient, namespace: string, type: string): Promise<string | undefined> {
  const nodes = await client.nodes();
  if (nodes.length === 0) return `no node is running in namespace ${namespace}: start one with \`agentctl node start\``;
  const hosted = [...new Set(nodes.flatMap((n) => n.types))].sort();
  if (hosted.includes(type)) return undefined;
  const near = closestName(type, hosted);
  return `no node in namespace ${namespace} hosts agent type "${type}"${near ? `; did you mean "${near}"?` : ""} (hosted: ${hosted.join(", ") || "none"})`;
}

/** Throw (exit 4) when no live node hosts `type`: spawn's check before it asks the pool. */
export async function requireHostedType(f: Factory, type: string): Promise<void> {
  const reason = await unhostedTypeReason(await f.client(), f.namespace(), type);
  if (reason !== undefined) throw new NotFoundError(reason);
}

/**
 * Run `fn`; when it fails because the agent is not running, and no node hosts
 * `type`, say why in the same sentence (or that the namespace does not exist).
 */
export async function withTypeHint<T>(f: Factory, type: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== ErrorCode.AgentNotFound) throw err;
    const reason = await unhostedTypeReason(await f.client(), f.namespace(), type).catch((e: unknown) => {
      // No such namespace says more than "not running"; any other trouble leaves the first error as it was.
      if ((e as { code?: unknown } | null)?.code === ErrorCode.NamespaceNotFound) throw e;
      return undefined;
    });
    if (reason === undefined) throw err;
    throw new NotFoundError(`${(err as Error).message}: ${reason}`);
  }
}
