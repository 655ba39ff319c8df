// server-restart in quick mode: the nats-server is killed and restarted under
// ask load; no ask hangs, no acknowledged increment is lost, every counter
// serves again, and node B's cache and watch see node A's writes afterwards.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { Metric, ScenarioResult } from "../scenario.js";
import { ServerRestartFigure, serverRestartScenario } from "./server-restart.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-server-restart-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function metric(result: ScenarioResult, name: string): Metric {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m;
}

const figure = (result: ScenarioResult, name: string): number => metric(result, name).troupe ?? NaN;

describe("server-restart, --quick", () => {
  it("answers or fails every ask through a server kill, loses no acknowledged increment and comes back coherent", { timeout: 90_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [serverRestartScenario], quick: true, seed: 1, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);

    expect(figure(result, ServerRestartFigure.Hung)).toBe(0);
    expect(figure(result, ServerRestartFigure.UntypedErrors)).toBe(0);
    expect(figure(result, ServerRestartFigure.Lost)).toBe(0);
    expect(figure(result, ServerRestartFigure.Phantom)).toBe(0);
    // Every counter serves again: a state commit caught by the crash is retried
    // with its message id, so it never fences its own agent.
    expect(figure(result, ServerRestartFigure.Serving)).toBe(8);
    expect(figure(result, ServerRestartFigure.Fenced)).toBe(0);
    expect(figure(result, ServerRestartFigure.StaleReads)).toBe(0);
    expect(figure(result, ServerRestartFigure.WatchMissed)).toBe(0);

    const sent = figure(result, ServerRestartFigure.Sent);
    const answered = figure(result, ServerRestartFigure.Answered);
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(sent);
    // Nothing is answered while the server is down (1 s), on either side.
    const outage = metric(result, ServerRestartFigure.Outage);
    expect(outage.troupe).toBeGreaterThanOrEqual(1_000);
    expect(outage.baseline).toBeGreaterThanOrEqual(1_000);
    expect(Number.isFinite(outage.ratio)).toBe(true);
    expect(figure(result, ServerRestartFigure.RateBefore)).toBeGreaterThan(0);
    expect(figure(result, ServerRestartFigure.SeenAfterP50)).toBeGreaterThan(0);

    // The throughput line shows the kill and the restart.
    const labels = result.series?.[0]?.events?.map((e) => e.label) ?? [];
    expect(labels).toEqual(expect.arrayContaining(["server killed", "server up", "first answer"]));
  });
});
