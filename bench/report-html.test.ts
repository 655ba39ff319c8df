import { describe, expect, it } from "vitest";
import { renderHtmlReport } from "./report-html.js";
import { sampleReport } from "./sample-report.js";
import { escapeXml, niceTicks } from "./svg-charts.js";

describe("renderHtmlReport", () => {
  const report = sampleReport();
  const html = renderHtmlReport(report);

  it("loads nothing from outside the file", () => {
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it("draws the charts as inline SVG", () => {
    expect(html).toContain("<svg");
    expect(html).toMatch(/<svg class="chart line-chart"/);
    expect(html).toMatch(/<svg class="chart latency-chart"/);
    expect(html).toMatch(/<svg class="chart ratio-chart"/);
    expect(html).toMatch(/<polyline class="series-line" points="[\d. ,]+"/);
  });

  it("marks every chaos event on its chart with its label", () => {
    for (const e of report.results[1]!.series![0]!.events!) {
      expect(html).toContain(`>${escapeXml(e.label)}</text>`);
    }
    expect(html.match(/class="event-line"/g)).toHaveLength(3);
  });

  it("lists every metric, with ratio, goal and verdict", () => {
    for (const r of report.results) {
      for (const m of r.metrics) expect(html).toContain(escapeXml(m.name));
    }
    expect(html).toContain("0.34×"); // 48,000 / 140,000
    expect(html).toContain("ratio ≥ 0.25");
    expect(html).toContain("✗ miss"); // p99: 1100/4100 = 0.27 < 0.33
    expect(html).toContain("✓ pass");
  });

  it("states the environment, the seed and how to repeat the run", () => {
    expect(html).toContain("Example CPU @ 2.0GHz × 2");
    expect(html).toContain("2.10.27");
    expect(html).toContain("v20.20.0");
    expect(html).toContain("0123456789ab");
    expect(html).toContain("seed <strong class=\"seed\">4242</strong>");
    expect(html).toContain("agentctl bench throughput failover memory --quick --seed 4242");
  });

  it("shows why a scenario did not run", () => {
    expect(html).toContain("1 of 3 scenarios did not run");
    expect(html).toContain("no usable nats-server (2.10 or newer) was found");
  });

  it("escapes text that looks like markup", () => {
    const r = sampleReport();
    r.results[0]!.metrics[0]!.name = "<img src=x onerror=alert(1)>";
    r.results[0]!.notes = ['"quoted" & <b>bold</b>'];
    const out = renderHtmlReport(r);
    expect(out).not.toContain("<img src=x");
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(out).toContain("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;");
  });

  it("renders a report without series, latency or comparisons", () => {
    const r = sampleReport();
    r.results = [{ ...r.results[0]!, metrics: [{ name: "only raw", unit: "msg/s", baseline: 10 }], latency: [], series: [] }];
    const out = renderHtmlReport(r);
    expect(out).toContain("only raw");
    expect(out).not.toContain("ratio-chart");
  });
});

describe("niceTicks", () => {
  it.each([
    [95, [0, 20, 40, 60, 80, 100]],
    [1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [23_000, [0, 5_000, 10_000, 15_000, 20_000, 25_000]],
  ])("covers 0..%d with round steps", (max, ticks) => {
    expect(niceTicks(max)).toEqual(ticks);
  });

  it("copes with an empty range", () => {
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});
