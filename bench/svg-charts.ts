// Charts as inline SVG strings, for the self-contained HTML report: a line
// chart of a value over time with chaos events as labelled vertical lines, a
// bar chart of latency percentiles, and a bar chart of Troupe/raw ratios on a
// logarithmic axis. No scripts, no external resources.

import { formatRatio } from "./report-table.js";
import type { LatencyRow, Metric, Series } from "./scenario.js";

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A short axis label: 950, 1.2k, 34k, 1.5M. */
export function formatShort(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${trim(v / 1e6)}M`;
  if (abs >= 1e3) return `${trim(v / 1e3)}k`;
  if (abs >= 1 || abs === 0) return trim(v);
  return v.toPrecision(2);
}

function trim(v: number): string {
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Round tick values covering [0, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function num(v: number): string {
  return Number.isFinite(v) ? (Math.round(v * 10) / 10).toString() : "0";
}

const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"`;

/**
 * A line chart of `series.points` (value over time), each event a dashed
 * vertical line with its label.
 */
export function lineChartSvg(series: Series, opts: { width?: number; height?: number } = {}): string {
  const width = opts.width ?? 880;
  const height = opts.height ?? 300;
  const events = series.events ?? [];
  const m0 = { left: 68, right: 24 };
  const plotW0 = width - m0.left - m0.right;
  const maxT0 = Math.max(1, ...series.points.map((p) => p.tMs + bucketWidth(series.points)), ...events.map((e) => e.atMs));
  const labelRows = placeLabels(
    events.map((e) => m0.left + (e.atMs / maxT0) * plotW0),
    events.map((e) => e.label),
    m0.left + plotW0,
  );
  const rowsForLabels = Math.max(1, ...labelRows.map((r) => r + 1));
  const m = { ...m0, top: 20 + rowsForLabels * 13, bottom: 42 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const pts = series.points;
  const maxT = Math.max(1, ...pts.map((p) => p.tMs + bucketWidth(pts)), ...events.map((e) => e.atMs));
  const maxV = Math.max(0, ...pts.map((p) => p.value));
  const yTicks = niceTicks(maxV);
  const yMax = yTicks[yTicks.length - 1]!;
  const xTicks = niceTicks(maxT / 1000, 8).filter((t) => t * 1000 <= maxT * 1.0001);
  const sx = (tMs: number): number => m.left + (tMs / maxT) * plotW;
  const sy = (v: number): number => m.top + plotH - (v / yMax) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg class="chart line-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(series.title)}" ${FONT} font-size="11">`,
  );
  parts.push(`<title>${escapeXml(series.title)}</title>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="#fafbfc" stroke="#d0d7de"/>`);
  for (const t of yTicks) {
    const y = num(sy(t));
    parts.push(`<line class="grid" x1="${m.left}" x2="${m.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#57606a">${formatShort(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = num(sx(t * 1000));
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="#57606a"/>`);
    parts.push(`<text x="${x}" y="${m.top + plotH + 16}" text-anchor="middle" fill="#57606a">${trim(t)}</text>`);
  }
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle" fill="#24292f">time (s)</text>`);
  parts.push(
    `<text x="14" y="${m.top + plotH / 2}" text-anchor="middle" fill="#24292f" transform="rotate(-90 14 ${m.top + plotH / 2})">${escapeXml(series.unit)}</text>`,
  );

  if (pts.length === 0) {
    parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" text-anchor="middle" fill="#57606a">no data</text>`);
  } else {
    // Each point is a rate over a bucket that starts at tMs: drawn as a step
    // across the bucket, so an outage starts and ends where it really did.
    const step = bucketWidth(pts);
    const lastT = Math.min(maxT, pts[pts.length - 1]!.tMs + step);
    const coords: string[] = [];
    pts.forEach((p, i) => {
      const end = Math.min(i + 1 < pts.length ? pts[i + 1]!.tMs : lastT, p.tMs + step);
      coords.push(`${num(sx(p.tMs))},${num(sy(p.value))}`, `${num(sx(end))},${num(sy(p.value))}`);
    });
    const line = coords.join(" ");
    const area = `${num(sx(pts[0]!.tMs))},${num(sy(0))} ${line} ${num(sx(lastT))},${num(sy(0))}`;
    parts.push(`<polygon class="series-area" points="${area}" fill="#2563eb" fill-opacity="0.10"/>`);
    parts.push(
      `<polyline class="series-line" points="${line}" fill="none" stroke="#2563eb" stroke-width="1.8" stroke-linejoin="round"/>`,
    );
  }

  // Lines first, then labels with a white halo, so no line crosses a label.
  const xs = events.map((e) => sx(e.atMs));
  events.forEach((e, i) => {
    const labelY = m.top - 6 - labelRows[i]! * 13;
    parts.push(
      `<line class="event-line" x1="${num(xs[i]!)}" x2="${num(xs[i]!)}" y1="${labelY + 3}" y2="${m.top + plotH}" stroke="#dc2626" stroke-width="1.2" stroke-dasharray="4 3"><title>${escapeXml(`${e.label} at ${(e.atMs / 1000).toFixed(2)} s`)}</title></line>`,
    );
  });
  events.forEach((e, i) => {
    const x = xs[i]!;
    const labelY = m.top - 6 - labelRows[i]! * 13;
    const anchorEnd = x + labelWidth(e.label) + 4 > m.left + plotW;
    parts.push(
      `<text class="event-label" x="${num(anchorEnd ? x - 4 : x + 4)}" y="${labelY}" text-anchor="${anchorEnd ? "end" : "start"}" fill="#b91c1c" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(e.label)}</text>`,
    );
  });
  parts.push(`</svg>`);
  return parts.join("");
}

/** The bucket width of a series: the smallest gap between points (100 ms for a single point). */
function bucketWidth(pts: readonly { tMs: number }[]): number {
  let w = Infinity;
  for (let i = 1; i < pts.length; i++) {
    const d = pts[i]!.tMs - pts[i - 1]!.tMs;
    if (d > 0 && d < w) w = d;
  }
  return Number.isFinite(w) ? w : 100;
}

/** Rough width of an 11px label, enough to keep labels apart. */
function labelWidth(text: string): number {
  return text.length * 6.2 + 8;
}

/**
 * A row (0 = nearest the plot) for each label at x, so that labels on one row
 * do not overlap: each goes to the lowest row whose last label ends before it.
 */
function placeLabels(xs: number[], labels: string[], right: number): number[] {
  const rowEnds: number[] = [];
  return xs.map((x, i) => {
    const w = labelWidth(labels[i]!);
    const start = x + w + 4 > right ? x - w - 4 : x;
    let row = rowEnds.findIndex((end) => end < start);
    if (row < 0) {
      row = rowEnds.length;
      rowEnds.push(-Infinity);
    }
    rowEnds[row] = start + w + 4;
    return row;
  });
}

/**
 * Estimated width in px of `text` drawn at `fontSize` px in the charts' sans
 * serif font: about 6.5 px a character at 11 px, more for capitals and m/w.
 * It errs wide (DejaVu Sans, among the widest, averages about 5.9 px), so a
 * column sized from it does not cut its labels.
 */
export function estimateTextWidth(text: string, fontSize = 11): number {
  let w = 0;
  for (const ch of text) w += /[A-HJ-Zmw@%]/.test(ch) ? 9 : 6.5;
  return (w * fontSize) / 11;
}

/** `text`, or as much of it as fits `maxWidth` (estimated) followed by an ellipsis. */
export function fitText(text: string, maxWidth: number, fontSize = 11): string {
  if (estimateTextWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  const room = maxWidth - estimateTextWidth("…", fontSize);
  let n = 0;
  let w = 0;
  while (n < chars.length) {
    const cw = estimateTextWidth(chars[n]!, fontSize);
    if (w + cw > room) break;
    w += cw;
    n++;
  }
  return `${chars.slice(0, n).join("").trimEnd()}…`;
}

/** Space between the chart's left edge and a row label, and between the label and the plot. */
const LABEL_PAD = 8;

/**
 * The width of a column of right-aligned row labels (padding included): wide
 * enough for the longest label, at least `min`, at most `max` (longer labels
 * are shortened by {@link rowLabelSvg}).
 */
export function labelColumnWidth(labels: readonly string[], opts: { min?: number; max: number }): number {
  const longest = Math.max(0, ...labels.map((l) => estimateTextWidth(l)));
  return Math.min(opts.max, Math.max(opts.min ?? 60, Math.ceil(longest) + 2 * LABEL_PAD));
}

/** A row label ending just left of `plotLeft`; shortened with an ellipsis and the full text as a tooltip when it does not fit. */
function rowLabelSvg(label: string, plotLeft: number, y: number): string {
  const shown = fitText(label, plotLeft - 2 * LABEL_PAD);
  const tip = shown === label ? "" : `<title>${escapeXml(label)}</title>`;
  return `<text class="row-label" x="${num(plotLeft - LABEL_PAD)}" y="${num(y)}" text-anchor="end" dominant-baseline="middle" fill="#24292f">${tip}${escapeXml(shown)}</text>`;
}

const PCT_COLORS = { p50: "#2563eb", p90: "#7c3aed", p99: "#db2777", max: "#9ca3af" } as const;
const PCTS = ["p50", "p90", "p99", "max"] as const;

/**
 * Horizontal bars of p50/p90/p99/max for each row; a logarithmic axis when the
 * values span more than 30×, so a long tail does not flatten the median. The
 * label column is as wide as the longest label, up to 55% of the width.
 */
export function latencyChartSvg(title: string, rows: readonly LatencyRow[], opts: { width?: number } = {}): string {
  const width = opts.width ?? 880;
  const barH = 11;
  const groupH = PCTS.length * (barH + 2) + 14;
  const labelW = labelColumnWidth(
    rows.map((r) => r.label),
    { min: 80, max: Math.round(width * 0.55) },
  );
  const m = { left: labelW, right: 70, top: 30, bottom: 34 };
  const height = m.top + Math.max(1, rows.length) * groupH + m.bottom;
  const plotW = width - m.left - m.right;
  const values = rows.flatMap((r) => PCTS.map((p) => r[p])).filter((v) => Number.isFinite(v) && v > 0);
  const maxV = Math.max(1e-9, ...values);
  const minV = Math.min(maxV, ...values);
  const log = values.length > 0 && maxV / minV > 30;
  let sx: (v: number) => number;
  let ticks: number[];
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(minV));
    const hi = 10 ** Math.ceil(Math.log10(maxV));
    const span = Math.log10(hi) - Math.log10(lo);
    sx = (v) => m.left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * plotW;
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    ticks = niceTicks(maxV);
    const top = ticks[ticks.length - 1]!;
    sx = (v) => m.left + (Math.max(0, v) / top) * plotW;
  }
  const unit = rows[0]?.unit ?? "";
  const parts: string[] = [];
  parts.push(
    `<svg class="chart latency-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" ${FONT} font-size="11">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  // legend
  PCTS.forEach((p, i) => {
    const x = m.left + i * 70;
    parts.push(`<rect x="${x}" y="8" width="10" height="10" fill="${PCT_COLORS[p]}"/>`);
    parts.push(`<text x="${x + 14}" y="17" fill="#24292f">${p}</text>`);
  });
  parts.push(`<text x="${width - m.right}" y="17" text-anchor="end" fill="#57606a">${escapeXml(unit)}${log ? ", log scale" : ""}</text>`);
  for (const t of ticks) {
    const x = num(sx(t));
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${m.top}" y2="${height - m.bottom}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${x}" y="${height - m.bottom + 16}" text-anchor="middle" fill="#57606a">${formatShort(t)}</text>`);
  }
  rows.forEach((r, ri) => {
    const gy = m.top + ri * groupH;
    parts.push(rowLabelSvg(r.label, m.left, gy + groupH / 2 - 4));
    PCTS.forEach((p, pi) => {
      const v = r[p];
      const y = gy + pi * (barH + 2);
      const w = Number.isFinite(v) ? Math.max(1, sx(v) - m.left) : 0;
      parts.push(
        `<rect class="bar" x="${m.left}" y="${y}" width="${num(w)}" height="${barH}" fill="${PCT_COLORS[p]}"><title>${escapeXml(`${r.label} ${p}: ${formatShort(v)} ${r.unit}`)}</title></rect>`,
      );
      parts.push(`<text x="${num(m.left + w + 4)}" y="${y + barH - 2}" fill="#57606a" font-size="10">${Number.isFinite(v) ? formatShort(v) : "–"}</text>`);
    });
  });
  parts.push(`</svg>`);
  return parts.join("");
}

/** 1, 2 or 5 times a power of ten. */
function isNice(v: number): boolean {
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5].some((n) => Math.abs(m - n) < 1e-6);
}

