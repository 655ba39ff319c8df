// OpenTelemetry, through @opentelemetry/api only: a producer span per message
// sent and a consumer span per message handled (messaging semantic
// conventions, `messaging.system = nats`), with W3C trace context carried in
// the envelope's trace field. With no SDK registered this costs one branch.

import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";

const tracer = trace.getTracer("troupe");
let enabled = false;

/**
 * Turn tracing on when an OpenTelemetry SDK is registered (checked by asking
 * the global tracer for a span: the no-op tracer gives an invalid context).
 * `force` overrides the check.
 */
export function configureTracing(force?: boolean): boolean {
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

const setter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};
const getter: TextMapGetter<string> = {
  keys: () => ["traceparent"],
  get: (carrier, key) => (key === "traceparent" ? carrier : undefined),
};

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
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier, setter);
  span.end();
  return carrier.traceparent ?? null;
}

/**
 * Start a consumer span for a message handled by `agentId`, as a child of the
 * sender's span when the message carried one. Returns undefined when tracing is off.
 */
export function startConsumerSpan(agentId: string, subject: string, traceparent: string | null): { span: Span; ctx: Context } | undefined {
  if (!enabled) return undefined;
  const parent = traceparent ? propagation.extract(context.active(), traceparent, getter) : context.active();
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
  return { span, ctx: trace.setSpan(parent, span) };
}

/** End a consumer span, marking it failed when `error` is given. */
export function endConsumerSpan(s: { span: Span } | undefined, error?: unknown): void {
  if (!s) return;
  if (error !== undefined) {
    s.span.recordException(error instanceof Error ? error : String(error));
    s.span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  s.span.end();
}
