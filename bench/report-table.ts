// The table printed at the end of `agentctl bench`: one row per metric, with
// Troupe's figure, the raw nats.js baseline, their ratio and the goal.

import { formatNumber } from "./stats.js";
import type { ScenarioResult } from "./scenario.js";

export interface TableOptions {
  /** ANSI colours (pass/fail, failed scenarios). Default false. */
  color?: boolean;
}

const ANSI = { red: "\x1b[31m", green: "\x1b[32m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" } as const;

/** A ratio for people: "0.42×", or "–" when there is none. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return "–";
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/**
 * Renders the results as a fixed-width table, followed by one line per
 * scenario that could not run. Ends with a newline.
 */
export function renderTable(results: readonly ScenarioResult[], opts: TableOptions = {}): string {
  const paint = (code: string, text: string): string => (opts.color ? `${code}${text}${ANSI.reset}` : text);
  const header = ["scenario", "metric", "troupe", "baseline", "unit", "ratio", "goal", "pass"];
  const rows: string[][] = [];
  const passCells: (boolean | undefined)[] = [];
  for (const r of results) {
    if (r.metrics.length === 0) {
      rows.push([r.name, r.ok ? "(no metrics)" : "(did not run)", "", "", "", "", "", r.ok ? "" : "✗"]);
      passCells.push(r.ok ? undefined : false);
      continue;
    }
    for (const m of r.metrics) {
      rows.push([
        r.name,
        m.name,
        formatNumber(m.troupe),
        formatNumber(m.baseline),
        m.unit,
        formatRatio(m.ratio),
        m.goal ?? "",
        m.pass === undefined ? "" : m.pass ? "✓" : "✗",
      ]);
      passCells.push(m.pass);
    }
  }
  const numeric = new Set([2, 3, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out: string[] = [paint(ANSI.bold, line(header)), paint(ANSI.dim, widths.map((w) => "─".repeat(w)).join("  "))];
  rows.forEach((row, i) => {
    const text = line(row);
    const pass = passCells[i];
    out.push(pass === false ? paint(ANSI.red, text) : pass === true ? text.replace(/✓$/, paint(ANSI.green, "✓")) : text);
  });
  const failures = results.filter((r) => !r.ok);
  if (failures.length > 0) {
    out.push("");
    for (const r of failures) out.push(paint(ANSI.red, `✗ ${r.name} did not run: ${r.error ?? "no reason given"}`));
  }
  return `${out.join("\n")}\n`;
}
