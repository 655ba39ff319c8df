// CPU time used by a process (user + system), for scenarios that compare what
// a variant costs each process beside what it costs in wall time: on a shared
// machine the wall time moves with other work, the CPU a message takes much
// less. Linux only (/proc); elsewhere the figure is missing.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** Clock ticks per second, as /proc counts CPU time (`getconf CLK_TCK`; 100 if it cannot be asked). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5_000, stdio: ["ignore", "pipe", "ignore"] }).trim());
      ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * User + system CPU time in clock ticks from the text of `/proc/<pid>/stat`,
 * or undefined when it is not such a line. The command name (field 2) may hold
 * spaces and parentheses, so the fields are counted from its last `)`.
 */
export function cpuTicksOfStat(stat: string): number | undefined {
  const end = stat.lastIndexOf(")");
  if (end < 0) return undefined;
  // After ") ": state (field 3), ... utime is field 14, stime field 15.
  const fields = stat.slice(end + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

/** CPU time (ms, user + system) used so far by process `pid`; NaN when it cannot be read (not Linux, or the process is gone). */
export function processCpuMs(pid: number): number {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return NaN;
  }
  const ticks = cpuTicksOfStat(stat);
  return ticks === undefined ? NaN : (ticks * 1000) / clockTicks();
}
