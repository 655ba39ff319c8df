// agentctl bench: the benchmark and chaos scenarios under bench/, with reports
// written as JSON and HTML. Each scenario starts its own servers; --server is not used.

import type { Command } from "commander";
import type { Scenario } from "../../bench/scenario.js";
import type { Factory } from "../factory.js";
import { integer } from "../option-parsers.js";

interface BenchFlags {
  quick?: boolean;
  seed?: number;
  out?: string;
  list?: boolean;
  json?: boolean;
  strict?: boolean;
}

/** What a test may put in place of the real scenarios (and of stdout, for the progress and table). */
export interface BenchOverrides {
  registry?: Scenario[];
  stdout?: NodeJS.WritableStream;
}

const BENCH_EXIT_HELP = `
Exit codes of bench:
  0  every scenario ran (goals missed or not, unless --strict)
  1  a scenario could not run
  2  usage error (an unknown scenario name; nothing was run)
  7  with --strict: every scenario ran, and a goal was missed
  130  interrupted (Ctrl-C)

Examples:
  agentctl bench --list
  agentctl bench throughput --quick --strict   # for CI: exit 7 on a missed goal`;

/** Register `agentctl bench [SCENARIO...] [--quick] [--seed N] [--out DIR] [--strict]`. */
export function register(program: Command, f: Factory, overrides: BenchOverrides = {}): void {
  program
    .command("bench")
    .summary("run benchmark and chaos scenarios")
    .description("run benchmark and chaos scenarios (each on its own throwaway servers) and write a report")
    .argument("[scenario...]", "scenarios to run, in order (default: all; see --list)")
    .option("-q, --quick", "smaller runs: each scenario well under a minute")
    .option("--seed <n>", "seed for everything random (default: a fresh one, printed)", integer)
    .option("-o, --out <dir>", "where the reports go (default: bench-results)")
    .option("--strict", "exit 7 when any goal is missed (for CI; without it, only a scenario that could not run fails the run)")
    .option("-l, --list", "list the scenarios and exit")
    .option("--json", "with --list: print the scenarios as JSON")
    .addHelpText("after", BENCH_EXIT_HELP)
    .action(
      f.action(async (names: string[], opts: BenchFlags) => {
        // Loaded on use, so other commands do not pay for the benchmark code.
        const { runBench, scenarios: all } = await import("../../bench/index.js");
        const scenarios = overrides.registry ?? all;
        if (opts.list) {
          const rows = scenarios.map((s) => ({ name: s.name, title: s.title, description: s.description }));
          if (opts.json) return f.out.json(rows);
          f.out.table(["NAME", "TITLE"], rows.map((r) => [r.name, r.title]));
          return;
        }
        const result = await runBench({
          scenarios: names,
          quick: opts.quick,
          seed: opts.seed,
          outDir: opts.out,
          strict: opts.strict,
          registry: scenarios,
          stdout: overrides.stdout,
        });
        return result.exitCode;
      }),
    );
}
