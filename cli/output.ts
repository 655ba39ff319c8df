// Writing results: plain text for people (aligned tables, human durations)
// and JSON for scripts. Results go to stdout, notes and errors to stderr.

/** Where a command writes. Commands never touch process.stdout directly. */
export interface Output {
  /** One line of results on stdout. */
  line(text?: string): void;
  /** Part of a line on stdout, without a newline (text that streams in). */
  write(text: string): void;
  /** A value as indented JSON on stdout. */
  json(value: unknown): void;
  /** A value as one line of JSON on stdout (for streams such as `kv watch --json`). */
  jsonLine(value: unknown): void;
  /** An aligned table with a header row on stdout. */
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void;
  /** A note for the person at the terminal, on stderr (never part of the result). */
  note(text: string): void;
}

/** The Output of a real process. */
export function processOutput(stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    line: (text = "") => void stdout.write(`${text}\n`),
    write: (text) => void stdout.write(text),
    json: (value) => void stdout.write(`${toJson(value, 2)}\n`),
    jsonLine: (value) => void stdout.write(`${toJson(value)}\n`),
    table: (headers, rows) => void stdout.write(`${renderTable(headers, rows)}\n`),
    note: (text) => void stderr.write(`${text}\n`),
  };
}

/** JSON text of any value: `undefined` becomes `null`, a Date its ISO string. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value === undefined ? null : value, null, indent) ?? "null";
}

/**
 * Columns padded to their widest cell, two spaces apart, no trailing blanks.
 *
 * @example
 * renderTable(["ID", "STATE"], [["counter/c1", "running"]])
 * // "ID          STATE\ncounter/c1  running"
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [fmt(headers), ...rows.map(fmt)].join("\n");
}

/**
 * A duration for people: `850ms`, `12s`, `3m05s`, `2h07m`, `4d03h`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const two = (n: number): string => String(n).padStart(2, "0");
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${two(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${two(m % 60)}m`;
  return `${Math.floor(h / 24)}d${two(h % 24)}h`;
}
