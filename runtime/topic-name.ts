// Topic names and subscription patterns, checked once where they come in
// (publish, subscribe, defineAgent, defineTopic). A name is dot-separated
// tokens of letters, digits, `_` and `-`; a pattern may also use NATS
// wildcards: `*` for one token, `>` for the rest (last token only).

import { InvalidArgumentError } from "./errors.js";

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** Most tokens in a topic name or pattern. */
export const MAX_TOPIC_TOKENS = 16;
/** Longest topic name or pattern, in characters. */
export const MAX_TOPIC_LENGTH = 256;

/** Check a topic name to publish on: no wildcards. Returns it. */
export function validateTopicName(name: string): string {
  return check(name, false);
}

/** Check a subscription pattern: a topic name, or one with `*` tokens and a final `>`. Returns it. */
export function validateTopicPattern(pattern: string): string {
  return check(pattern, true);
}

function check(value: string, wildcards: boolean): string {
  const what = wildcards ? "topic pattern" : "topic";
  const fail = (why: string): never => {
    throw new InvalidArgumentError(what, `invalid ${what} ${JSON.stringify(value)}: ${why}`);
  };
  if (typeof value !== "string" || value.length === 0) return fail("must be a non-empty string");
  if (value.length > MAX_TOPIC_LENGTH) return fail(`longer than ${MAX_TOPIC_LENGTH} characters`);
  const tokens = value.split(".");
  if (tokens.length > MAX_TOPIC_TOKENS) return fail(`more than ${MAX_TOPIC_TOKENS} tokens`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "*" || t === ">") {
      if (!wildcards) return fail('wildcards ("*", ">") are for subscriptions; publish on a full name');
      if (t === ">" && i !== tokens.length - 1) return fail('">" may only be the last token');
      continue;
    }
    if (!TOKEN.test(t)) return fail('use dot-separated tokens of 1-128 letters, digits, "_" or "-"');
  }
  return value;
}

/** Whether a topic name matches a pattern, by NATS rules. Both already checked. */
export function topicMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  const p = pattern.split(".");
  const n = name.split(".");
  for (let i = 0; i < p.length; i++) {
    const t = p[i]!;
    if (t === ">") return n.length > i;
    if (i >= n.length) return false;
    if (t !== "*" && t !== n[i]) return false;
  }
  return p.length === n.length;
}
