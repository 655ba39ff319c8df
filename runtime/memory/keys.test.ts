// Key and pattern rules (JetStream KV's), and wildcard matching for watches.
import { describe, expect, it } from "vitest";
import { InvalidKeyError } from "../errors.js";
import { keyMatcher, MAX_KEY_LENGTH, validateKey, validatePattern } from "./keys.js";

describe("validateKey", () => {
  it.each(["a", "user.42.name", "a-b_c/d=e", "A.B.c9", "x/y/z"])("accepts %s", (key) => {
    expect(validateKey(key)).toBe(key);
  });

  it.each([
    ["", "empty"],
    [".a", "leading dot"],
    ["a.", "trailing dot"],
    ["a..b", "empty token"],
    ["a b", "space"],
    ["a*", "wildcard"],
    ["user.>", "tail wildcard"],
    ["a.*.b", "token wildcard"],
    ["ключ", "non-ascii"],
    ["a:b", "colon"],
  ])("rejects %j (%s) with InvalidKeyError", (key) => {
    expect(() => validateKey(key)).toThrow(InvalidKeyError);
  });

  it("accepts a key of MAX_KEY_LENGTH characters and rejects a longer one, saying the limit", () => {
    const longest = "k".repeat(MAX_KEY_LENGTH);
    expect(validateKey(longest)).toBe(longest);
    expect(() => validateKey(`${longest}k`)).toThrow(InvalidKeyError);
    expect(() => validateKey("k".repeat(5000))).toThrow(`a key is at most ${MAX_KEY_LENGTH} characters, this one has 5000`);
    expect(() => validatePattern(`${"a.".repeat(MAX_KEY_LENGTH / 2)}>`)).toThrow(InvalidKeyError);
  });

  it("rejects a non-string", () => {
    expect(() => validateKey(42 as unknown as string)).toThrow(InvalidKeyError);
  });

  it("names the key in the error", () => {
    const err = (() => {
      try {
        validateKey("bad key");
      } catch (e) {
        return e as InvalidKeyError;
      }
    })();
    expect(err?.key).toBe("bad key");
    expect(err?.code).toBe("INVALID_KEY");
  });
});

describe("validatePattern", () => {
  it.each([">", "user.>", "user.*.name", "*", "a.b", "*.*.>"])("accepts %s", (p) => {
    expect(validatePattern(p)).toBe(p);
  });

  it.each(["user>", "us*er", "a.>.b", ">.a", "a..b", ".>", "a.", ""])("rejects %j", (p) => {
    expect(() => validatePattern(p)).toThrow(InvalidKeyError);
  });
});

describe("keyMatcher", () => {
  it.each([
    [">", "a", true],
    [">", "a.b.c", true],
    ["user.>", "user.1", true],
    ["user.>", "user.1.name", true],
    ["user.>", "user", false],
    ["user.>", "users.1", false],
    ["user.*.name", "user.42.name", true],
    ["user.*.name", "user.42.email", false],
    ["user.*.name", "user.42.name.x", false],
    ["user.*", "user.42", true],
    ["user.*", "user.42.x", false],
    ["*", "a", true],
    ["*", "a.b", false],
    ["a.b", "a.b", true],
    ["a.b", "a.bc", false],
  ])("%s matches %s: %s", (pattern, key, want) => {
    expect(keyMatcher(pattern)(key)).toBe(want);
  });
});
