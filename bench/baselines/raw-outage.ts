// The raw nats.js baseline for chaos: request/reply under load while the
// server is killed (SIGKILL) and restarted, to see how long plain nats.js
// with default reconnect settings goes without a reply. The Troupe chaos
// scenarios are read against this.

import type { ConnectionOptions } from "@nats-io/transport-node";
import type { NatsServer } from "../../runtime/testing/nats-server.js";
import { percentiles, type Percentiles } from "../stats.js";
import type { Timeline } from "../timeline.js";
import { connectRawPair, startEchoResponder, oneRequest, type RawRunOptions } from "./raw-nats.js";

export interface OutageOptions extends RawRunOptions {
  /** How long requests run, in ms. */
  durationMs: number;
  /** When to kill the server, ms after the start; one outage per entry, in order. */
  killAtMs: number[];
  /** How long the server stays down before it is restarted, ms. */
  downMs: number;
  /** Requests kept in flight (default 16). */
  window?: number;
  /** Per-request timeout (default 500 ms). */
  timeoutMs?: number;
  /** Counts each reply; the kills, restarts and first replies are marked on it. */
  timeline: Timeline;
  /**
   * Connection options on top of the baseline's own (e.g. `{ reconnectTimeWait: 250 }`
   * to match a client that reconnects sooner than nats.js's default 2 s).
   */
  connection?: Partial<ConnectionOptions>;
}

export interface OutageResult {
  replies: number;
  failedRequests: number;
  /** Per outage: from the kill to the first reply after it, ms. */
  gapMs: number[];
  /** Per outage: from the restart command to the server accepting connections, ms. */
  serverStartMs: number[];
  /** Per outage: from the server accepting connections to the first reply, ms. */
  reconnectMs: number[];
  gap: Percentiles;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs windowed request/reply against `server` for `durationMs`, killing and
 * restarting it at the given times. The connections use the same options as
 * every baseline (nats.js default reconnect wait of 2 s, unlimited attempts),
 * plus `connection` when given.
 */
export async function rawRequestsThroughOutage(server: NatsServer, opts: OutageOptions): Promise<OutageResult> {
  const pair = await connectRawPair(server.url, opts.connection);
  const subject = `bench.raw.${opts.tag ?? Math.random().toString(36).slice(2, 10)}.outage`;
  const responder = startEchoResponder(pair.b, subject);
  const timeoutMs = opts.timeoutMs ?? 500;
  const tl = opts.timeline;
  let replies = 0;
  let failedRequests = 0;
  let waitingForFirst: ((atMs: number) => void) | undefined;
  let stop = false;

  try {
    await pair.b.flush();
    const lane = async (): Promise<void> => {
      let n = 0;
      while (!stop) {
        try {
          await oneRequest(pair.a, subject, n++, timeoutMs);
          replies++;
          tl.record();
          if (waitingForFirst) {
            const resolveFirst = waitingForFirst;
            waitingForFirst = undefined;
            resolveFirst(tl.elapsedMs());
          }
        } catch {
          failedRequests++;
          await sleep(10); // errors during an outage come back at once; do not spin
        }
      }
    };
    const lanes = Array.from({ length: opts.window ?? 16 }, lane);

    const gapMs: number[] = [];
    const serverStartMs: number[] = [];
    const reconnectMs: number[] = [];
    const progressTimer = setInterval(() => opts.onProgress?.(Math.min(1, tl.elapsedMs() / opts.durationMs)), 200);
    try {
      for (const [i, at] of opts.killAtMs.entries()) {
        await sleep(Math.max(0, at - tl.elapsedMs()));
        if (opts.signal?.aborted) break;
        const killedAt = tl.event(`server killed${opts.killAtMs.length > 1 ? ` #${i + 1}` : ""}`);
        await server.kill();
        await sleep(opts.downMs);
        const firstReply = new Promise<number>((r) => (waitingForFirst = r));
        const t0 = tl.elapsedMs();
        await server.restart();
        const upAt = tl.event("server up");
        serverStartMs.push(upAt - t0);
        let giveUp: NodeJS.Timeout | undefined;
        const firstAt = await Promise.race([firstReply, new Promise<number>((r) => (giveUp = setTimeout(() => r(NaN), 30_000)))]);
        clearTimeout(giveUp);
        if (Number.isNaN(firstAt)) throw new Error("no reply within 30 s of the server restarting");
        tl.event("first reply");
        gapMs.push(firstAt - killedAt);
        reconnectMs.push(firstAt - upAt);
      }
      await sleep(Math.max(0, opts.durationMs - tl.elapsedMs()));
    } finally {
      clearInterval(progressTimer);
      stop = true;
      await Promise.allSettled(lanes);
    }
    tl.stop();
    return { replies, failedRequests, gapMs, serverStartMs, reconnectMs, gap: percentiles(gapMs) };
  } finally {
    responder.stop();
    await pair.close();
  }
}
