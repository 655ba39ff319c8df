// OpenTelemetry, through @opentelemetry/api only: a producer span per message
// sent and a consumer span per message handled (messaging semantic
// conventions, `messaging.system = nats`), with W3C trace context carried in
// the envelope's trace field (W3C traceparent format, written and read here,
// so no global propagator is needed). With no SDK registered this costs one branch.

import {
  metrics,
  context,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Histogram,
  type BatchObservableResult,
} from "@opentelemetry/api";

// Taken again by configureTracing: a tracer handed out by one SDK keeps using it
// after that SDK is shut down (an OTLP export of a closed node).
let tracer = trace.getTracer("troupe");
let handlingDuration: Histogram | undefined;
let enabled = false;

/**
 * Turn tracing on when an OpenTelemetry SDK is registered (checked by asking
 * the global tracer for a span: the no-op tracer gives an invalid context).
 * `force` overrides the check.
 */
export function configureTracing(force?: boolean): boolean {
  tracer = trace.getTracer("troupe");
  handlingDuration = metrics.getMeter("troupe").createHistogram("troupe.message.duration", {
    description: "Time an agent took to handle a message (recorded while tracing is on)",
    unit: "ms",
  });
  if (force !== undefined) {
    enabled = force;
    return enabled;
  }
  const probe = trace.getTracer("troupe").startSpan("troupe.probe");
  enabled = isSpanContextValid(probe.spanContext());
  return enabled;
}

/** Whether spans are being made. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Format a span's context as a W3C traceparent header value. */
function traceparentOf(span: Span): string {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote parent context a W3C traceparent names, or the active context when it is malformed. */
function contextFrom(traceparent: string): Context {
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return context.active();
  const sc = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
  return isSpanContextValid(sc) ? trace.setSpanContext(context.active(), sc) : context.active();
}

/**
 * For a message about to be sent to `subject`: record a producer span and
 * return the traceparent to carry, or null when tracing is off.
 */
export function injectTrace(subject: string): string | null {
  if (!enabled) return null;
  const span = tracer.startSpan(`send ${subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      "messaging.system": "nats",
      "messaging.operation.type": "send",
      "messaging.destination.name": subject,
    },
  });
  const traceparent = traceparentOf(span);
  span.end();
  return traceparent;
}

/**
 * Start a consumer span for a message handled by `agentId`, as a child of the
 * sender's span when the message carried one. Returns undefined when tracing is off.
 */
export function startConsumerSpan(
  agentId: string,
  subject: string,
  traceparent: string | null,
): { span: Span; ctx: Context; started: number; agentType: string } | undefined {
  if (!enabled) return undefined;
  const parent = traceparent ? contextFrom(traceparent) : context.active();
  const span = tracer.startSpan(
    `process ${agentId}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": subject,
      },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span), started: performance.now(), agentType: agentId.slice(0, agentId.indexOf("/")) };
}

/** Run `fn` with the consumer span active, so what it sends becomes part of the same trace. */
export function withSpan<T>(s: { ctx: Context }, fn: () => T): T {
  return context.with(s.ctx, fn);
}

/** End a consumer span, marking it failed when `error` is given. */
export function endConsumerSpan(s: { span: Span; started: number; agentType: string } | undefined, error?: unknown): void {
  if (!s) return;
  handlingDuration?.record(performance.now() - s.started, { "troupe.agent.type": s.agentType, "error": error !== undefined });
  if (error !== undefined) {
    s.span.recordException(error instanceof Error ? error : String(error));
    s.span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  s.span.end();
}

/** Per-agent counters a node exposes as OpenTelemetry metrics. */
export interface MetricSource {
  type: string;
  handled: number;
  failures: number;
  rejected: number;
  restarts: number;
  mailbox: number;
}

/**
 * Observe a node's agents as metrics (read at collection time, so they cost
 * nothing per message): messages handled, failed and rejected, restarts, and
 * mailbox depth, by agent type. Returns a function that stops observing.
 */
export function observeNode(nodeId: string, agents: () => Iterable<MetricSource>): () => void {
  const meter = metrics.getMeter("troupe");
  const handled = meter.createObservableCounter("troupe.messages.handled", { description: "Messages handled by agents" });
  const failed = meter.createObservableCounter("troupe.messages.failed", { description: "Messages whose handling failed" });
  const rejected = meter.createObservableCounter("troupe.messages.rejected", { description: "Messages rejected before handling (bad input, full mailbox)" });
  const restarts = meter.createObservableCounter("troupe.agent.restarts", { description: "Agent restarts by their supervisors" });
  const depth = meter.createObservableGauge("troupe.mailbox.depth", { description: "Messages waiting in agents' mailboxes" });
  const callback = (result: BatchObservableResult): void => {
    const sums = new Map<string, MetricSource>();
    for (const a of agents()) {
      const t = sums.get(a.type) ?? { type: a.type, handled: 0, failures: 0, rejected: 0, restarts: 0, mailbox: 0 };
      t.handled += a.handled;
      t.failures += a.failures;
      t.rejected += a.rejected;
      t.restarts += a.restarts;
      t.mailbox += a.mailbox;
      sums.set(a.type, t);
    }
    for (const t of sums.values()) {
      const attrs = { "troupe.node": nodeId, "troupe.agent.type": t.type };
      result.observe(handled, t.handled, attrs);
      result.observe(failed, t.failures, attrs);
      result.observe(rejected, t.rejected, attrs);
      result.observe(restarts, t.restarts, attrs);
      result.observe(depth, t.mailbox, attrs);
    }
  };
  const observables = [handled, failed, rejected, restarts, depth];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
