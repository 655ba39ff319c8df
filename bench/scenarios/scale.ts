// The `scale` scenario: one node activating 1,000, 10,000 and 100,000 agents
// (1,000 and 2,000 with --quick), spawned and on demand, beside raw nats.js
// doing the wire work of as many activations (a subscription and a KV create
// each) at the same concurrency on the same fresh server. Each run is a child
// process of its own, so its heap per agent (after full collections) is what
// the agents cost. Reported per size: activations/s, heap per idle agent,
// close time; on demand also passivation and reactivation once the runtime
// passivates idle agents. The goals are the scale issue's.

import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { runScaleChild, type ScaleChildRun, type ScaleLine } from "../scale/scale-child.js";
import { formatNumber, opsPerSecond } from "../stats.js";

/** What one node should reach at the largest size. */
export const SCALE_GOALS = {
  /** Activations/s at the largest size over the rate at the smallest. */
  flatRatio: 0.8,
  /** Activations/s at the largest size. */
  minRate: 5_000,
  /** Heap per idle agent, bytes. */
  maxHeapBytes: 2_048,
  /** node.close(), ms. */
  maxCloseMs: 5_000,
} as const;

/** How agents are brought to life in a run. */
export const Way = { Spawned: "spawned", OnDemand: "on demand" } as const;
export type Way = (typeof Way)[keyof typeof Way];

/** The names of the figures this scenario reports (for tests and readers of the JSON). */
export const ScaleFigure = {
  activations: (size: number, way: Way) => `activations/s at ${formatNumber(size)}, ${way}`,
  heap: (size: number, way: Way) => `heap per idle agent at ${formatNumber(size)}, ${way}`,
  close: (size: number, way: Way) => `close with ${formatNumber(size)} agents, ${way}`,
  flat: (large: number, small: number, way: Way) => `activation rate at ${formatNumber(large)} over rate at ${formatNumber(small)}, ${way}`,
  passivations: (size: number) => `passivations/s at ${formatNumber(size)}`,
  passivationLag: (size: number) => `passivation lag after the last idle timeout at ${formatNumber(size)}`,
  passivatedHeap: (size: number) => `heap per passivated agent at ${formatNumber(size)}`,
  reactivations: (size: number) => `reactivations/s at ${formatNumber(size)}`,
} as const;

/** Sizes and limits of a run. */
export interface ScaleSettings {
  sizes: number[];
  /** Activations in flight at once, on both sides. */
  concurrency: number;
  /** Longest one activation run may take inside a child; what was activated by then is measured. */
  capMs: number;
  /** Measure passivation and reactivation at every size, or only at the largest (it waits out an idle timeout). */
  passivateAt: "every size" | "largest size";
}

const FULL: ScaleSettings = { sizes: [1_000, 10_000, 100_000], concurrency: 64, capMs: 90_000, passivateAt: "every size" };
const QUICK: ScaleSettings = { sizes: [1_000, 2_000], concurrency: 64, capMs: 20_000, passivateAt: "largest size" };

/** What one child run measured. */
interface Measured {
  n: number;
  done?: number;
  rate?: number;
  bytesPerAgent?: number;
  closeMs?: number;
  unsupported?: string;
  passivation?: { n: number; idleMs: number; windowMs: number; lagMs: number; pollMs: number };
  passivationUnsupported?: string;
  passivatedBytes?: number;
  reactivationRate?: number;
  /** Why a figure is missing: the child failed or was killed. */
  problems: string[];
}

const num = (line: ScaleLine | undefined, field: string): number | undefined => {
  const v = line?.[field];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
};

function measured(n: number, run: ScaleChildRun, what: string): Measured {
  const at = (phase: string) => run.lines.find((l) => l.phase === phase);
  const m: Measured = { n, problems: [] };
  const rate = (line: ScaleLine | undefined): number | undefined => {
    const done = num(line, "done");
    const ms = num(line, "ms");
    return done !== undefined && ms !== undefined && done > 0 ? opsPerSecond(done, ms) : undefined;
  };
  const activated = at("activated");
  m.done = num(activated, "done");
  m.rate = rate(activated);
  if (m.done !== undefined && m.done < n) m.problems.push(`${what}: only ${formatNumber(m.done)} of ${formatNumber(n)} activated within the cap; figures are over those`);
  m.bytesPerAgent = num(at("heap"), "bytesPerAgent");
  m.closeMs = num(at("closed"), "ms");
  const unsupported = at("unsupported");
  if (unsupported) m.unsupported = String(unsupported.reason);
  const passivated = at("passivated");
  if (passivated) {
    m.passivation = {
      n: num(passivated, "n") ?? 0,
      idleMs: num(passivated, "idleMs") ?? 0,
      windowMs: num(passivated, "windowMs") ?? 0,
      lagMs: num(passivated, "lagMs") ?? 0,
      pollMs: num(passivated, "pollMs") ?? 0,
    };
  }
  const passivationUnsupported = at("passivation-unsupported");
  if (passivationUnsupported) m.passivationUnsupported = String(passivationUnsupported.reason);
  m.passivatedBytes = num(at("passivated-heap"), "bytesPerAgent");
  m.reactivationRate = rate(at("reactivated"));
  const error = at("error");
  if (error) m.problems.push(`${what}: ${String(error.error)}`);
  if (run.killed) m.problems.push(`${what}: killed, ${run.killed}${m.closeMs === undefined && m.rate !== undefined ? " (during the close)" : ""}`);
  if (!at("done") && !error && !run.killed) m.problems.push(`${what}: ended without finishing${run.stderr ? `: ${run.stderr.split("\n").slice(-3).join(" / ")}` : ""}`);
  return m;
}

