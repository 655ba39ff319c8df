// At the runtime's door to the pure supervision rules, a broken rule is an
// InvalidConfigError naming the field, and agent types and keys must be address tokens.
import { describe, expect, it } from "vitest";
import { InvalidConfigError } from "./errors.js";
import { childSpec, supervisorSpec } from "./specs.js";

describe("specs", () => {
  it.each([
    ["a type with a dot", () => supervisorSpec({ type: "a.b" }), "type", /1-128 letters.*got "a\.b"/],
    ["a child key with a space", () => supervisorSpec({ type: "s", children: [{ id: "a", type: "w", key: "x y" }] }), "children[0].key", /got "x y"/],
    ["a negative intensity", () => supervisorSpec({ type: "s", intensity: -1 }), "intensity", /non-negative integer/],
    ["a child with an unknown restart", () => childSpec({ id: "c", type: "t", key: "k", restart: "never" }, "spawn"), "spawn.restart", /must be one of/],
    ["a child key with a dot", () => childSpec({ id: "c", type: "t", key: "a.b" }), "child.key", /got "a\.b"/],
  ])("refuses %s with InvalidConfigError naming the field", (_what, check, field, message) => {
    let error: unknown;
    try {
      check();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });

  it("fills in defaults for a valid spec", () => {
    expect(childSpec({ id: "c", type: "t", key: "k" })).toEqual({ id: "c", type: "t", key: "k", restart: "permanent", shutdownMs: 5000, args: undefined });
  });
});
