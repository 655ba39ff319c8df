// cluster in quick mode: on a 3-server NATS cluster the state stream's leader
// server, a server leading nothing and a node process are killed one at a
// time under ask load. The report has its figures; the correctness counts
// (asks hung, acknowledged increments lost, agents running twice) are 0.
// Timing figures are reported, not asserted: the machine is shared.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { ScenarioResult } from "../scenario.js";
import { ClusterFigure, ClusterKill, clusterScenario } from "./cluster.js";
import { scenarios } from "./index.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-cluster-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function figure(result: ScenarioResult, name: string): number {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m.troupe ?? m.baseline ?? NaN;
}

describe("cluster, --quick", () => {
  it("is registered as `cluster`", () => {
    expect(scenarios.map((s) => s.name)).toContain("cluster");
  });

  it("survives server and node kills without a hung ask, a lost increment or an agent running twice", { timeout: 180_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [clusterScenario], quick: true, seed: 5, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);

    // Correctness: must be 0.
    const zero = [
      ClusterFigure.Hung,
      ClusterFigure.UntypedErrors,
      ClusterFigure.Lost,
      ClusterFigure.Phantom,
      ClusterFigure.Repeated,
      ClusterFigure.RunningTwice,
      ClusterFigure.AgentsLost,
    ];
    for (const name of zero) expect(figure(result, name), `${name}\n${text}`).toBe(0);

    // The report's shape: the load ran, and each kill and the raw election have a figure.
    expect(figure(result, ClusterFigure.Answered)).toBeGreaterThan(0);
    expect(figure(result, ClusterFigure.RawElection)).toBeGreaterThan(0);
    const goal = result.metrics.find((m) => m.name === ClusterFigure.AnsweredAgain)!;
    expect(goal.goal).toMatch(/raw election \+ 1000 ms/);
    expect(typeof goal.pass).toBe("boolean");
    for (const kind of Object.values(ClusterKill)) {
      expect(figure(result, ClusterFigure.Gap[kind]), kind).toBeGreaterThan(0);
      expect(figure(result, ClusterFigure.AgentGap[kind]), kind).toBeGreaterThanOrEqual(figure(result, ClusterFigure.Gap[kind]));
    }
    expect(result.series?.[0]?.events?.some((e) => e.label.includes("killed"))).toBe(true);
  });
});
