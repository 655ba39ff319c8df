// One flush of a connection shared by everyone who needs "the server has seen
// what I sent": subscriptions made together, tells that wait to learn whether
// they bounced. A round trip per turn, not one per caller.

import type { NatsConnection } from "@nats-io/nats-core";

/** Per connection, the flush in flight and the one the callers since then wait for. */
const flushes = new WeakMap<NatsConnection, { inFlight?: Promise<void>; next?: Promise<void> }>();

/**
 * Flush `nc`: resolves once the server has seen everything sent before the
 * call. While one flush is in flight, every caller shares the single next
 * one (sent when it lands), so many subscriptions made at once cost one
 * round trip each turn instead of one each.
 */
export function sharedFlush(nc: NatsConnection): Promise<void> {
  let group = flushes.get(nc);
  if (!group) flushes.set(nc, (group = {}));
  const g = group;
  const start = (): Promise<void> => {
    const p: Promise<void> = nc.flush().finally(() => {
      if (g.inFlight === p) g.inFlight = undefined;
    });
    g.inFlight = p;
    return p;
  };
  if (!g.inFlight) return start();
  const after = (): Promise<void> => {
    g.next = undefined;
    return start();
  };
  return (g.next ??= g.inFlight.then(after, after));
}
