// The Troupe twin of the raw pub/sub publisher: tells awaited one by one, with
// the same pause the raw side takes every 1000 messages (a PING/PONG round trip
// to the server), so tell throughput and pub/sub throughput measure the same
// work with the same back-pressure.

import type { NatsConnection } from "@nats-io/transport-node";
import type { AgentRef } from "../../actors/index.js";

export interface PacedTellOptions {
  /** Pause for a server round trip after every this many tells; default 1000, as the raw publisher's flush. */
  flushEvery?: number;
  signal?: AbortSignal;
  /** Called with the fraction sent (0..1) at each pause. */
  onProgress?: (fraction: number) => void;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Sends `count` tells `make(i)` to `ref`, each awaited, through the node whose
 * connection is `nc`. Every `flushEvery` tells it pauses as the raw pub/sub
 * publisher does: first one turn of the event loop, so the messenger publishes
 * the tells it batched this turn (it writes them at the end of the turn, or
 * every 1024), then `nc.flush()`, a PING/PONG round trip that returns once the
 * server has read them. Nothing else happens in the loop: no asks, no extra
 * yields, so the work matches the raw side message for message.
 *
 * @example
 * await pacedTells(client.ref("counter", "c1"), client.connection, 50_000, (i) => ({ op: "inc", n: i }));
 */
export async function pacedTells<M>(
  ref: AgentRef<M>,
  nc: NatsConnection,
  count: number,
  make: (i: number) => M,
  opts: PacedTellOptions = {},
): Promise<void> {
  const flushEvery = Math.max(1, opts.flushEvery ?? 1000);
  for (let i = 0; i < count; i++) {
    await ref.tell(make(i));
    if ((i + 1) % flushEvery === 0) {
      await nextTurn();
      await nc.flush();
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error("aborted");
      opts.onProgress?.((i + 1) / count);
    }
  }
  await nextTurn();
  await nc.flush();
}
