// What a JetStream leader election costs, measured raw (no Troupe involved):
// the time from killing the leader of a KV bucket's stream until a plain
// nats.js put on that bucket succeeds again. Benchmarks compare how long
// Troupe stays without answers after the same kind of kill against it.
// Infrastructure, like nats-cluster.ts: it uses Node's timers and clock.
//
//   const cluster = await startNatsCluster(3);
//   const { ms, leader } = await measureElection(cluster);

import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsCluster } from "./nats-cluster.js";

/** Options of {@link measureElection}. */
export interface ElectionOptions {
  /** The bucket to put to (created if missing, with `replicas` copies); default `election_probe`. */
  bucket?: string;
  /** Its replicas; default 3. */
  replicas?: number;
  /** How long one put may take before it is sent again; default 500 ms. */
  putTimeoutMs?: number;
  /** Give up after this long without a put going through; default 60 s. */
  timeoutMs?: number;
  /** Start the killed server again afterwards (and wait until it is back); default true. */
  restart?: boolean;
}

/** One measurement. */
export interface Election {
  /** The server that led the bucket's stream and was killed. */
  leader: string;
  /** Milliseconds from the kill until a put succeeded again. */
  ms: number;
  /** Puts that failed or timed out in between. */
  failedPuts: number;
}

/**
 * Kill the leader of a KV bucket's stream (SIGKILL) and time how long until a
 * raw put on the bucket succeeds again. The measuring client talks to the
 * other servers only, so the figure is the election, not a reconnect.
 */
export async function measureElection(cluster: NatsCluster, options: ElectionOptions = {}): Promise<Election> {
  const bucket = options.bucket ?? "election_probe";
  const putTimeoutMs = options.putTimeoutMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const stream = `KV_${bucket}`;

  const setup = await connect({ servers: cluster.urls });
  try {
    const kv = await new Kvm(setup).create(bucket, { replicas: options.replicas ?? 3 });
    await kv.put("probe", "before");
  } finally {
    await setup.close();
  }
  const leader = await cluster.waitForStreamLeader(stream);
  const others = cluster.servers.filter((s) => s.name !== leader && s.running).map((s) => s.url);
  const nc = await connect({ servers: others, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  try {
    const kv = await new Kvm(jetstream(nc, { timeout: putTimeoutMs })).open(bucket);
    await kv.put("probe", "warm");
    const t0 = performance.now();
    await cluster.kill(leader);
    let failedPuts = 0;
    for (;;) {
      try {
        await kv.put("probe", String(failedPuts));
        break;
      } catch {
        failedPuts++;
        if (performance.now() - t0 > timeoutMs) throw new Error(`no put on ${bucket} went through within ${timeoutMs} ms of killing its leader ${leader}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const ms = Math.round(performance.now() - t0);
    return { leader, ms, failedPuts };
  } finally {
    await nc.close().catch(() => {});
    if (options.restart ?? true) await cluster.restart(leader);
  }
}
