// dashboard in quick mode: agentctl dashboard runs as a person would, the page
// in headless Chromium, agents are killed in a loop, and every restart reaches
// the page, in the event feed and in the agents table. The timing figures are
// reported, not asserted (a timed assertion on a shared machine is a flake):
// `agentctl bench dashboard` holds them to the goal. Needs Chromium: see
// runtime/testing/chromium.ts for the skip/require rules.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { browserFor } from "../../runtime/testing/chromium.js";
import { runBench } from "../runner.js";
import type { ScenarioResult } from "../scenario.js";
import { DashboardFigure, dashboardScenario } from "./dashboard.js";

const browser = browserFor("bench/scenarios/dashboard.int.test.ts", "the dashboard scenario");
const outDir = mkdtempSync(join(tmpdir(), "troupe-dashboard-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function figure(result: ScenarioResult, name: string): number {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m.troupe ?? NaN;
}

describe.skipIf(browser.skip)("dashboard, --quick", () => {
  it("shows every restart of a crash storm on the page, in the feed and in the table, and reports how soon", { timeout: 90_000 }, async () => {
    browser.require();
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const t0 = performance.now();
    const r = await runBench({ registry: [dashboardScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    const restarts = figure(result, DashboardFigure.Restarts);
    expect(restarts).toBeGreaterThan(0);
    expect(restarts).toBe(figure(result, DashboardFigure.Kills));
    expect(figure(result, DashboardFigure.FeedShown)).toBe(restarts);
    expect(figure(result, DashboardFigure.TableShown)).toBe(restarts);
    for (const name of [DashboardFigure.FeedP50, DashboardFigure.FeedP99, DashboardFigure.TableP50, DashboardFigure.TableP99]) {
      expect(figure(result, name), name).toBeGreaterThan(0);
    }
    expect(figure(result, DashboardFigure.FeedP99)).toBeGreaterThanOrEqual(figure(result, DashboardFigure.FeedP50));
    console.log(`dashboard --quick took ${((performance.now() - t0) / 1000).toFixed(1)} s:\n${result.metrics.map((m) => `  ${m.name}: ${m.troupe}`).join("\n")}`);
  });
});
