import { describe, expect, it } from "vitest";
import { useNatsServer } from "../../runtime/testing/server.js";
import { Timeline } from "../timeline.js";
import { rawKv, rawPubSubThroughput, rawRequestLatency, rawRequestThroughput, windowed } from "./raw-nats.js";
import { rawRequestsThroughOutage } from "./raw-outage.js";

const nats = useNatsServer();

describe("raw nats.js baselines", () => {
  it("pub/sub counts every message at the subscriber", async () => {
    const tl = new Timeline();
    const r = await rawPubSubThroughput(nats.url, { messages: 5_000, warmup: 500, timeline: tl });
    expect(r.count).toBe(5_000);
    expect(tl.total()).toBe(5_000); // the warm-up is not on the timeline
    expect(r.perSec).toBeGreaterThan(0);
    expect(r.elapsedMs).toBeGreaterThan(0);
  });

  it("request/reply latency has one sample per request", async () => {
    const r = await rawRequestLatency(nats.url, { requests: 300, warmup: 20 });
    expect(r.samplesUs).toHaveLength(300);
    expect(r.summary.p50).toBeGreaterThan(0);
    expect(r.summary.p99).toBeGreaterThanOrEqual(r.summary.p50);
  });

  it("request/reply with a window answers every request", async () => {
    const tl = new Timeline();
    const r = await rawRequestThroughput(nats.url, { requests: 2_000, window: 64, warmup: 100, timeline: tl });
    expect(r.count).toBe(2_000);
    expect(tl.total()).toBe(2_000);
  });

  it("windowed keeps at most `window` tasks in flight and runs each once", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await windowed(100, 8, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(n);
      inFlight--;
    });
    expect(peak).toBe(8);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("KV get, put and watch visibility", async () => {
    const r = await rawKv(nats.url, { gets: 200, puts: 200, watches: 50, warmup: 20 });
    expect(r.getsPerSec).toBeGreaterThan(0);
    expect(r.putsPerSec).toBeGreaterThan(0);
    expect(r.watchLatencyUs.count).toBe(50);
    expect(r.watchLatencyUs.p50).toBeGreaterThan(0);
  });

  it("an aborted run stops with the abort reason", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop now"));
    await expect(rawRequestLatency(nats.url, { requests: 1_000, warmup: 0, signal: ac.signal })).rejects.toThrow("stop now");
  });
});

describe("raw nats.js through a server kill", () => {
  const own = useNatsServer();

  it("loses replies while the server is down and gets them back after the restart", { timeout: 60_000 }, async () => {
    const tl = new Timeline();
    const r = await rawRequestsThroughOutage(own.server, { durationMs: 4_000, killAtMs: [800], downMs: 200, timeline: tl });
    expect(r.gapMs).toHaveLength(1);
    expect(r.gapMs[0]).toBeGreaterThan(200);
    expect(r.reconnectMs[0]).toBeGreaterThanOrEqual(0);
    expect(tl.events().map((e) => e.label)).toEqual(["server killed", "server up", "first reply"]);
    const [killed, , first] = tl.events();
    // No reply is counted in the buckets fully inside the outage.
    const inside = tl.points().filter((p) => p.tMs >= killed!.atMs + 100 && p.tMs + 100 <= first!.atMs);
    for (const p of inside) expect(p.value).toBe(0);
    expect(r.replies).toBeGreaterThan(0);
  });
});
