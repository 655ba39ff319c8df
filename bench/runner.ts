// Runs benchmark scenarios: each with its own nats-server(s) on random
// loopback ports, progress on the terminal, a table at the end, and the report
// written as JSON and self-contained HTML. Whatever a scenario started is
// stopped when it ends, when it overruns, and on Ctrl-C.

import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "../runtime/testing/nats-server.js";
import { collectEnvironment } from "./environment.js";
import { createProgressDisplay, type ProgressDisplay } from "./progress-display.js";
import { freshSeed } from "./random.js";
import { REPORT_VERSION, type BenchReport, type ReportedResult } from "./report.js";
import { renderHtmlReport } from "./report-html.js";
import { renderTable } from "./report-table.js";
import { errorText, ratioOf, type Scenario, type ScenarioContext, type ScenarioResult } from "./scenario.js";

/** Exit codes of a run (and of `agentctl bench`). */
export const BenchExit = {
  Ok: 0,
  /** A scenario could not run (ok: false). */
  Failed: 1,
  /** A usage error: an unknown scenario name. Nothing was run. */
  Usage: 2,
  /** With `strict`: every scenario ran, and at least one goal was missed. */
  GoalMissed: 7,
  /** Interrupted by SIGINT/SIGTERM; the process exits with this code. */
  Interrupted: 130,
} as const;
export type BenchExit = (typeof BenchExit)[keyof typeof BenchExit];

export interface RunBenchOptions {
  /** Scenario names to run, in order; default: every scenario in the registry. */
  scenarios?: string[];
  /** Smaller counts: each scenario well under a minute. */
  quick?: boolean;
  /** Seed for everything random; default: a fresh one, printed and recorded. */
  seed?: number;
  /** Where the reports go; default `bench-results/` in the working directory. */
  outDir?: string;
  /** The scenarios known to this run. */
  registry: Scenario[];
  /** Where progress and the table go; default process.stdout. Errors go here too. */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /** A missed goal makes the exit code {@link BenchExit.GoalMissed} (by default only scenarios that did not run fail the run). */
  strict?: boolean;
  /** Per-scenario time limit in ms; default 90 s with `quick`, 10 minutes without. */
  scenarioTimeoutMs?: number;
  /** Install SIGINT/SIGTERM handlers that clean up and exit 130 (default true). */
  handleSignals?: boolean;
}

export interface RunBenchResult {
  exitCode: BenchExit;
  results: ReportedResult[];
  /** The report files; null when nothing was run (usage error). */
  jsonPath: string | null;
  htmlPath: string | null;
  report: BenchReport | null;
}

/** The time limit left after a scenario is aborted for it to wind down before the runner moves on. */
const ABORT_GRACE_MS = 10_000;
const CLEANUP_STEP_MS = 10_000;

