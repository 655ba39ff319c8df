// Who leads what on a NATS cluster, as a client sees it: each server's name,
// the leader of a KV bucket's stream, whether all of a bucket's replicas are
// current again, and which server a kill of a given kind should take.
// (The JetStream meta leader is only visible through the system account or
// the monitoring port, so leadership here means stream leadership.)

import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsCluster } from "../../runtime/testing/nats-cluster.js";

/** Each server's `server_name`, in the order of `cluster.servers` (every server must be up). */
export async function serverNames(cluster: NatsCluster): Promise<string[]> {
  const names: string[] = [];
  for (const s of cluster.servers) {
    const nc = await connect({ servers: s.url, maxReconnectAttempts: 0 });
    try {
      names.push(nc.info?.server_name ?? "");
    } finally {
      await nc.close();
    }
  }
  return names;
}

/** The state of a KV bucket's stream in the cluster. */
export interface BucketPlacement {
  /** The server leading the bucket's stream; undefined while none is elected. */
  leader: string | undefined;
  /** Every replica is online and current (none lags behind the leader). */
  current: boolean;
  /** "leader n1; n2 current, n3 offline" */
  text: string;
}

/** Where the KV bucket `bucket` is led from, and whether its replicas are all current. */
export async function bucketPlacement(nc: NatsConnection, bucket: string): Promise<BucketPlacement> {
  const kv = await new Kvm(nc).open(bucket);
  const info = (await kv.status()).streamInfo;
  const cluster = info.cluster;
  const replicas = cluster?.replicas ?? [];
  const leader = cluster?.leader || undefined;
  return {
    leader,
    current: leader !== undefined && replicas.length === info.config.num_replicas - 1 && replicas.every((r) => r.current && !r.offline),
    text: `leader ${leader ?? "none"}; ${replicas.map((r) => `${r.name} ${r.offline ? "offline" : r.current ? "current" : `lagging ${r.lag ?? "?"}`}`).join(", ")}`,
  };
}

/**
 * The server a kill should take: for `"leader"` the leader of the first bucket
 * in `leaders` (the one that matters most); otherwise a server leading none
 * of them, or the one leading the fewest. Undefined when the first bucket has
 * no leader (an election is under way).
 *
 * @example
 * pickVictim("leader", ["n1", "n2", "n3"], ["n2", "n2", "n1"])   // "n2"
 * pickVictim("follower", ["n1", "n2", "n3"], ["n2", "n2", "n1"]) // "n3"
 */
export function pickVictim(role: "leader" | "follower", names: readonly string[], leaders: readonly (string | undefined)[]): string | undefined {
  if (role === "leader") return leaders[0];
  const led = (name: string): number => leaders.filter((l) => l === name).length;
  let best: string | undefined;
  for (const name of names) if (best === undefined || led(name) < led(best)) best = name;
  return best;
}
