import { describe, expect, it } from "vitest";
import { InvalidConfigError, InvalidMessageError } from "./errors.js";
import { PoolPolicy, validatePoolOptions, type PoolOptions } from "./pool-options.js";
import { parsePoolMember, poolMemberKey } from "./pool-member.js";

describe("pool options", () => {
  it("defaults: least loaded, one member, named after the type", () => {
    const o = validatePoolOptions("worker");
    expect(o).toMatchObject({ policy: "least_loaded", min: 1, max: 1, name: "worker", key: undefined });
    expect(validatePoolOptions("worker", { min: 3 }).max).toBe(3);
  });

  // One row per bad option: the error names the field.
  it.each<[string, PoolOptions<unknown>]>([
    ["policy", { policy: "fastest" as PoolPolicy }],
    ["min", { min: 0 }],
    ["min", { min: 1.5 }],
    ["max", { min: 4, max: 2 }],
    ["max", { max: 5000 }],
    ["name", { name: "has.dot" }],
    ["name", { name: "x".repeat(127), max: 20 }],
    ["key", { policy: PoolPolicy.ConsistentHash }],
    ["key", { policy: PoolPolicy.ConsistentHash, key: "" }],
  ])("refuses a bad %s", (field, options) => {
    const err = (() => {
      try {
        validatePoolOptions("worker", options);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field).toBe(field);
  });

  it("a key field reads strings and numbers, and a message without it is an InvalidMessageError", () => {
    const o = validatePoolOptions<{ user?: unknown }>("worker", { policy: "consistent_hash", key: "user" });
    expect(o.key!({ user: "ann" })).toBe("ann");
    expect(o.key!({ user: 7 })).toBe("7");
    expect(() => o.key!({})).toThrow(InvalidMessageError);
  });

  it("member keys are <name>-<i> and parse back; other keys are no members", () => {
    expect(poolMemberKey("w", 12)).toBe("w-12");
    expect(parsePoolMember("w-12")).toEqual({ name: "w", index: 12 });
    expect(parsePoolMember("my-pool-0")).toEqual({ name: "my-pool", index: 0 });
    for (const k of ["w", "w-", "-1", "w-01", "w-x1", "w-5000"]) expect(parsePoolMember(k)).toBeUndefined();
  });
});
