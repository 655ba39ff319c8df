// Turning command-line text into values: strict JSON for messages and spawn
// args (a mistake is a usage error), loose JSON for `kv put` values.

import { UsageError } from "./exit-code.js";

/**
 * Parse `text` as JSON or throw a UsageError naming the argument.
 *
 * @example
 * parseJsonArg('{"op":"inc"}', "MESSAGE") // { op: "inc" }
 * parseJsonArg("{op:inc}", "MESSAGE")     // UsageError: MESSAGE is not valid JSON ...
 */
export function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${what} is not valid JSON (${why}): ${text}; quote it for the shell, like '{"op":"inc"}'`);
  }
}

/** `text` as JSON when it parses, else the text itself: `42` is a number, `hello` a string. */
export function parseLooseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