/** A Troupe figure beside its baseline; a side that was not measured is left out (no NaN in the report). */
function figure(name: string, unit: string, better: "higher" | "lower", troupe: number | undefined, baseline: number | undefined): Metric {
  if (troupe !== undefined && baseline !== undefined) return compare({ name, unit, better, troupe, baseline });
  return { name, unit, better, troupe, baseline };
}

/** A metric with an absolute goal on the Troupe figure. */
function withGoal(m: Metric, goal: string, pass: boolean | undefined): Metric {
  return { ...m, goal, pass: pass ?? false };
}

/**
 * The scale scenario with its own sizes (the registered one uses 1k/10k/100k,
 * or 1k/2k with --quick).
 */
export function scaleScenarioWith(settings: { full?: Partial<ScaleSettings>; quick?: Partial<ScaleSettings> } = {}): Scenario {
  return {
    name: "scale",
    title: "Many agents on one node",
    description:
      "One node activating 1,000, 10,000 and 100,000 agents, spawned and on demand, each run in a process of its own, beside raw nats.js doing one subscription and one KV create per agent at the same concurrency: activations/s, heap per idle agent (after full garbage collections), close time, and for on-demand agents passivation and reactivation.",
    run: (ctx) => runScale(ctx, { ...(ctx.quick ? QUICK : FULL), ...(ctx.quick ? settings.quick : settings.full) }),
  };
}

/** The registered scale scenario. */
export const scaleScenario: Scenario = scaleScenarioWith();

