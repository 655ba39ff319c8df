import { describe, expect, it } from "vitest";
import type { LatencyRow, Metric } from "./scenario.js";
import { escapeXml, estimateTextWidth, fitText, labelColumnWidth, latencyChartSvg, ratioAxis, ratioChartSvg } from "./svg-charts.js";

function metric(ratio: number | undefined, pass?: boolean): Metric {
  return { name: "m", unit: "ops/s", troupe: 1, baseline: 1, ratio, ...(pass === undefined ? {} : { goal: "ratio ≥ 1", pass }) };
}

/** The attributes of every element of `tag` with `cls` in `svg`, in order. */
function elements(svg: string, tag: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${tag} class="${cls}"([^>]*)>`, "g"))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    out.push(attrs);
  }
  return out;
}

/** The text shown by each row label (without its tooltip), in order. */
function rowLabels(svg: string): { shown: string; tip?: string }[] {
  return [...svg.matchAll(/<text class="row-label"[^>]*>(?:<title>([^<]*)<\/title>)?([^<]*)<\/text>/g)].map((m) => ({
    shown: m[2]!,
    ...(m[1] !== undefined ? { tip: m[1] } : {}),
  }));
}

const unescape = (s: string): string =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

describe("estimateTextWidth and fitText", () => {
  it("allows about 6.5 px a character at 11 px, more for capitals, scaled by font size", () => {
    expect(estimateTextWidth("abcdefghij")).toBeCloseTo(65);
    expect(estimateTextWidth("MMMM")).toBeGreaterThan(estimateTextWidth("nnnn"));
    expect(estimateTextWidth("abcdefghij", 22)).toBeCloseTo(130);
    expect(estimateTextWidth("")).toBe(0);
  });

  it("keeps text that fits and shortens the rest with an ellipsis, within the width", () => {
    expect(fitText("short", 100)).toBe("short");
    const long = "server-restart · throughput back to 80% (worst) vs raw, reconnect wait 250 ms";
    const fitted = fitText(long, 200);
    expect(fitted.endsWith("…")).toBe(true);
    expect(long.startsWith(fitted.slice(0, -1))).toBe(true);
    expect(estimateTextWidth(fitted)).toBeLessThanOrEqual(200);
  });

  it("sizes a label column from its longest label, within bounds", () => {
    const labels = ["a", "a much longer label, about forty characters"];
    expect(labelColumnWidth(labels, { max: 1000 })).toBeGreaterThanOrEqual(estimateTextWidth(labels[1]!) + 16);
    expect(labelColumnWidth(["a"], { min: 80, max: 1000 })).toBe(80);
    expect(labelColumnWidth(labels, { max: 100 })).toBe(100);
  });
});

describe("ratioAxis", () => {
  const axis = ratioAxis([0.78, 1.3, 568.9], 100, 400);

  it("is logarithmic: 10× lies as far right of 1× as 0.1× lies left", () => {
    const wide = ratioAxis([0.05, 20], 100, 400);
    const one = wide.x(1);
    expect(wide.x(10) - one).toBeCloseTo(one - wide.x(0.1), 6);
    expect(wide.x(2) - one).toBeCloseTo(one - wide.x(0.5), 6);
  });

  it("runs from a round value at or below the smallest ratio to one at or above the largest", () => {
    expect(axis.lo).toBe(0.5);
    expect(axis.hi).toBe(1000);
    expect(axis.x(axis.lo)).toBeCloseTo(100);
    expect(axis.x(axis.hi)).toBeCloseTo(500);
  });

  it("keeps 1× away from the edges even when every ratio is on one side", () => {
    const above = ratioAxis([1.2, 3], 0, 300);
    expect(above.lo).toBeLessThanOrEqual(0.5);
    const below = ratioAxis([0.3, 0.9], 0, 300);
    expect(below.hi).toBeGreaterThanOrEqual(2);
    for (const a of [above, below]) {
      expect(a.x(1)).toBeGreaterThan(0);
      expect(a.x(1)).toBeLessThan(300);
    }
  });

  it("has 1× and the powers of ten among its ticks, their labels apart", () => {
    expect(axis.ticks).toContain(1);
    for (const t of [10, 100, 1000]) expect(axis.ticks).toContain(t);
    const xs = axis.ticks.map((t) => axis.x(t));
    for (let i = 1; i < xs.length; i++) expect(xs[i]! - xs[i - 1]!).toBeGreaterThanOrEqual(25);
  });

  it("ticks every 1, 2 and 5 when there is room", () => {
    expect(ratioAxis([0.3, 1.5], 0, 600).ticks).toEqual([0.2, 0.5, 1, 2]);
  });

  it("clamps ratios outside the axis to its ends", () => {
    expect(axis.x(1e6)).toBeCloseTo(500);
    expect(axis.x(0)).toBeCloseTo(100);
  });
});

describe("ratioChartSvg", () => {
  const items = [
    { label: "one", metric: metric(1) },
    { label: "ten times better, goal met", metric: metric(10, true) },
    { label: "ten times worse, goal missed", metric: metric(0.1, false) },
    { label: "throughput · asks, 64 in flight vs requests, noAsyncTraces", metric: metric(568.9) },
    { label: "no comparison", metric: metric(undefined) },
  ];
  const svg = ratioChartSvg(items);
  const bars = elements(svg, "rect", "bar");
  const baseline = Number(elements(svg, "line", "reference")[0]!.x1);

  it("draws one bar per ratio, from the 1× baseline to the ratio", () => {
    expect(bars).toHaveLength(4);
    const [one, ten, tenth] = bars;
    expect(Math.abs(Number(one!.x) - baseline)).toBeLessThanOrEqual(0.1);
    expect(Number(one!.width)).toBeLessThanOrEqual(2);
    expect(Math.abs(Number(ten!.x) - baseline)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(Number(tenth!.x) + Number(tenth!.width) - baseline)).toBeLessThanOrEqual(0.2);
    // 10× and 0.1× are the same length on either side of 1×.
    expect(Math.abs(Number(ten!.width) - Number(tenth!.width))).toBeLessThanOrEqual(0.2);
  });

  it("marks 1× as the baseline and labels the axis in ratios", () => {
    expect(svg).toContain("1× = raw nats.js");
    expect(svg).toMatch(/<text class="tick"[^>]*font-weight="600">1×<\/text>/);
    for (const t of ["10×", "100×", "1000×"]) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain("log scale");
  });

  it("colours bars green for a met goal, red for a missed one, grey without a goal", () => {
    expect(bars.map((b) => b.fill)).toEqual(["#8c959f", "#16a34a", "#dc2626", "#8c959f"]);
  });

  it("makes the label column wide enough for the longest label", () => {
    const longest = Math.max(...items.slice(0, 4).map((i) => estimateTextWidth(i.label)));
    const labelX = Number(elements(svg, "text", "row-label")[0]!.x);
    expect(labelX - longest).toBeGreaterThanOrEqual(8);
    for (const b of bars) expect(Number(b.x)).toBeGreaterThan(labelX);
    expect(rowLabels(svg).map((l) => l.shown)).toEqual(items.slice(0, 4).map((i) => escapeXml(i.label)));
  });

  it("shortens a label past the cap with an ellipsis, the full text as a tooltip", () => {
    const long = `${"a very long metric name ".repeat(5)}<end>`;
    const out = ratioChartSvg([{ label: long, metric: metric(2) }], { width: 600 });
    const [label] = rowLabels(out);
    expect(label!.shown.endsWith("…")).toBe(true);
    expect(unescape(label!.tip!)).toBe(long);
    const x = Number(elements(out, "text", "row-label")[0]!.x);
    expect(estimateTextWidth(unescape(label!.shown))).toBeLessThanOrEqual(x - 8);
    expect(x).toBeLessThanOrEqual(600 * 0.55);
  });

  it("says so when there is nothing to compare", () => {
    const out = ratioChartSvg([{ label: "x", metric: metric(undefined) }]);
    expect(out).toContain("no Troupe/raw comparisons in this run");
    expect(elements(out, "rect", "bar")).toHaveLength(0);
  });
});

describe("latencyChartSvg", () => {
  const row = (label: string): LatencyRow => ({ label, unit: "ms", p50: 1, p90: 2, p99: 3, max: 4 });

  it("makes the label column wide enough for the longest label", () => {
    const labels = ["short", "chaos → first answer to an ask sent after it (100 failures)"];
    const svg = latencyChartSvg("t", labels.map(row));
    const labelX = Number(elements(svg, "text", "row-label")[0]!.x);
    expect(labelX - Math.max(...labels.map((l) => estimateTextWidth(l)))).toBeGreaterThanOrEqual(8);
    for (const b of elements(svg, "rect", "bar")) expect(Number(b.x)).toBeGreaterThan(labelX);
    expect(rowLabels(svg).map((l) => l.shown)).toEqual(labels.map(escapeXml));
  });

  it("shortens a label past the cap with an ellipsis, the full text as a tooltip", () => {
    const long = "x".repeat(200);
    const svg = latencyChartSvg("t", [row(long)]);
    const [label] = rowLabels(svg);
    expect(label!.shown).toMatch(/^x+…$/);
    expect(label!.tip).toBe(long);
  });
});
