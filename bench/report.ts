// The benchmark report: everything one run measured, as written to
// `bench-<timestamp>.json` and rendered to HTML and to the terminal table.

import type { BenchEnvironment } from "./environment.js";
import type { ScenarioResult } from "./scenario.js";

/** Bumped when the JSON shape changes in a way a reader would notice. */
export const REPORT_VERSION = 1;

/** One scenario's result as reported: the result plus what the registry says about it. */
export interface ReportedResult extends ScenarioResult {
  title: string;
  description: string;
  /** The scenario's `ctx.log` lines. */
  log: string[];
}

export interface BenchReport {
  version: typeof REPORT_VERSION;
  /** ISO time the run started. */
  startedAt: string;
  durationMs: number;
  environment: BenchEnvironment;
  /** The scenario names asked for, in order. */
  scenarios: string[];
  results: ReportedResult[];
}

/** True when every scenario ran. */
export function allOk(report: Pick<BenchReport, "results">): boolean {
  return report.results.every((r) => r.ok);
}

/** The metrics that have a goal and missed it, with their scenario. */
export function missedGoals(report: Pick<BenchReport, "results">): { scenario: string; metric: string }[] {
  const out: { scenario: string; metric: string }[] = [];
  for (const r of report.results) {
    for (const m of r.metrics) if (m.pass === false) out.push({ scenario: r.name, metric: m.name });
  }
  return out;
}