/** The largest 1/2/5 × 10^k at or below v. */
function niceBelow(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  const m = [5, 2, 1].find((n) => n * p <= v * (1 + 1e-9)) ?? 1;
  return Number((m * p).toPrecision(6));
}

/** The smallest 1/2/5 × 10^k at or above v. */
function niceAbove(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  const m = [1, 2, 5, 10].find((n) => n * p >= v * (1 - 1e-9)) ?? 10;
  return Number((m * p).toPrecision(6));
}

/** A logarithmic axis for ratios; see {@link ratioAxis}. */
export interface RatioAxis {
  /** The left end of the axis (a 1/2/5 × 10^k, at most 0.5). */
  lo: number;
  /** The right end of the axis (a 1/2/5 × 10^k, at least 2). */
  hi: number;
  /** x of a ratio; ratios outside [lo, hi] (or not above 0) are clamped to the ends. */
  x(ratio: number): number;
  /** Tick values, ascending, always with 1, their labels at least `minTickGap` px apart. */
  ticks: number[];
}

/**
 * A log10 axis over `[left, left + width]` covering every ratio and 1, from a
 * round value at or below the smallest (at most 0.5×) to one at or above the
 * largest (at least 2×), so 1× is never at an edge and 10× lies as far right
 * of it as 0.1× lies left. Ticks are every 1/2/5 × 10^k when their labels
 * fit `minTickGap` px apart; else the powers of ten (thinned if need be) and,
 * where there is room, the ends, 0.5× and 2×.
 */