async function runScale(ctx: ScenarioContext, s: ScaleSettings): Promise<ScenarioResult> {
  const summary = "Whether activating, holding and closing agents on one node costs the same per agent at 100,000 as at 1,000, and what it costs next to raw nats.js.";
  const sizes = [...s.sizes].sort((a, b) => a - b);
  const steps = sizes.length * 3;
  let step = 0;
  const results = new Map<number, { raw: Measured; spawned: Measured; onDemand: Measured }>();
  const notes: string[] = [];
  try {
    for (const size of sizes) {
      // A fresh server per size: what earlier sizes left in JetStream does not weigh on later ones.
      const server = await ctx.startServer();
      const child = async (mode: "raw" | "spawned" | "on-demand", what: string): Promise<Measured> => {
        ctx.progress(step++ / steps, `${formatNumber(size)} agents, ${what}`);
        const run = await runScaleChild({
          servers: server.url,
          mode,
          n: size,
          concurrency: s.concurrency,
          capMs: s.capMs,
          idle: mode === "on-demand" && (s.passivateAt === "every size" || size === sizes[sizes.length - 1]),
          timeoutMs: 5 * s.capMs + 60_000,
          signal: ctx.signal,
        });
        const m = measured(size, run, `${what} at ${formatNumber(size)}`);
        ctx.log(
          `${formatNumber(size)} ${what}: ${m.unsupported ? `skipped (${m.unsupported})` : `${formatNumber(m.rate)}/s, ${formatNumber(m.bytesPerAgent)} B/agent, close ${formatNumber(m.closeMs)} ms`}` +
            (m.passivation ? `; passivation lag ${formatNumber(m.passivation.lagMs)} ms, reactivation ${formatNumber(m.reactivationRate)}/s` : "") +
            (m.problems.length ? `; ${m.problems.join("; ")}` : ""),
        );
        if (ctx.signal.aborted) throw ctx.signal.reason;
        return m;
      };
      const raw = await child("raw", "raw nats.js");
      const spawned = await child("spawned", "spawned");
      const onDemand = await child("on-demand", "on demand");
      results.set(size, { raw, spawned, onDemand });
      await server.dispose();
    }
  } catch (err) {
    return { name: "scale", ok: false, summary, metrics: [], error: errorText(err) };
  }
  ctx.progress(1, "done");

  const metrics: Metric[] = [];
  const small = sizes[0]!;
  const large = sizes[sizes.length - 1]!;
  for (const way of [Way.Spawned, Way.OnDemand]) {
    const pick = (size: number) => (way === Way.Spawned ? results.get(size)!.spawned : results.get(size)!.onDemand);
    const skipped = results.get(small)!.onDemand.unsupported;
    if (way === Way.OnDemand && skipped) {
      notes.push(`On-demand activation skipped: ${skipped}.`);
      continue;
    }
    for (const size of sizes) {
      const { raw } = results.get(size)!;
      const m = pick(size);
      notes.push(...m.problems);
      if (m.unsupported) continue;
      const top = size === large;
      const activations = figure(ScaleFigure.activations(size, way), "agents/s", "higher", m.rate, raw.rate);
      metrics.push(top ? withGoal(activations, `≥ ${formatNumber(SCALE_GOALS.minRate)}/s`, m.rate !== undefined && m.rate >= SCALE_GOALS.minRate) : activations);
      const heap = figure(ScaleFigure.heap(size, way), "B", "lower", m.bytesPerAgent, raw.bytesPerAgent);
      metrics.push(top ? withGoal(heap, `≤ ${formatNumber(SCALE_GOALS.maxHeapBytes)} B`, m.bytesPerAgent !== undefined && m.bytesPerAgent <= SCALE_GOALS.maxHeapBytes) : heap);
      const close = figure(ScaleFigure.close(size, way), "ms", "lower", m.closeMs, raw.closeMs);
      metrics.push(top ? withGoal(close, `< ${formatNumber(SCALE_GOALS.maxCloseMs)} ms`, m.closeMs !== undefined && m.closeMs < SCALE_GOALS.maxCloseMs) : close);
    }
    const rateSmall = pick(small).rate;
    const rateLarge = pick(large).rate;
    if (large > small && rateSmall !== undefined && rateLarge !== undefined) {
      const ratio = rateLarge / rateSmall;
      metrics.push({ name: ScaleFigure.flat(large, small, way), unit: "x", better: "higher", troupe: ratio, goal: `≥ ${SCALE_GOALS.flatRatio.toFixed(2)}`, pass: ratio >= SCALE_GOALS.flatRatio });
    }
  }

  let passivationNoted = false;
  for (const size of sizes) {
    const { raw, onDemand: m } = results.get(size)!;
    if (m.unsupported) break;
    if (m.passivationUnsupported) {
      if (!passivationNoted) notes.push(`Passivation and reactivation not measured: ${m.passivationUnsupported}.`);
      passivationNoted = true;
      continue;
    }
    if (!m.passivation) continue;
    const p = m.passivation;
    metrics.push({ name: ScaleFigure.passivations(size), unit: "agents/s", better: "higher", troupe: opsPerSecond(p.n, Math.max(p.windowMs, p.pollMs)) });
    metrics.push({ name: ScaleFigure.passivationLag(size), unit: "ms", better: "lower", troupe: Math.max(0, p.lagMs) });
    if (m.passivatedBytes !== undefined) metrics.push({ name: ScaleFigure.passivatedHeap(size), unit: "B", better: "lower", troupe: m.passivatedBytes });
    if (m.reactivationRate !== undefined) {
      metrics.push(figure(ScaleFigure.reactivations(size), "agents/s", "higher", m.reactivationRate, raw.rate));
    }
  }

  notes.push(
    `Sizes ${sizes.map(formatNumber).join(", ")}; ${s.concurrency} activations in flight at once on both sides; each run (raw, spawned, on demand) in a child process of its own against a fresh nats-server per size, after ${formatNumber(200)} unmeasured activations; an activation run is cut at ${formatNumber(s.capMs / 1000)} s.`,
    "Raw nats.js: per agent one subscription (a callback that drops what it gets) on its own subject and one KV create of its key in a bucket with nats.js defaults, awaited; closing drops every subscription and deletes every key, then drains the connection. Troupe spawned: node.spawn per key of a non-persisted agent; on demand: a first ask to node.ref(type, key) of a non-persisted agent defined with activation \"on-demand\", answered after it activates. Troupe's node.close() releases every registry claim, as the raw close deletes every key.",
    "Heap per idle agent: the heap in use after full garbage collections with the agents running and idle, minus the same before they were activated, over their number (the raw figure is per subscription and KV entry).",
    "Passivation: a second on-demand node whose type has an idle timeout of twice the time activating took (at least 1 s), so every agent is activated before any falls idle. Their timers fall due as fast as they were activated, so the passivation rate (agents over the time from the first timer due until all are gone) cannot exceed that; the lag is how long after the last timer fell due the last agent was gone. Heap per passivated agent is measured after all are gone (0 is the goal: a passivated agent costs nothing). Reactivation asks each one again; its baseline is the raw activation rate.",
    `Goals at the largest size (the scale issue's): activations/s ≥ ${formatNumber(SCALE_GOALS.minRate)} and ≥ ${SCALE_GOALS.flatRatio}x the rate at the smallest size; heap per idle agent ≤ ${formatNumber(SCALE_GOALS.maxHeapBytes)} B; close < ${formatNumber(SCALE_GOALS.maxCloseMs)} ms.`,
  );
  return { name: "scale", ok: true, summary, metrics, notes };
}
