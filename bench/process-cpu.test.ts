// Reading a process's CPU time from /proc/<pid>/stat: the fields are counted
// after the command name, which may hold spaces and parentheses.

import { describe, expect, it } from "vitest";
import { cpuTicksOfStat, processCpuMs } from "./process-cpu.js";

const tail = "S 1 1 1 0 -1 4194304 96 0 0 0 250 31 0 0 20 0 1 0 3122890 3133440 352";

describe("cpuTicksOfStat", () => {
  it("adds utime and stime (fields 14 and 15)", () => {
    expect(cpuTicksOfStat(`4242 (node) ${tail}`)).toBe(281);
  });

  it("counts fields from the last parenthesis, whatever the command name holds", () => {
    expect(cpuTicksOfStat(`4242 (a (weird) name) ${tail}`)).toBe(281);
  });

  it("says nothing for text that is no stat line", () => {
    expect(cpuTicksOfStat("")).toBeUndefined();
    expect(cpuTicksOfStat("4242 (node) S 1")).toBeUndefined();
  });
});

describe("processCpuMs", () => {
  it("is NaN for a process that does not exist", () => {
    expect(processCpuMs(2 ** 22 + 12345)).toBeNaN();
  });

  it("reads this process's own time", () => {
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
  });
});