export function ratioAxis(ratios: readonly number[], left: number, width: number, minTickGap = 10): RatioAxis {
  const finite = ratios.filter((r) => Number.isFinite(r) && r > 0);
  const lo = niceBelow(Math.min(0.5, ...finite));
  const hi = niceAbove(Math.max(2, ...finite));
  const l0 = Math.log10(lo);
  const span = Math.log10(hi) - l0;
  const x = (r: number): number => {
    const v = Number.isFinite(r) && r > 0 ? Math.min(hi, Math.max(lo, r)) : r > 0 ? hi : lo;
    return left + ((Math.log10(v) - l0) / span) * width;
  };
  const labelW = (v: number): number => estimateTextWidth(ratioTick(v));
  const fits = (a: number, b: number): boolean => Math.abs(x(a) - x(b)) >= (labelW(a) + labelW(b)) / 2 + minTickGap;
  const spaced = (vs: number[]): boolean => vs.every((v, i) => i === 0 || fits(vs[i - 1]!, v));
  const kLo = Math.ceil(l0 - 1e-9);
  const kHi = Math.floor(Math.log10(hi) + 1e-9);
  const inRange = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  // Every 1, 2 and 5 when they all fit ...
  const all: number[] = [];
  for (let k = kLo - 1; k <= kHi; k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(6));
      if (inRange(v)) all.push(v);
    }
  }
  if (spaced(all)) return { lo, hi, x, ticks: all };
  // ... else the powers of ten (every one, else every 2nd, 3rd, ... counted
  // from 1×), then the ends and 0.5× and 2× where there is room.
  let ticks: number[] = [1];
  for (let step = 1; step <= kHi - kLo + 1; step++) {
    const powers: number[] = [];
    for (let k = kLo; k <= kHi; k++) if (k % step === 0) powers.push(Number((10 ** k).toPrecision(6)));
    ticks = powers;
    if (spaced(powers)) break;
  }
  for (const v of [lo, hi, 0.5, 2]) {
    if (inRange(v) && !ticks.includes(v) && ticks.every((t) => fits(t, v))) ticks.push(v);
  }
  ticks.sort((a, b) => a - b);
  return { lo, hi, x, ticks };
}

