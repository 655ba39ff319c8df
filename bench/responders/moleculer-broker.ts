// A Moleculer ServiceBroker on the NATS transporter, for the Moleculer peer in
// the throughput scenario. Moleculer is a development dependency, loaded on
// use: where it is not installed, the scenario leaves the peer out and says so.
// Its NATS transporter loads the `nats` package (the v2 client) itself.

import type Moleculer from "moleculer";

export type MoleculerBroker = Moleculer.ServiceBroker;

export interface MoleculerBrokerOptions {
  /** The nats-server URL. */
  servers: string;
  /** Moleculer's namespace: brokers see only peers of the same one. */
  namespace: string;
  nodeID: string;
}

/**
 * A broker with Moleculer's defaults (JSON serializer, no request timeout,
 * round-robin balancing) besides the NATS transporter, a silent logger, and
 * no signal handlers of its own.
 * Rejects when Moleculer is not installed.
 *
 * @example
 * const b = await moleculerBroker({ servers: url, namespace: "bench-x", nodeID: "caller" });
 * await b.start(); await b.waitForServices(["echo"]); await b.call("echo.echo", msg);
 */
export async function moleculerBroker(o: MoleculerBrokerOptions): Promise<MoleculerBroker> {
  const mod = (await import("moleculer")) as typeof Moleculer & { default?: typeof Moleculer };
  const { ServiceBroker } = mod.default ?? mod;
  return new ServiceBroker({
    namespace: o.namespace,
    nodeID: o.nodeID,
    transporter: { type: "NATS", options: { url: o.servers } },
    logger: false,
    // Moleculer's own SIGINT/SIGTERM handlers stop the broker and exit the
    // process with 0; the process that embeds it decides that here.
    skipProcessEventRegistration: true,
  });
}

/** Whether Moleculer and the `nats` client its transporter needs can be loaded: null when they can, else the reason. */
export async function moleculerMissing(): Promise<string | null> {
  try {
    await import("moleculer");
    await import("nats");
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
