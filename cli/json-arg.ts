// Turning command-line text into values: strict JSON for messages and spawn
// args (a mistake is a usage error), loose JSON for `kv put` values. Any of
// them may come from stdin (`-`) or a file (`@path`), for values bigger than
// the shell's argument limit.

import { createReadStream } from "node:fs";
import { UsageError } from "./exit-code.js";

/** Where a JSON argument's text came from, for error messages. */
interface Source {
  text: string;
  /** "" for text given inline, " on stdin", " in ./big.json". */
  where: string;
}

/** What reading `-` needs; a test gives a stand-in for a terminal. */
export interface JsonArgIo {
  stdin?: NodeJS.ReadStream;
}

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

/**
 * A strict JSON argument that may also be `-` (read stdin to its end) or
 * `@path` (read the file). Inline text is parsed as by {@link parseJsonArg};
 * JSON from stdin or a file that does not parse is a UsageError naming the
 * source, line and column.
 *
 * @example
 * await readJsonArg("@order.json", "MESSAGE")  // the file's JSON
 * await readJsonArg("-", "MESSAGE")            // `cat order.json | agentctl tell orders/o1 -`
 */
export async function readJsonArg(arg: string, what: string, io: JsonArgIo = {}): Promise<unknown> {
  const source = await readSource(arg, what, io);
  if (source.where === "") return parseJsonArg(arg, what);
  try {
    return JSON.parse(source.text) as unknown;
  } catch (err) {
    throw new UsageError(`${what}${source.where} is not valid JSON ${describeJsonError(err, source.text)}`);
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

/**
 * A loose value (see {@link parseLooseValue}) that may come from stdin (`-`) or
 * a file (`@path`). To store the string "-" or one starting with @, quote it as JSON: '"@home"'.
 */
export async function readLooseValue(arg: string, what: string, io: JsonArgIo = {}): Promise<unknown> {
  const { text, where } = await readSource(arg, what, io);
  return parseLooseValue(where === "" ? text : text.replace(/\r?\n$/, ""));
}

/** The most a JSON argument read from stdin or a file may be: NATS's largest `max_payload`; no message can carry more. */
export const MAX_JSON_INPUT_BYTES = 64 * 1024 * 1024;

/** Read `input` to its end as UTF-8, refusing (UsageError) past {@link MAX_JSON_INPUT_BYTES} instead of holding it all. */
async function readBounded(input: AsyncIterable<unknown>, what: string, where: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_JSON_INPUT_BYTES) {
      throw new UsageError(`${what}${where} is over ${MAX_JSON_INPUT_BYTES / (1024 * 1024)} MiB, more than any NATS message can carry`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The text an argument stands for: itself, stdin's or a file's. */
async function readSource(arg: string, what: string, io: JsonArgIo): Promise<Source> {
  if (arg === "-") {
    const stdin = io.stdin ?? process.stdin;
    if (stdin.isTTY === true) {
      throw new UsageError(`${what} is - (stdin), but stdin is a terminal: pipe the JSON in, like \`cat message.json | agentctl ... -\`, or give @message.json`);
    }
    const text = await readBounded(stdin, what, " on stdin");
    if (text.trim() === "") throw new UsageError(`${what} on stdin is empty: pipe the JSON in, like \`cat message.json | agentctl ... -\``);
    return { text, where: " on stdin" };
  }
  if (arg.startsWith("@") && arg.length > 1) {
    const path = arg.slice(1);
    let text: string;
    try {
      text = await readBounded(createReadStream(path), what, ` in ${path}`);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new UsageError(`${what} file ${path} does not exist`);
      const why = code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : err instanceof Error ? err.message : String(err);
      throw new UsageError(`${what} file ${path} cannot be read (${why})`);
    }
    return { text, where: ` in ${path}` };
  }
  return { text: arg, where: "" };
}

/** `at line 3, column 3: Expected property name or '}'` from a JSON.parse error and the text it parsed. */
export function describeJsonError(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  // V8 says "... in JSON at position N" (newer versions add " (line L column C)").
  const why = message.replace(/\s*in JSON at position \d+.*$/s, "").replace(/\s*\(line \d+ column \d+\)$/, "");
  const at = /at position (\d+)/.exec(message);
  // "Unexpected end of JSON input" names no position: it is the end.
  const position = at !== null ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  if (position === undefined) return `(${why})`;
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `at line ${line}, column ${column}: ${why}`;
}
