// The machine a benchmark ran on, recorded with every report: figures from a
// 2-core shared box and a 32-core workstation are not the same figures.

import { execFileSync } from "node:child_process";
import { cpus, totalmem, platform, release, arch, loadavg } from "node:os";
import { findNatsServer } from "../runtime/testing/nats-server.js";

export interface BenchEnvironment {
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  /** 1, 5 and 15-minute load averages when the run started. */
  loadAverage: number[];
  platform: string;
  nodeVersion: string;
  /** e.g. "2.10.27"; null with `natsServerError` when no usable server was found. */
  natsServerVersion: string | null;
  natsServerPath: string | null;
  natsServerError?: string;
  /** HEAD of the git checkout the run started in, when there is one. */
  gitCommit: string | null;
  /** True when the checkout had uncommitted changes. */
  gitDirty: boolean | null;
  seed: number;
  quick: boolean;
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Reads the environment once, at the start of a run. Never throws. */
export function collectEnvironment(opts: { seed: number; quick: boolean; cwd?: string }): BenchEnvironment {
  const cpuList = cpus();
  let natsServerPath: string | null = null;
  let natsServerVersion: string | null = null;
  let natsServerError: string | undefined;
  try {
    natsServerPath = findNatsServer();
    const out = run(natsServerPath, ["--version"]);
    natsServerVersion = out === null ? null : (/v(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? out);
  } catch (err) {
    natsServerError = err instanceof Error ? err.message : String(err);
  }
  const cwd = opts.cwd ?? process.cwd();
  const gitCommit = run("git", ["-C", cwd, "rev-parse", "HEAD"]);
  const status = gitCommit === null ? null : run("git", ["-C", cwd, "status", "--porcelain", "--untracked-files=no"]);
  return {
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    cpuCount: cpuList.length,
    totalMemoryBytes: totalmem(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    platform: `${platform()} ${release()} ${arch()}`,
    nodeVersion: process.version,
    natsServerVersion,
    natsServerPath,
    ...(natsServerError !== undefined ? { natsServerError } : {}),
    gitCommit,
    gitDirty: status === null ? null : status.length > 0,
    seed: opts.seed,
    quick: opts.quick,
  };
}

/** The 1, 5 and 15-minute load averages now, as a scenario notes them: "0.52 0.61 0.70". */
export function loadAverageNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}
