// OpenTelemetry: with an SDK registered, a message sent and handled makes a
// producer span and a consumer span in one trace (context carried in the
// envelope), and the node's agents are observed as metrics.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics, SpanKind, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { useNatsServer } from "./testing/server.js";
import { startNode, type TroupeNode } from "./node.js";
import { counter } from "../actors/builtins.js";

const nats = useNatsServer();
const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

describe("telemetry", () => {
  let node: TroupeNode;
  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: "otel", agents: [counter] });
  });
  afterAll(async () => {
    await node?.close();
  });

  it("links the producer span of an ask to the consumer span that handled it", async () => {
    const ref = await node.spawn("counter", { key: "c1" });
    spans.reset();
    expect(await ref.ask({ op: "inc" })).toBe(1);
    const finished = spans.getFinishedSpans();
    const producer = finished.find((s) => s.kind === SpanKind.PRODUCER && s.name === "send troupe.otel.agent.counter.c1");
    const consumer = finished.find((s) => s.kind === SpanKind.CONSUMER && s.name === "process counter/c1");
    expect(producer).toBeDefined();
    expect(consumer).toBeDefined();
    expect(consumer!.spanContext().traceId).toBe(producer!.spanContext().traceId);
    expect(consumer!.parentSpanContext?.spanId).toBe(producer!.spanContext().spanId);
    expect(producer!.attributes["messaging.system"]).toBe("nats");
    expect(consumer!.attributes["messaging.operation.type"]).toBe("process");
  });

  it("observes messages handled and mailbox depth by agent type", async () => {
    const ref = await node.spawn("counter", { key: "c2" });
    for (let i = 0; i < 3; i++) await ref.ask({ op: "inc" });
    await reader.forceFlush();
    const all = metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    const handled = all.filter((m) => m.descriptor.name === "troupe.messages.handled").at(-1);
    const point = handled?.dataPoints.find((p) => p.attributes["troupe.agent.type"] === "counter");
    expect(point?.value).toBeGreaterThanOrEqual(4);
    expect(all.some((m) => m.descriptor.name === "troupe.mailbox.depth")).toBe(true);
    expect(all.some((m) => m.descriptor.name === "troupe.message.duration")).toBe(true);
  });
});
