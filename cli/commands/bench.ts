// agentctl bench: the benchmark and chaos scenarios under bench/, with reports
// written as JSON and HTML. Each scenario starts its own servers; --server is not used.

import type { Command } from "commander";
import type { Factory } from "../factory.js";
import { integer } from "../option-parsers.js";

interface BenchFlags {
  quick?: boolean;
  seed?: number;
  out?: string;
  list?: boolean;
  json?: boolean;
}

/** Register `agentctl bench [SCENARIO...] [--quick] [--seed N] [--out DIR]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("bench")
    .summary("run benchmark and chaos scenarios")
    .description("run benchmark and chaos scenarios (each on its own throwaway servers) and write a report")
    .argument("[scenario...]", "scenarios to run, in order (default: all; see --list)")
    .option("-q, --quick", "smaller runs: each scenario well under a minute")
    .option("--seed <n>", "seed for everything random (default: a fresh one, printed)", integer)
    .option("-o, --out <dir>", "where the reports go (default: bench-results)")
    .option("-l, --list", "list the scenarios and exit")
    .option("--json", "with --list: print the scenarios as JSON")
    .action(
      f.action(async (names: string[], opts: BenchFlags) => {
        // Loaded on use, so other commands do not pay for the benchmark code.
        const { runBench, scenarios } = await import("../../bench/index.js");
        if (opts.list) {
          const rows = scenarios.map((s) => ({ name: s.name, title: s.title, description: s.description }));
          if (opts.json) return f.out.json(rows);
          f.out.table(["NAME", "TITLE"], rows.map((r) => [r.name, r.title]));
          return;
        }
        const result = await runBench({ scenarios: names, quick: opts.quick, seed: opts.seed, outDir: opts.out, registry: scenarios });
        return result.exitCode;
      }),
    );
}
