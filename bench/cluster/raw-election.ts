// The raw JetStream baseline of the `cluster` scenario: how long a replicated
// KV bucket with nothing of Troupe on it takes to accept writes again after
// the server leading its stream is killed (the election, as a nats.js client
// connected to a surviving server sees it). The killed server is restarted
// and the bucket's replicas are current again before it returns.

import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsCluster } from "../../runtime/testing/nats-cluster.js";
import { waitFor } from "../../runtime/testing/wait.js";
import { sleep } from "../ask-load.js";
import { bucketPlacement } from "./cluster-leaders.js";

/** One measured election. */
export interface RawElection {
  /** The server that led the bucket's stream and was killed. */
  killed: string;
  /** SIGKILL → the first put that succeeded, ms; NaN when none did within the limit. */
  electionMs: number;
  /** Puts tried until one succeeded. */
  tries: number;
}

export interface RawElectionOptions {
  cluster: NatsCluster;
  /** Server names, in the order of `cluster.servers`. */
  names: readonly string[];
  /** The bucket (created with `replicas` copies if missing). */
  bucket: string;
  replicas: number;
  /** Give up after this long, ms. */
  limitMs: number;
  signal?: AbortSignal;
}

/** Each put waits at most this long; a put that fails fast is tried again after PAUSE_MS. */
const PUT_TIMEOUT_MS = 500;
const PAUSE_MS = 10;

/**
 * Kill the server leading `bucket`'s stream, time puts from a surviving
 * server until one succeeds, then restart the server and wait until the
 * bucket's replicas are all current.
 *
 * @example
 * const e = await measureRawElection({ cluster, names, bucket: "bench_raw_election", replicas: 3, limitMs: 30_000 });
 * e.electionMs // e.g. 5200
 */
export async function measureRawElection(o: RawElectionOptions): Promise<RawElection> {
  const admin = await connect({ servers: o.cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  try {
    await createBucket(admin, o.bucket, o.replicas, o.limitMs);
    const leader = await waitFor(async () => {
      const p = await bucketPlacement(admin, o.bucket);
      return p.current ? p.leader : undefined;
    }, `a leader and current replicas of ${o.bucket}`, o.limitMs);
    const index = o.names.indexOf(leader ?? "");
    if (leader === undefined || index < 0) throw new Error(`the raw bucket ${o.bucket} has no leader among ${o.names.join(", ")}`);
    const survivor = o.cluster.servers.find((_, i) => i !== index)!;
    const nc = await connect({ servers: survivor.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      const kv = await new Kvm(jetstream(nc, { timeout: PUT_TIMEOUT_MS })).open(o.bucket);
      await kv.put("k", "before");
      const killedAt = performance.now();
      await o.cluster.servers[index]!.kill();
      let tries = 0;
      let electionMs = NaN;
      while (performance.now() - killedAt < o.limitMs) {
        if (o.signal?.aborted) break;
        tries++;
        try {
          await kv.put("k", `after-${tries}`);
          electionMs = performance.now() - killedAt;
          break;
        } catch {
          await sleep(PAUSE_MS);
        }
      }
      await o.cluster.servers[index]!.restart();
      await waitFor(async () => (await bucketPlacement(admin, o.bucket)).current, `${o.bucket}'s replicas current after ${leader} restarted`, o.limitMs);
      return { killed: leader, electionMs, tries };
    } finally {
      await nc.close();
    }
  } finally {
    await admin.close();
  }
}

/** Create the bucket, trying again while the cluster cannot place it yet (its peers are still being learned). */
async function createBucket(nc: NatsConnection, bucket: string, replicas: number, limitMs: number): Promise<void> {
  await waitFor(() => new Kvm(nc).create(bucket, { replicas, history: 1 }).then(() => true), `the raw bucket ${bucket} created`, limitMs);
}
