// The HTML report of a benchmark run: one self-contained file (inline CSS,
// charts as inline SVG, no scripts, no external resources) that reads the
// same offline, attached to an issue, or years later.

import { formatRatio } from "./report-table.js";
import { allOk, missedGoals, type BenchReport, type ReportedResult } from "./report.js";
import { formatNumber } from "./stats.js";
import { escapeXml, latencyChartSvg, lineChartSvg, ratioChartSvg } from "./svg-charts.js";
import type { Metric } from "./scenario.js";

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #24292f; background: #f6f8fa; }
main { max-width: 960px; margin: 0 auto; padding: 24px 28px 64px; background: #fff; min-height: 100vh; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 6px; padding-top: 12px; border-top: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 22px 0 6px; }
p { margin: 6px 0; }
.sub { color: #57606a; margin: 0 0 16px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; vertical-align: middle; }
.badge.ok { background: #dafbe1; color: #116329; }
.badge.fail { background: #ffebe9; color: #a40e26; }
.badge.warn { background: #fff8c5; color: #7d4e00; }
dl.env { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 12px 0; padding: 12px 16px; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
dl.env dt { color: #57606a; }
dl.env dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.pass td.verdict { color: #116329; font-weight: 600; }
tr.miss td { background: #fff5f5; }
tr.miss td.verdict { color: #a40e26; font-weight: 600; }
.error { padding: 10px 14px; border: 1px solid #ff818266; background: #ffebe9; border-radius: 6px; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12.5px; }
.chart { display: block; max-width: 100%; height: auto; margin: 6px 0 14px; }
.note { color: #57606a; }
ul.notes { margin: 6px 0; padding-left: 20px; color: #3d444d; }
details { margin: 8px 0; }
details pre { background: #f6f8fa; padding: 8px 12px; border-radius: 6px; overflow-x: auto; font-size: 12px; }
code { font-family: ui-monospace, monospace; font-size: 12.5px; }
`;

function bytesToGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function metricRow(m: Metric, scenario?: string): string {
  const cls = m.pass === true ? "pass" : m.pass === false ? "miss" : "";
  const verdict = m.pass === undefined ? "" : m.pass ? "✓ pass" : "✗ miss";
  const better = m.better === "lower" ? "lower is better" : m.better === "higher" ? "higher is better" : "";
  return [
    `<tr class="metric ${cls}">`,
    scenario !== undefined ? `<td><code>${escapeXml(scenario)}</code></td>` : "",
    `<td class="metric-name" title="${escapeXml(better)}">${escapeXml(m.name)}</td>`,
    `<td class="num">${formatNumber(m.troupe)}</td>`,
    `<td class="num">${formatNumber(m.baseline)}</td>`,
    `<td>${escapeXml(m.unit)}</td>`,
    `<td class="num">${formatRatio(m.ratio)}</td>`,
    `<td>${escapeXml(m.goal ?? "")}</td>`,
    `<td class="verdict">${verdict}</td>`,
    `</tr>`,
  ].join("");
}

function metricTable(rows: { metric: Metric; scenario?: string }[], withScenario: boolean): string {
  const head = [
    withScenario ? "<th>scenario</th>" : "",
    "<th>metric</th>",
    '<th class="num">Troupe</th>',
    '<th class="num">raw nats.js</th>',
    "<th>unit</th>",
    '<th class="num">ratio</th>',
    "<th>goal</th>",
    "<th></th>",
  ].join("");
  const body = rows.map((r) => metricRow(r.metric, withScenario ? r.scenario : undefined)).join("\n");
  return `<table class="metrics"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function scenarioSection(r: ReportedResult): string {
  const out: string[] = [];
  const status = r.ok ? '<span class="badge ok">ran</span>' : '<span class="badge fail">did not run</span>';
  const seconds = r.durationMs !== undefined ? ` · ${(r.durationMs / 1000).toFixed(1)} s` : "";
  out.push(`<section class="scenario" id="scenario-${escapeXml(r.name)}">`);
  out.push(`<h2>${escapeXml(r.title)} <code>${escapeXml(r.name)}</code> ${status}</h2>`);
  out.push(`<p class="note">${escapeXml(r.description)}${seconds}</p>`);
  if (r.summary) out.push(`<p class="summary"><strong>${escapeXml(r.summary)}</strong></p>`);
  if (r.error !== undefined) out.push(`<div class="error">${escapeXml(r.error)}</div>`);
  if (r.metrics.length > 0) out.push(metricTable(r.metrics.map((metric) => ({ metric })), false));
  for (const s of r.series ?? []) {
    out.push(`<h3>${escapeXml(s.title)}</h3>`);
    out.push(lineChartSvg(s));
    if ((s.events ?? []).length > 0) {
      const ev = (s.events ?? []).map((e) => `${(e.atMs / 1000).toFixed(2)} s ${e.label}`).join(" · ");
      out.push(`<p class="note">Events: ${escapeXml(ev)}</p>`);
    }
  }
  for (const l of r.latency ?? []) {
    out.push(`<h3>${escapeXml(l.title)}</h3>`);
    out.push(latencyChartSvg(l.title, l.rows));
    out.push(
      `<table class="latency"><thead><tr><th></th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th>unit</th></tr></thead><tbody>` +
        l.rows
          .map(
            (row) =>
              `<tr><td>${escapeXml(row.label)}</td><td class="num">${formatNumber(row.p50)}</td><td class="num">${formatNumber(row.p90)}</td><td class="num">${formatNumber(row.p99)}</td><td class="num">${formatNumber(row.max)}</td><td>${escapeXml(row.unit)}</td></tr>`,
          )
          .join("") +
        `</tbody></table>`,
    );
  }
  if ((r.notes ?? []).length > 0) {
    out.push(`<ul class="notes">${(r.notes ?? []).map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>`);
  }
  if (r.log.length > 0) {
    out.push(`<details><summary>log (${r.log.length} lines)</summary><pre>${escapeXml(r.log.join("\n"))}</pre></details>`);
  }
  out.push(`</section>`);
  return out.join("\n");
}

/**
 * The whole report as one HTML document.
 *
 * @example
 * writeFileSync("bench.html", renderHtmlReport(report));
 */
export function renderHtmlReport(report: BenchReport): string {
  const env = report.environment;
  const ok = allOk(report);
  const misses = missedGoals(report);
  const failedCount = report.results.filter((r) => !r.ok).length;
  const overall = !ok
    ? `<span class="badge fail">${failedCount} of ${report.results.length} scenarios did not run</span>`
    : misses.length > 0
      ? `<span class="badge warn">${misses.length} goal${misses.length === 1 ? "" : "s"} missed</span>`
      : `<span class="badge ok">all scenarios ran${report.results.some((r) => r.metrics.some((m) => m.pass !== undefined)) ? ", all goals met" : ""}</span>`;
  const started = new Date(report.startedAt);
  const when = Number.isNaN(started.getTime()) ? report.startedAt : started.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const commit = env.gitCommit === null ? "unknown" : `${env.gitCommit.slice(0, 12)}${env.gitDirty ? " (with uncommitted changes)" : ""}`;
  const nats = env.natsServerVersion ?? `not found${env.natsServerError ? `: ${env.natsServerError.split("\n")[0]}` : ""}`;

  const allMetrics = report.results.flatMap((r) => r.metrics.map((metric) => ({ metric, scenario: r.name })));
  const ratioItems = allMetrics.map((i) => ({ label: `${i.scenario} · ${i.metric.name}`, metric: i.metric }));

  const body: string[] = [];
  body.push(`<header>`);
  body.push(`<h1>Troupe benchmark report ${overall}</h1>`);
  body.push(
    `<p class="sub">${escapeXml(when)} · ${env.quick ? "quick run" : "full run"} · seed <strong class="seed">${env.seed}</strong> · ${(report.durationMs / 1000).toFixed(1)} s · repeat with <code>agentctl bench ${escapeXml(report.scenarios.join(" "))}${env.quick ? " --quick" : ""} --seed ${env.seed}</code></p>`,
  );
  body.push(`<dl class="env">`);
  const envRows: [string, string][] = [
    ["CPU", `${env.cpuModel} × ${env.cpuCount}`],
    ["memory", bytesToGiB(env.totalMemoryBytes)],
    ["load average", env.loadAverage.join(" / ")],
    ["platform", env.platform],
    ["Node.js", env.nodeVersion],
    ["nats-server", nats],
    ["git commit", commit],
    ["seed", String(env.seed)],
    ["mode", env.quick ? "quick (--quick)" : "full"],
  ];
  for (const [k, v] of envRows) body.push(`<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`);
  body.push(`</dl>`);
  body.push(
    `<p class="note">Every Troupe figure is measured next to a raw nats.js baseline doing the same work in the same process and run, against the same local nats-server; the ratio is normalised so that above 1× means Troupe did better (Troupe/raw for throughput, raw/Troupe for latency). Absolute numbers depend on the machine; the ratios are what to compare between runs.</p>`,
  );
  body.push(`</header>`);

  body.push(`<h2>Summary</h2>`);
  body.push(`<table class="scenarios"><thead><tr><th>scenario</th><th>status</th><th>what it shows</th></tr></thead><tbody>`);
  for (const r of report.results) {
    body.push(
      `<tr><td><a href="#scenario-${escapeXml(r.name)}"><code>${escapeXml(r.name)}</code></a></td><td>${r.ok ? '<span class="badge ok">ran</span>' : '<span class="badge fail">did not run</span>'}</td><td>${escapeXml(r.ok ? r.summary : (r.error ?? r.summary))}</td></tr>`,
    );
  }
  body.push(`</tbody></table>`);
  if (ratioItems.some((i) => i.metric.ratio !== undefined && Number.isFinite(i.metric.ratio))) {
    body.push(`<h3>Troupe relative to raw nats.js</h3>`);
    body.push(ratioChartSvg(ratioItems));
  }
  body.push(`<h3>Every metric</h3>`);
  body.push(allMetrics.length > 0 ? metricTable(allMetrics, true) : `<p class="note">No metrics were recorded.</p>`);

  for (const r of report.results) body.push(scenarioSection(r));

  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Troupe benchmark · ${escapeXml(when)} · seed ${env.seed}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body><main>",
    body.join("\n"),
    "</main></body>",
    "</html>",
    "",
  ].join("\n");
}
