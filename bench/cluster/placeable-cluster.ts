// A 3-server test cluster that can really place replicated streams. Now and
// then a fresh cluster elects its JetStream meta leader with one server left
// out of the meta group (seen about once in six starts with nats-server
// 2.10: jsz reports cluster_size 2); it then answers every R3 create with
// "no suitable peers for placement", for good. This starts the cluster,
// checks that a stream with one replica per server can be placed, and starts
// a new cluster when it cannot.

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startNatsCluster, type NatsCluster } from "../../runtime/testing/nats-cluster.js";
import { sleep } from "../ask-load.js";

/** The stream created (and deleted) to check placement. */
const CHECK_STREAM = "BENCH_PLACEMENT_CHECK";

export interface PlaceableClusterOptions {
  size: number;
  /** Clusters started before giving up (default 3). */
  attempts?: number;
  /** How long each may take to place the check stream, ms (default 10 s). */
  placeWithinMs?: number;
  /** Told about each cluster that could not place it. */
  onRetry?(reason: string): void;
}

/**
 * A cluster on which a stream with `size` replicas can be created.
 *
 * @example
 * const cluster = await startPlaceableCluster({ size: 3, onRetry: (why) => ctx.log(why) });
 */
export async function startPlaceableCluster(o: PlaceableClusterOptions): Promise<NatsCluster> {
  const attempts = o.attempts ?? 3;
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const cluster = await startNatsCluster(o.size);
    const placed = await canPlace(cluster, o.size, o.placeWithinMs ?? 10_000);
    if (placed === true) return cluster;
    last = placed;
    o.onRetry?.(`cluster #${i + 1} could not place a ${o.size}-replica stream (${placed}); starting another`);
    await cluster.dispose();
  }
  throw new Error(`no ${o.size}-server cluster could place a ${o.size}-replica stream in ${attempts} tries: ${last}`);
}

/** True once a `replicas`-replica stream was created (and deleted again), else the last error. */
async function canPlace(cluster: NatsCluster, replicas: number, withinMs: number): Promise<true | string> {
  const nc = await connect({ servers: cluster.urls });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const start = performance.now();
    let last = "";
    while (performance.now() - start < withinMs) {
      try {
        await jsm.streams.add({ name: CHECK_STREAM, subjects: ["bench.placement.check"], num_replicas: replicas });
        await jsm.streams.delete(CHECK_STREAM);
        return true;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
        await sleep(200);
      }
    }
    return last;
  } finally {
    await nc.close();
  }
}
