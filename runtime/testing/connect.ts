// Connections for tests: reconnect forever and quickly, and a way to wait
// until a connection is back after its server restarted.

import { connect, type NatsConnection } from "@nats-io/transport-node";

/** Connects to `url` with options fit for tests: reconnect forever, and quickly. */
export function connectTo(url: string, name = "troupe-test"): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    reconnectJitter: 20,
  });
}

/**
 * Resolves once `nc` round-trips to its server again, e.g. after `server.restart()`.
 * nats.js drops what is published while disconnected (each reconnect attempt resets
 * its outbound buffer), so a request sent before the client is back times out:
 * await this between a restart and the next publish or request.
 */
export async function reconnected(nc: NatsConnection, timeoutMs = 10_000): Promise<void> {
  let timedOut = false;
  const deadline = setTimeout(() => (timedOut = true), timeoutMs);
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        nc.rtt().then(
          () => true,
          () => false,
        ),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), 500))),
      ]);
      clearTimeout(timer);
      if (ok) return;
      if (timedOut || nc.isClosed()) throw new Error(`connection did not come back within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    clearTimeout(deadline);
  }
}