/** A ratio as an axis label: 0.001×, 0.5×, 1×, 20×, 1000×, 20k×. */
function ratioTick(v: number): string {
  if (v >= 1e4) return `${formatShort(v)}×`;
  return `${isNice(v) ? Number(v.toPrecision(1)) : trim(v)}×`;
}

/** A ratio as a bar's value: as in the tables, with two significant digits below 0.01×. */
function ratioValue(r: number): string {
  return r > 0 && r < 0.01 ? `${Number(r.toPrecision(2))}×` : formatRatio(r);
}

const RATIO_COLORS = { met: "#16a34a", missed: "#dc2626", none: "#8c959f" } as const;

/**
 * One bar per metric that has a ratio (above 1: Troupe did better), on a
 * log10 axis with 1× (raw nats.js) as the baseline: each bar runs from 1× to
 * its ratio, to the right when Troupe did better, to the left when worse.
 * Bars are green when the goal is met, red when it is missed, grey when the
 * metric has no goal. The label column is as wide as the longest label, up
 * to 55% of the width.
 */
export function ratioChartSvg(items: readonly { label: string; metric: Metric }[], opts: { width?: number } = {}): string {
  const withRatio = items.filter((i) => i.metric.ratio !== undefined && Number.isFinite(i.metric.ratio));
  const width = opts.width ?? 880;
  const rowH = 22;
  const labelW = labelColumnWidth(
    withRatio.map((i) => i.label),
    { min: 120, max: Math.round(width * 0.55) },
  );
  const valueW = Math.max(0, ...withRatio.map((i) => estimateTextWidth(ratioValue(i.metric.ratio!))));
  const m = { left: labelW, right: Math.max(30, Math.ceil(valueW) + 10), top: 44, bottom: 46 };
  const height = m.top + Math.max(1, withRatio.length) * rowH + m.bottom;
  const plotW = width - m.left - m.right;
  const plotBottom = height - m.bottom;
  const axis = ratioAxis(
    withRatio.map((i) => i.metric.ratio!),
    m.left,
    plotW,
  );
  const one = axis.x(1);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart ratio-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Troupe relative to raw nats.js" ${FONT} font-size="11">`,
  );
  parts.push(`<title>Troupe relative to raw nats.js (right of 1× is better than raw; log scale)</title>`);

  // legend: only the colours in use
  const kinds = new Set(withRatio.map((i) => (i.metric.pass === true ? "met" : i.metric.pass === false ? "missed" : "none")));
  let lx = m.left;
  for (const [kind, text] of [
    ["met", "goal met"],
    ["missed", "goal missed"],
    ["none", "no goal"],
  ] as const) {
    if (!kinds.has(kind)) continue;
    parts.push(`<rect x="${lx}" y="8" width="10" height="10" fill="${RATIO_COLORS[kind]}"/>`);
    parts.push(`<text x="${lx + 14}" y="17" fill="#24292f">${text}</text>`);
    lx += 14 + estimateTextWidth(text) + 14;
  }
  parts.push(`<text x="${width - m.right}" y="17" text-anchor="end" fill="#57606a">log scale</text>`);

  for (const t of axis.ticks) {
    const x = num(axis.x(t));
    if (t !== 1) parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${m.top}" y2="${plotBottom}" stroke="#e5e7eb"/>`);
    parts.push(
      `<text class="tick" x="${x}" y="${plotBottom + 16}" text-anchor="middle" fill="${t === 1 ? "#24292f" : "#57606a"}"${t === 1 ? ' font-weight="600"' : ""}>${ratioTick(t)}</text>`,
    );
  }
  if (withRatio.length === 0) {
    parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + rowH / 2 + 4}" text-anchor="middle" fill="#57606a" stroke="#ffffff" stroke-width="4" paint-order="stroke">no Troupe/raw comparisons in this run</text>`);
  }
  withRatio.forEach((item, i) => {
    const y = m.top + i * rowH;
    const r = item.metric.ratio!;
    const kind = item.metric.pass === true ? "met" : item.metric.pass === false ? "missed" : "none";
    const end = axis.x(r);
    const barX = Math.min(one, end);
    const barW = Math.max(2, Math.abs(end - one));
    const value = ratioValue(r);
    const goal = item.metric.goal ? ` (goal ${item.metric.goal}: ${kind === "met" ? "met" : kind === "missed" ? "missed" : "not judged"})` : "";
    parts.push(rowLabelSvg(item.label, m.left, y + rowH / 2));
    parts.push(
      `<rect class="bar" x="${num(barX)}" y="${y + 4}" width="${num(barW)}" height="${rowH - 8}" fill="${RATIO_COLORS[kind]}"><title>${escapeXml(`${item.label}: ${value}${goal}`)}</title></rect>`,
    );
    // The value goes past the bar's end; for a bar to the left of 1× with no
    // room before it, just right of the baseline instead.
    const w = estimateTextWidth(value);
    const [tx, anchor] =
      r >= 1 ? [Math.max(end, one + 2) + 4, "start"] : end - 4 - w >= m.left ? [end - 4, "end"] : [one + 4, "start"];
    parts.push(`<text class="value" x="${num(tx)}" y="${y + rowH / 2}" text-anchor="${anchor}" dominant-baseline="middle" fill="#24292f">${value}</text>`);
  });
  const ox = num(one);
  parts.push(`<line class="reference" x1="${ox}" x2="${ox}" y1="${m.top - 6}" y2="${plotBottom + 4}" stroke="#24292f" stroke-width="2"/>`);
  parts.push(`<text x="${ox}" y="${m.top - 10}" text-anchor="middle" fill="#24292f" font-weight="600">1× = raw nats.js</text>`);
  parts.push(`<text x="${num(one - 8)}" y="${height - 8}" text-anchor="end" fill="#57606a">← Troupe worse</text>`);
  parts.push(`<text x="${num(one + 8)}" y="${height - 8}" text-anchor="start" fill="#57606a">Troupe better →</text>`);
  parts.push(`</svg>`);
  return parts.join("");
}
