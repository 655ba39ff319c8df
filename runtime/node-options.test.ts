// Node options are plain data checked once; the root supervisor's part is a
// supervisor spec like any other, with the same rules and backoff defaults.
import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF } from "../supervisors/backoff.js";
import { InvalidConfigError } from "./errors.js";
import { validateNodeOptions } from "./node-options.js";

describe("node options: root", () => {
  it("defaults to 10 restarts in 10 s per child, one_for_one, no backoff", () => {
    expect(validateNodeOptions({}).root).toMatchObject({ type: "root", strategy: "one_for_one", intensity: 10, periodMs: 10_000, backoff: null, children: [] });
  });

  it("completes a backoff from the defaults every supervisor uses", () => {
    expect(validateNodeOptions({ root: { backoff: { maxMs: 60_000 } } }).root.backoff).toEqual({ ...DEFAULT_BACKOFF, maxMs: 60_000 });
  });

  it.each([
    [{ intensity: -1 }, "root.intensity"],
    [{ periodMs: 0 }, "root.periodMs"],
    [{ backoff: { factor: 0.5 } }, "root.backoff.factor"],
    [{ intensty: 3 }, "root.intensty"],
    ["often", "root"],
  ])("refuses %o naming %s", (root, field) => {
    let error: unknown;
    try {
      validateNodeOptions({ root: root as never });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe(field);
  });
});
