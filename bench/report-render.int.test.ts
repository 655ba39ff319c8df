// Loads the HTML report in a real headless Chromium, as a person opening it
// would: the charts and metric rows must be in the rendered DOM, and a
// screenshot must come out. Needs Chromium (Debian's `chromium`, or CHROMIUM_BIN).
// Without one the file is skipped with a message saying so, unless
// TROUPE_REQUIRE_BROWSER=1 (CI sets it), which makes a missing browser a
// failure; TROUPE_SKIP_BROWSER=1 skips it even when a browser is present.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserFor } from "../runtime/testing/chromium.js";
import { renderHtmlReport } from "./report-html.js";
import { sampleReport } from "./sample-report.js";

const browser = browserFor("bench/report-render.int.test.ts", "the HTML report check in a browser");

function chromium(bin: string, args: string[], userDataDir: string): Promise<string> {
  const base = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    // The report must need no network: make every host name unresolvable.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    `--user-data-dir=${userDataDir}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(bin, [...base, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

describe.skipIf(browser.skip)("the HTML report in headless Chromium", () => {
  const report = sampleReport();
  let bin: string;
  let dir: string;
  let url: string;

  beforeAll(() => {
    bin = browser.require();
    dir = mkdtempSync(join(tmpdir(), "troupe-report-"));
    const file = join(dir, "report.html");
    writeFileSync(file, renderHtmlReport(report));
    url = pathToFileURL(file).href;
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("renders the charts and one row per metric", { timeout: 90_000 }, async () => {
    const dom = await chromium(bin, ["--dump-dom", url], join(dir, "profile-dom"));
    expect(dom).toContain("Troupe benchmark report");
    expect(dom.match(/<svg class="chart line-chart"/g)).toHaveLength(1);
    expect(dom.match(/<svg class="chart latency-chart"/g)).toHaveLength(2);
    expect(dom.match(/<svg class="chart ratio-chart"/g)).toHaveLength(1);
    expect(dom.match(/class="event-line"/g)).toHaveLength(3);
    expect(dom).toMatch(/<polyline class="series-line" points="[\d. ,]+"/);
    const metricCount = report.results.reduce((n, r) => n + r.metrics.length, 0);
    // Every metric appears in the overall table and in its scenario's table.
    expect(dom.match(/<tr class="metric[ "]/g)).toHaveLength(metricCount * 2);
    for (const r of report.results) for (const m of r.metrics) expect(dom).toContain(m.name);
  });

  it("takes a full-page screenshot", { timeout: 90_000 }, async () => {
    const png = join(dir, "report.png");
    await chromium(bin, [`--screenshot=${png}`, "--window-size=1280,2000", "--hide-scrollbars", url], join(dir, "profile-shot"));
    expect(statSync(png).size).toBeGreaterThan(20_000);
    const head = readFileSync(png).subarray(0, 24);
    expect(head.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(head.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(head.readUInt32BE(20)).toBe(2000); // IHDR height
    if (process.env.TROUPE_KEEP_SCREENSHOT) writeFileSync(process.env.TROUPE_KEEP_SCREENSHOT, readFileSync(png));
  });
});
