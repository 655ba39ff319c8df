// Traces and metrics out of the box: the official OpenTelemetry SDK set up for
// a node that asked for it (`startNode({ telemetry: { otlp } })`), exporting
// over OTLP/HTTP (JSON) to a collector. Loaded only by such a node (node.ts
// imports this module dynamically), so the runtime does not load the SDK
// otherwise.
//
// The SDK is registered globally (the runtime makes spans and metrics through
// @opentelemetry/api), so it is one per process:
// - nodes in one process with the same telemetry options share it; it is
//   flushed and shut down when the last of them closes. Its resource names the
//   node that started it (metrics carry `troupe.node` per point as well).
//   Other options refuse with InvalidConfigError: one process, one exporter;
// - a process that registered its own SDK keeps it: `telemetry` is refused with
//   InvalidConfigError (configure exporters on your SDK and leave `telemetry`
//   out: the node finds your SDK and makes spans and metrics through it).
// A collector that cannot be reached never hurts the node: failed exports are
// counted and reported once per outage (`trouble`), never thrown.

import { context, metrics, trace } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { AsyncLocalContextManager } from "./async-local-context-manager.js";
import type { Clock } from "./clock.js";
import { InvalidConfigError } from "./errors.js";
import { troupeVersion } from "./interop/agent-services.js";
import { configureTracing } from "./telemetry.js";
import { sameTelemetry, type ValidTelemetry } from "./telemetry-options.js";

/** How long closing waits for the last exports, ms; an unreachable collector does not hold up close longer. */
export const OTLP_SHUTDOWN_MS = 3000;

/** What an OTLP export has done so far. */
export interface OtlpExportStats {
  /** The collector's base URL. */
  otlp: string;
  /** Spans the collector accepted. */
  spansExported: number;
  /** Metric exports the collector accepted. */
  metricExports: number;
  /** Exports (of spans or metrics) that failed: collector down, refused, timed out. */
  failedExports: number;
  /** The last failure's message, if any. */
  lastError?: string;
}

/** One node's use of the process's OTLP export. */
export interface OtlpExport {
  stats(): OtlpExportStats;
  /** Stop using it; the last user flushes and shuts the SDK down (bounded by {@link OTLP_SHUTDOWN_MS}). Idempotent. */
  release(): Promise<void>;
}

/** Who starts or joins the export. */
export interface OtlpUser {
  nodeId: string;
  namespace: string;
  clock: Clock;
  /** Make spans (false: metrics only). */
  tracing: boolean;
  /** Told once when exports start failing (and again after they recovered and fail anew). */
  trouble(err: Error): void;
}

interface Installed {
  settings: ValidTelemetry;
  owner: string;
  /** By a token of each startOtlpExport call: a node id is unique only within its namespace. */
  users: Map<symbol, OtlpUser>;
  tracer: BasicTracerProvider;
  meter: MeterProvider;
  ownsContextManager: boolean;
  stats: OtlpExportStats;
  failing: boolean;
  /** What the users were told when the current outage began (told to a user that joins during it). */
  told?: Error;
}

let installed: Installed | undefined;

/**
 * Set up (or join) the process's OpenTelemetry SDK exporting to `settings.otlp`,
 * and turn tracing on.
 *
 * @throws InvalidConfigError (`telemetry`) when this process registered its own
 * SDK, or exports with other settings for another node
 */
export function startOtlpExport(settings: ValidTelemetry, user: OtlpUser): OtlpExport {
  if (installed) {
    if (!sameTelemetry(installed.settings, settings)) {
      throw new InvalidConfigError(
        "telemetry",
        `this process already exports telemetry to ${installed.settings.otlp} for node ${installed.owner} with other settings; ` +
          "nodes in one process share one OpenTelemetry SDK, so give them the same telemetry options",
      );
    }
  } else {
    installed = install(settings, user);
  }
  const shared = installed;
  const token = Symbol(user.nodeId);
  shared.users.set(token, user);
  // Joining during an outage: told now, as it would not be until the exports recover and fail anew.
  if (shared.failing && shared.told) tell(user, shared.told);
  configureTracing(user.tracing);
  let released = false;
  return {
    stats: () => ({ ...shared.stats }),
    release: async () => {
      if (released) return;
      released = true;
      shared.users.delete(token);
      if (shared.users.size > 0 || installed !== shared) return;
      installed = undefined;
      await uninstall(shared, user.clock);
    },
  };
}

