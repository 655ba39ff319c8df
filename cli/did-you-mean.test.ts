// The "did you mean" suggestion: a typo finds its name; an unrelated word finds none.

import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "./did-you-mean.js";

describe("closestName", () => {
  it.each([
    ["countr", "counter"],
    ["ecoh", "echo"],
    ["Counter", "counter"],
    ["unicorn", undefined],
    ["ab", undefined],
    ["counter", undefined],
  ])("%s -> %s", (word, expected) => {
    expect(closestName(word, ["echo", "counter", "greeter"])).toBe(expected);
  });

  it("counts edits", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
});
