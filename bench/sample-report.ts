// A made-up report with every feature the renderers handle: comparisons with
// goals met and missed, a series with chaos events, latency tables, notes, a
// scenario that did not run. Used by the report tests and to preview the HTML.

import type { BenchEnvironment } from "./environment.js";
import { REPORT_VERSION, type BenchReport } from "./report.js";
import { compare } from "./scenario.js";
import type { SeriesPoint } from "./timeline.js";

const environment: BenchEnvironment = {
  cpuModel: "Example CPU @ 2.0GHz",
  cpuCount: 2,
  totalMemoryBytes: 24 * 1024 ** 3,
  loadAverage: [0.5, 0.4, 0.3],
  platform: "linux 6.1.0 x64",
  nodeVersion: "v20.20.0",
  natsServerVersion: "2.10.27",
  natsServerPath: "/usr/sbin/nats-server",
  gitCommit: "0123456789abcdef0123456789abcdef01234567",
  gitDirty: false,
  seed: 4242,
  quick: true,
};

/** A throughput curve with an outage between `downMs` and `upMs`. */
function curve(durationMs: number, downMs: number, upMs: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let t = 0; t < durationMs; t += 100) {
    const wobble = 1 + 0.08 * Math.sin(t / 370);
    points.push({ tMs: t, value: t >= downMs && t < upMs ? 0 : Math.round(20_000 * wobble) });
  }
  return points;
}

/** The sample report (a fresh copy on each call). */
export function sampleReport(): BenchReport {
  return {
    version: REPORT_VERSION,
    startedAt: "2025-03-01T12:00:00.000Z",
    durationMs: 41_500,
    environment: { ...environment },
    scenarios: ["throughput", "failover", "memory"],
    results: [
      {
        name: "throughput",
        title: "Messaging throughput and latency",
        description: "A counter agent driven from a second node, against raw nats.js.",
        ok: true,
        summary: "Troupe keeps a third of raw pub/sub speed for tells.",
        durationMs: 12_300,
        metrics: [
          compare({ name: "tell throughput vs pub/sub", unit: "msg/s", better: "higher", troupe: 48_000, baseline: 140_000, minRatio: 0.25 }),
          compare({ name: "ask latency p50 vs request/reply", unit: "µs", better: "lower", troupe: 310, baseline: 250, minRatio: 0.5 }),
          compare({ name: "ask latency p99 vs request/reply", unit: "µs", better: "lower", troupe: 4_100, baseline: 1_100, minRatio: 0.33 }),
        ],
        latency: [
          {
            title: "Sequential round trip",
            rows: [
              { label: "raw nats.js request/reply", p50: 250, p90: 320, p99: 1_100, max: 5_400, unit: "µs" },
              { label: "Troupe ask", p50: 310, p90: 400, p99: 4_100, max: 9_800, unit: "µs" },
            ],
          },
        ],
        notes: ["Raw and Troupe alternate, round after round."],
        log: ["r1: raw pub/sub 140,000 msg/s"],
      },
      {
        name: "failover",
        title: "Node kill and failover",
        description: "Asks keep flowing while the node hosting the agent is killed.",
        ok: true,
        summary: "Asks resume on the surviving node within 3.1 s of the kill.",
        durationMs: 18_000,
        metrics: [{ name: "time without replies", unit: "ms", better: "lower", troupe: 3_100, baseline: 2_050, ratio: 2_050 / 3_100, goal: "ratio ≥ 0.50", pass: true }],
        series: [
          {
            title: "asks answered per second",
            unit: "asks/s",
            points: curve(9_000, 3_000, 6_100),
            events: [
              { atMs: 3_000, label: "node killed" },
              { atMs: 3_200, label: "heartbeat lapsed" },
              { atMs: 6_100, label: "agent restarted on node-2" },
            ],
          },
        ],
        latency: [
          {
            title: "Restart latency",
            rows: [{ label: "kill → first reply", p50: 3_100, p90: 3_400, p99: 3_600, max: 3_600, unit: "ms" }],
          },
        ],
        log: [],
      },
      {
        name: "memory",
        title: "Shared memory",
        description: "KV reads and writes through Troupe's memory API.",
        ok: false,
        summary: "",
        metrics: [],
        error: "could not start nats-server: no usable nats-server (2.10 or newer) was found",
        durationMs: 40,
        log: [],
      },
    ],
  };
}
