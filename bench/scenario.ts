// What a benchmark scenario is, what the runner hands it, and what it hands
// back. Every figure a scenario reports is a Troupe number next to a raw
// nats.js baseline measured in the same process and run, and their ratio.

import type { NatsServer, NatsServerOptions } from "../runtime/testing/nats-server.js";
import type { SeriesPoint, TimelineEvent } from "./timeline.js";

/** Which direction of a metric is good. */
export const Better = { Higher: "higher", Lower: "lower" } as const;
export type Better = (typeof Better)[keyof typeof Better];

/**
 * One figure. `ratio` is normalised so that above 1 is always better for
 * Troupe: troupe/baseline when `better` is "higher" (throughput),
 * baseline/troupe when it is "lower" (latency).
 */
export interface Metric {
  name: string;
  unit: string;
  better?: Better;
  troupe?: number;
  baseline?: number;
  ratio?: number;
  /** What the figure should reach, in words, e.g. "ratio ≥ 0.50". */
  goal?: string;
  pass?: boolean;
}

/** A line of a chart: a value over time, with chaos events marked on it. */
export interface Series {
  title: string;
  unit: string;
  points: SeriesPoint[];
  events?: TimelineEvent[];
}

/** One row of a latency table: the percentiles of one measurement. */
export interface LatencyRow {
  label: string;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  unit: string;
}

export interface LatencyTable {
  title: string;
  rows: LatencyRow[];
}

/** What a scenario hands back. `ok: false` with `error` when it could not run. */
export interface ScenarioResult {
  name: string;
  ok: boolean;
  /** One sentence on what the scenario shows. */
  summary: string;
  metrics: Metric[];
  series?: Series[];
  latency?: LatencyTable[];
  notes?: string[];
  error?: string;
  /** Wall time of the scenario in ms, filled in by the runner. */
  durationMs?: number;
}

/** What the runner gives a scenario. */
export interface ScenarioContext {
  /** Smaller counts: each scenario well under a minute. */
  quick: boolean;
  /** Seed for everything random in the scenario (see `rng` in random.ts). */
  seed: number;
  /** Report progress as a fraction 0..1 of the scenario, with an optional phase label. */
  progress: (fraction: number, label?: string) => void;
  /** Aborted on Ctrl-C or when the scenario overruns its time limit. */
  signal: AbortSignal;
  /** A fresh nats-server on a random loopback port, tracked and always stopped by the runner. */
  startServer(opts?: NatsServerOptions): Promise<NatsServer>;
  /** Register a cleanup (close a connection, stop a node); run by the runner after the scenario, also on Ctrl-C. */
  defer(cleanup: () => unknown): void;
  /** A line for the run log (shown above the progress bar, kept in the JSON). */
  log(line: string): void;
}

/** A benchmark scenario, as listed by `agentctl bench` and run by {@link runBench}. */
export interface Scenario {
  /** The name given on the command line: lower-case, no spaces. */
  name: string;
  title: string;
  description: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/**
 * A Troupe-versus-baseline metric with its normalised ratio, and a pass/fail
 * against `minRatio` when given.
 *
 * @example
 * compare({ name: "tell throughput", unit: "msg/s", better: "higher", troupe: 80_000, baseline: 400_000, minRatio: 0.1 })
 * // ratio 0.2, goal "ratio ≥ 0.10", pass true
 */
export function compare(m: {
  name: string;
  unit: string;
  better: Better;
  troupe: number;
  baseline: number;
  minRatio?: number;
}): Metric {
  const ratio = ratioOf(m.troupe, m.baseline, m.better);
  const metric: Metric = {
    name: m.name,
    unit: m.unit,
    better: m.better,
    troupe: m.troupe,
    baseline: m.baseline,
    ratio,
  };
  if (m.minRatio !== undefined) {
    metric.goal = `ratio ≥ ${m.minRatio.toFixed(2)}`;
    metric.pass = Number.isFinite(ratio) && ratio >= m.minRatio;
  }
  return metric;
}

/** The normalised ratio: above 1 means Troupe did better. NaN when either side is missing or zero. */
export function ratioOf(troupe: number, baseline: number, better: Better): number {
  if (!(troupe > 0) || !(baseline > 0)) return NaN;
  return better === Better.Higher ? troupe / baseline : baseline / troupe;
}

/** A failed result: the scenario could not run, for the reason given. */
export function failed(name: string, summary: string, error: unknown): ScenarioResult {
  return { name, ok: false, summary, metrics: [], error: errorText(error) };
}

/** One sentence for an error, with its cause when it has one. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : "";
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
