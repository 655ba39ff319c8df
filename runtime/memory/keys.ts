// Memory keys and key patterns, checked before any I/O. The rules are JetStream
// KV's: letters, digits and `-/_=.`, dot-separated tokens, none empty. Patterns
// (for keys() and watch()) may also use NATS wildcards: `*` for one token, `>`
// for the rest. A pattern compiles to a matcher used to filter watch events.
//
// Length: a key is at most MAX_KEY_LENGTH characters. The KV client puts the key
// in subjects (`$KV.<bucket>.<key>`, and that again inside a JetStream API subject
// such as `$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<key>`); with the longest
// bucket name (204 characters) that is at most about 1,500 characters, under
// MAX_SUBJECT_LENGTH (runtime/subjects.ts). A longer subject would exceed the
// server's control line, and the server would close the connection.

import { InvalidKeyError } from "../errors.js";

/** The longest key or pattern, in characters (keys are ASCII: one byte each). */
export const MAX_KEY_LENGTH = 1024;

const KEY = /^[-/_=.a-zA-Z0-9]+$/;
const PATTERN = /^[-/_=.a-zA-Z0-9*>]+$/;

/** Check a key a value is stored under; returns it, or throws InvalidKeyError. */
export function validateKey(key: string): string {
  checkShape(key, KEY, "use letters, digits and - / _ = . only");
  return key;
}

/** Check a key or a pattern with `*` / `>` wildcard tokens; returns it, or throws InvalidKeyError. */
export function validatePattern(pattern: string): string {
  checkShape(pattern, PATTERN, "use letters, digits, - / _ = . and the wildcard tokens * and >");
  const tokens = pattern.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ((t.includes("*") || t.includes(">")) && t.length > 1) {
      throw new InvalidKeyError(pattern, `a wildcard must be a whole token ("${t}")`);
    }
    if (t === ">" && i !== tokens.length - 1) {
      throw new InvalidKeyError(pattern, `">" may only be the last token`);
    }
  }
  return pattern;
}

/** True when the (valid) pattern has a wildcard token. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes(">");
}

/**
 * Compile a validated pattern into a predicate over keys, with NATS subject semantics.
 *
 * @example
 * const m = keyMatcher("user.*.name");
 * m("user.42.name"); // true
 * m("user.42.email"); // false
 */
export function keyMatcher(pattern: string): (key: string) => boolean {
  if (pattern === ">") return () => true;
  if (!hasWildcard(pattern)) return (key) => key === pattern;
  const want = pattern.split(".");
  const tail = want[want.length - 1] === ">";
  const fixed = tail ? want.length - 1 : want.length;
  return (key) => {
    const got = key.split(".");
    if (tail ? got.length <= fixed : got.length !== fixed) return false;
    for (let i = 0; i < fixed; i++) {
      const w = want[i]!;
      if (w !== "*" && w !== got[i]) return false;
    }
    return true;
  };
}

function checkShape(key: string, allowed: RegExp, charset: string): void {
  if (typeof key !== "string") throw new InvalidKeyError(String(key), "a key must be a string");
  if (key.length === 0) throw new InvalidKeyError(key, "a key cannot be empty");
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(key, `a key is at most ${MAX_KEY_LENGTH} characters, this one has ${key.length}`);
  }
  if (!allowed.test(key)) throw new InvalidKeyError(key, charset);
  if (key.startsWith(".") || key.endsWith(".")) throw new InvalidKeyError(key, "a key cannot start or end with \".\"");
  if (key.includes("..")) throw new InvalidKeyError(key, "a key cannot have an empty token (\"..\")");
}
