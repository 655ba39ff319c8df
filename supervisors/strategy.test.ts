// Strategy rules as tables: one row per rule of OTP's supervisor.erl.
import { describe, expect, it } from "vitest";
import { childrenToRestart, ExitKind, RestartType, shouldRestart, Strategy, type ExitKind as Exit, type RestartType as Restart } from "./strategy.js";

describe("shouldRestart", () => {
  const rows: [Restart, Exit, boolean][] = [
    [RestartType.Permanent, ExitKind.Normal, true],
    [RestartType.Permanent, ExitKind.Shutdown, true],
    [RestartType.Permanent, ExitKind.Failure, true],
    [RestartType.Transient, ExitKind.Normal, false],
    [RestartType.Transient, ExitKind.Shutdown, false],
    [RestartType.Transient, ExitKind.Failure, true],
    [RestartType.Temporary, ExitKind.Normal, false],
    [RestartType.Temporary, ExitKind.Shutdown, false],
    [RestartType.Temporary, ExitKind.Failure, false],
  ];
  it.each(rows)("%s child after a %s exit: restart %s", (restart, reason, expected) => {
    expect(shouldRestart(restart, reason)).toBe(expected);
  });
});

describe("childrenToRestart", () => {
  const children = ["a", "b", "c", "d"];
  const rows: [Strategy, string, string[]][] = [
    [Strategy.OneForOne, "b", ["b"]],
    [Strategy.OneForAll, "b", ["a", "b", "c", "d"]],
    [Strategy.RestForOne, "b", ["b", "c", "d"]],
    [Strategy.RestForOne, "a", ["a", "b", "c", "d"]],
    [Strategy.RestForOne, "d", ["d"]],
    [Strategy.OneForAll, "d", ["a", "b", "c", "d"]],
  ];
  it.each(rows)("%s with %s failing restarts %j in start order", (strategy, failed, expected) => {
    expect(childrenToRestart(strategy, children, failed)).toEqual(expected);
  });

  it("returns a fresh array, not the caller's", () => {
    const out = childrenToRestart(Strategy.OneForAll, children, "a");
    out.push("z");
    expect(children).toEqual(["a", "b", "c", "d"]);
  });

  it("rejects a child that is not among the children", () => {
    expect(() => childrenToRestart(Strategy.OneForOne, children, "x")).toThrow(RangeError);
    expect(() => childrenToRestart(Strategy.OneForOne, children, "x")).toThrow(/"x" is not among/);
  });
});
