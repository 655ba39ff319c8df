// node-kill in quick mode: a node process is killed with SIGKILL under ask
// load; the survivors adopt its agents, no ask hangs, no agent and no
// acknowledged increment is lost.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../runner.js";
import type { ScenarioResult } from "../scenario.js";
import { NodeKillFigure, nodeKillScenario } from "./node-kill.js";

const outDir = mkdtempSync(join(tmpdir(), "troupe-node-kill-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function figure(result: ScenarioResult, name: string): number {
  const m = result.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`no figure "${name}" in ${result.metrics.map((x) => x.name).join(", ")}`);
  return m.troupe ?? NaN;
}

describe("node-kill, --quick", () => {
  it("moves the killed node's agents to the survivors without losing an agent or an acknowledged increment", { timeout: 90_000 }, async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const r = await runBench({ registry: [nodeKillScenario], quick: true, seed: 3, outDir, stdout: out, handleSignals: false });
    const result = r.results[0]!;
    expect(result.error, text).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(figure(result, NodeKillFigure.Hung)).toBe(0);
    expect(figure(result, NodeKillFigure.Lost)).toBe(0);
    expect(figure(result, NodeKillFigure.Phantom)).toBe(0);
    expect(figure(result, NodeKillFigure.Repeated)).toBe(0);
    expect(figure(result, NodeKillFigure.AgentsLost)).toBe(0);
    expect(figure(result, NodeKillFigure.Duplicates)).toBe(0);
    expect(figure(result, NodeKillFigure.AgentsMoved)).toBeGreaterThan(0);
    expect(figure(result, NodeKillFigure.Answered)).toBeGreaterThan(0);
    // Measured from the kill: the node's last heartbeat may predate the kill,
    // so this can be shorter than the lapse, but is bounded.
    const recovery = figure(result, NodeKillFigure.Recovery);
    expect(recovery).toBeGreaterThan(0);
    expect(recovery).toBeLessThan(20_000);
    // Measured from the node's last heartbeat: no sooner than its lapse (3 × 250 ms) allows.
    const sinceBeat = figure(result, NodeKillFigure.SinceLastHeartbeat);
    expect(sinceBeat).toBeGreaterThan(750);
    expect(sinceBeat).toBeGreaterThanOrEqual(recovery);
  });
});