/** `bench-20250102-030405` for a start time. */
export function reportBaseName(startedAt: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const d = startedAt;
  return `bench-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Unknown scenario names, or an empty list. */
export function unknownScenarios(names: readonly string[], registry: readonly Scenario[]): string[] {
  const known = new Set(registry.map((s) => s.name));
  return names.filter((n) => !known.has(n));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** What one scenario started: cleanups and servers, undone in reverse order. */
class Resources {
  readonly servers = new Set<NatsServer>();
  readonly cleanups: (() => unknown)[] = [];
  #released: Promise<void> | undefined;

  release(onError: (line: string) => void): Promise<void> {
    this.#released ??= (async () => {
      for (const fn of this.cleanups.reverse()) {
        try {
          const r = await withTimeout(Promise.resolve().then(fn), CLEANUP_STEP_MS);
          if (r === "timeout") onError(`a cleanup took over ${CLEANUP_STEP_MS / 1000} s; moving on`);
        } catch (err) {
          onError(`cleanup failed: ${errorText(err)}`);
        }
      }
      await Promise.allSettled([...this.servers].map((s) => s.dispose()));
      this.servers.clear();
    })();
    return this.#released;
  }
}

/** Fills in what the runner owns: the name, ratios a scenario left out, NaN-free figures. */
function normalise(name: string, result: ScenarioResult | undefined): ScenarioResult {
  if (result === undefined || typeof result !== "object") {
    return { name, ok: false, summary: "", metrics: [], error: "the scenario returned no result" };
  }
  const metrics = (result.metrics ?? []).map((m) => {
    if (m.ratio === undefined && m.troupe !== undefined && m.baseline !== undefined) {
      const ratio = ratioOf(m.troupe, m.baseline, m.better ?? "higher");
      return Number.isFinite(ratio) ? { ...m, ratio } : m;
    }
    return m;
  });
  return { ...result, name, metrics };
}

/**
 * Runs the chosen scenarios and writes the report.
 *
 * @example
 * const { exitCode, htmlPath } = await runBench({ registry: scenarios, quick: true });
 * process.exitCode = exitCode;
 */
export async function runBench(opts: RunBenchOptions): Promise<RunBenchResult> {
  const out = opts.stdout ?? process.stdout;
  const names = opts.scenarios && opts.scenarios.length > 0 ? opts.scenarios : opts.registry.map((s) => s.name);
  const unknown = unknownScenarios(names, opts.registry);
  if (unknown.length > 0) {
    const known = opts.registry.map((s) => s.name).join(", ") || "(none)";
    out.write(`unknown scenario${unknown.length === 1 ? "" : "s"}: ${unknown.join(", ")}; known scenarios: ${known}\n`);
    return { exitCode: BenchExit.Usage, results: [], jsonPath: null, htmlPath: null, report: null };
  }
  const chosen = names.map((n) => opts.registry.find((s) => s.name === n)!);
  const quick = opts.quick ?? false;
  const seed = opts.seed ?? freshSeed();
  const outDir = resolve(opts.outDir ?? "bench-results");
  const timeLimitMs = opts.scenarioTimeoutMs ?? (quick ? 90_000 : 600_000);
  const startedAt = new Date();
  const t0 = performance.now();
  const environment = collectEnvironment({ seed, quick });

  out.write(
    `Troupe bench: ${chosen.map((s) => s.name).join(", ")} · ${quick ? "quick" : "full"} · seed ${seed} (repeat with --seed ${seed})\n` +
      `  ${environment.cpuModel} × ${environment.cpuCount}, Node ${environment.nodeVersion}, nats-server ${environment.natsServerVersion ?? "not found"}\n`,
  );

  const display: ProgressDisplay = createProgressDisplay(out);
  let current: { resources: Resources; abort: AbortController } | undefined;
  let interrupted = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(BenchExit.Interrupted); // a second Ctrl-C: leave now
    interrupted = true;
    display.close();
    out.write(`\n${signal}: stopping the servers and processes this run started...\n`);
    current?.abort.abort(new Error(`interrupted by ${signal}`));
    const done = current?.resources.release(() => undefined) ?? Promise.resolve();
    void withTimeout(done, 8_000).finally(() => process.exit(BenchExit.Interrupted));
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  const results: ReportedResult[] = [];
  try {
    for (const [index, scenario] of chosen.entries()) {
      const resources = new Resources();
      const abort = new AbortController();
      const log: string[] = [];
      current = { resources, abort };
      display.begin(scenario.name, index, chosen.length);
      const ctx: ScenarioContext = {
        quick,
        seed,
        signal: abort.signal,
        progress: (fraction, label) => display.update(fraction, label),
        log: (line) => {
          log.push(line);
          display.log(line);
        },
        defer: (cleanup) => {
          resources.cleanups.push(cleanup);
        },
        startServer: async (serverOpts?: NatsServerOptions) => {
          if (abort.signal.aborted) throw new Error("the scenario was aborted");
          const server = await startNatsServer(serverOpts);
          resources.servers.add(server);
          return server;
        },
      };
      const s0 = performance.now();
      let result: ScenarioResult;
      try {
        const running = Promise.resolve().then(() => scenario.run(ctx));
        const outcome = await withTimeout(running, timeLimitMs);
        if (outcome === "timeout") {
          abort.abort(new Error(`time limit of ${timeLimitMs / 1000} s exceeded`));
          await withTimeout(running.catch(() => undefined), ABORT_GRACE_MS);
          result = {
            name: scenario.name,
            ok: false,
            summary: "",
            metrics: [],
            error: `the scenario did not finish within its time limit of ${timeLimitMs / 1000} s`,
          };
        } else {
          result = normalise(scenario.name, outcome);
        }
      } catch (err) {
        result = { name: scenario.name, ok: false, summary: "", metrics: [], error: errorText(err) };
      } finally {
        await resources.release((line) => log.push(line));
      }
      result.durationMs = performance.now() - s0;
      display.end(result.ok ? "done" : "did not run", result.durationMs / 1000);
      results.push({ ...result, title: scenario.title, description: scenario.description, log });
      current = undefined;
    }
  } finally {
    display.close();
    if (handleSignals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }

  const report: BenchReport = {
    version: REPORT_VERSION,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    environment,
    scenarios: chosen.map((s) => s.name),
    results,
  };

  out.write(`\n${renderTable(results, { color: out.isTTY === true })}`);

  await mkdir(outDir, { recursive: true });
  const base = reportBaseName(startedAt);
  const jsonPath = join(outDir, `${base}.json`);
  const htmlPath = join(outDir, `${base}.html`);
  await writeFile(jsonPath, `${JSON.stringify(report, jsonReplacer, 2)}\n`);
  await writeFile(htmlPath, renderHtmlReport(report));
  await copyFile(jsonPath, join(outDir, "latest.json"));
  await copyFile(htmlPath, join(outDir, "latest.html"));
  out.write(`\nreport: ${htmlPath}\n        ${jsonPath}\n`);

  const anyFailed = results.some((r) => !r.ok);
  const anyMissed = results.some((r) => r.metrics.some((m) => m.pass === false));
  const exitCode = anyFailed ? BenchExit.Failed : opts.strict === true && anyMissed ? BenchExit.GoalMissed : BenchExit.Ok;
  return { exitCode, results, jsonPath, htmlPath, report };
}

/** JSON has no NaN or Infinity: write them as null rather than lose the key. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}
