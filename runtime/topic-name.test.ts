// Topic names and patterns: what is accepted, what is refused (naming the
// value), and NATS wildcard matching, one row per rule.

import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { topicMatches, validateTopicName, validateTopicPattern } from "./topic-name.js";

describe("topic names", () => {
  it.each(["orders", "orders.placed", "a-b.c_d.E1"])("accepts %j", (name) => {
    expect(validateTopicName(name)).toBe(name);
    expect(validateTopicPattern(name)).toBe(name);
  });

  it.each(["", "a..b", ".a", "a.", "a b", "a/b", "orders.*", "orders.>", "x".repeat(257), Array(17).fill("a").join(".")])("refuses the name %j", (bad) => {
    expect(() => validateTopicName(bad)).toThrow(InvalidArgumentError);
  });

  it("names the value it refuses", () => {
    expect(() => validateTopicName("a..b")).toThrow(/"a\.\.b"/);
    expect(() => validateTopicPattern("a.>.b")).toThrow(/"a\.>\.b".*last token/);
  });

  it.each(["*", ">", "orders.*", "orders.>", "*.placed", "a.*.c.>"])("accepts the pattern %j", (p) => {
    expect(validateTopicPattern(p)).toBe(p);
  });

  it.each(["a.>.b", "a.b*", "a.>x", "a..*"])("refuses the pattern %j", (bad) => {
    expect(() => validateTopicPattern(bad)).toThrow(InvalidArgumentError);
  });
});

describe("matching", () => {
  const rows: Array<[string, string, boolean]> = [
    ["orders.placed", "orders.placed", true],
    ["orders.placed", "orders.shipped", false],
    ["orders.*", "orders.placed", true],
    ["orders.*", "orders", false],
    ["orders.*", "orders.placed.eu", false],
    ["orders.>", "orders.placed", true],
    ["orders.>", "orders.placed.eu", true],
    ["orders.>", "orders", false],
    ["*.placed", "orders.placed", true],
    ["*", "orders", true],
    [">", "a.b.c", true],
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.b.d", false],
  ];
  it.each(rows)("%j against %j: %s", (pattern, name, matches) => {
    expect(topicMatches(pattern, name)).toBe(matches);
  });
});