function install(settings: ValidTelemetry, user: OtlpUser): Installed {
  const resource = defaultResource().merge(
    resourceFromAttributes({
      "service.name": settings.serviceName,
      "service.version": troupeVersion(),
      "service.instance.id": user.nodeId,
      "troupe.namespace": user.namespace,
      "troupe.node": user.nodeId,
    }),
  );
  const stats: OtlpExportStats = { otlp: settings.otlp, spansExported: 0, metricExports: 0, failedExports: 0 };
  const shared = { stats, failing: false } as Installed;
  const outcome = (result: ExportResult, ok: () => void): void => {
    if (result.code === ExportResultCode.SUCCESS) {
      ok();
      shared.failing = false;
      return;
    }
    stats.failedExports++;
    const err = result.error ?? new Error("export failed");
    stats.lastError = err.message;
    if (shared.failing) return;
    shared.failing = true;
    const told = new Error(`OTLP export to ${settings.otlp} failed (${err.message}); the node carries on and keeps trying`, { cause: err });
    shared.told = told;
    for (const u of shared.users.values()) tell(u, told);
  };
  const exporterOptions = { headers: settings.headers, timeoutMillis: 10_000 };
  const spans = new CountingSpanExporter(new OTLPTraceExporter({ ...exporterOptions, url: `${settings.otlp}/v1/traces` }), (r, n) =>
    outcome(r, () => (stats.spansExported += n)),
  );
  const metricExporter = new CountingMetricExporter(new OTLPMetricExporter({ ...exporterOptions, url: `${settings.otlp}/v1/metrics` }), (r) =>
    outcome(r, () => stats.metricExports++),
  );
  const tracer = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(spans, { scheduledDelayMillis: 1000 })] });
  const meter = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: settings.metricsIntervalMs, exportTimeoutMillis: Math.min(settings.metricsIntervalMs, 10_000) })],
  });
  if (!trace.setGlobalTracerProvider(tracer)) {
    void shutdownBoth(tracer, meter);
    throw ownSdk();
  }
  if (!metrics.setGlobalMeterProvider(meter)) {
    trace.disable();
    void shutdownBoth(tracer, meter);
    throw ownSdk();
  }
  // The user's context manager, if any, is kept; else ours carries the active span across awaits.
  const ownsContextManager = context.setGlobalContextManager(new AsyncLocalContextManager());
  return Object.assign(shared, { settings, owner: user.nodeId, users: new Map(), tracer, meter, ownsContextManager });
}

/** Tell one user of an outage; a listener's failure is not the exporter's. */
function tell(user: OtlpUser, err: Error): void {
  try {
    user.trouble(err);
  } catch {
    // a listener's failure is not the exporter's
  }
}

function ownSdk(): InvalidConfigError {
  return new InvalidConfigError(
    "telemetry",
    "this process has its own OpenTelemetry SDK registered; leave telemetry out (the node makes its spans and metrics through your SDK) and configure its exporters instead",
  );
}

async function uninstall(shared: Installed, clock: Clock): Promise<void> {
  // Unregister first, so nothing new is made for an SDK that is shutting down.
  trace.disable();
  metrics.disable();
  if (shared.ownsContextManager) context.disable();
  configureTracing();
  await shutdownBoth(shared.tracer, shared.meter, clock);
}

/** Flush and shut down, waiting at most OTLP_SHUTDOWN_MS (when a clock is given); never rejects. */
async function shutdownBoth(tracer: BasicTracerProvider, meter: MeterProvider, clock?: Clock): Promise<void> {
  const done = Promise.allSettled([tracer.shutdown(), meter.shutdown()]).then(() => undefined);
  if (!clock) return done;
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  const bound = new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, OTLP_SHUTDOWN_MS)));
  await Promise.race([done, bound]);
  if (timer !== undefined) clock.clearTimeout(timer);
}

/** A span exporter that reports each export's outcome. */
class CountingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly report: (result: ExportResult, spans: number) => void,
  ) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.report(result, spans.length);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** A metric exporter that reports each export's outcome, keeping the inner one's temporality and aggregation. */
class CountingMetricExporter implements PushMetricExporter {
  readonly selectAggregationTemporality: PushMetricExporter["selectAggregationTemporality"];
  readonly selectAggregation: PushMetricExporter["selectAggregation"];
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly report: (result: ExportResult) => void,
  ) {
    this.selectAggregationTemporality = inner.selectAggregationTemporality?.bind(inner);
    this.selectAggregation = inner.selectAggregation?.bind(inner);
  }
  export(batch: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.inner.export(batch, (result) => {
      this.report(result);
      done(result);
    });
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
