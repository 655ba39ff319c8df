// The process's one OpenTelemetry SDK and its users: a node id is unique only
// within its namespace, so two nodes named n1 (namespaces shop and billing) in
// one process are two users; the SDK stays until the last of them releases it.

import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { systemClock } from "./clock.js";
import { startOtlpExport, type OtlpUser } from "./otlp-export.js";
import { validateTelemetry } from "./telemetry-options.js";

/** A collector nobody listens on: the last metric export on shutdown fails at once. */
const settings = validateTelemetry({ otlp: "http://127.0.0.1:9" })!;
const user = (namespace: string): OtlpUser => ({ nodeId: "n1", namespace, clock: systemClock, tracing: true, trouble: () => {} });

/** Whether spans are made by an SDK (a noop span records nothing). */
const sdkInstalled = (): boolean => trace.getTracer("probe").startSpan("probe").isRecording();

describe("startOtlpExport", () => {
  it("keeps the SDK for node n1 of billing when node n1 of shop releases it", async () => {
    const shop = startOtlpExport(settings, user("shop"));
    const billing = startOtlpExport(settings, user("billing"));
    expect(sdkInstalled()).toBe(true);
    await shop.release();
    expect(sdkInstalled()).toBe(true);
    await billing.release();
    expect(sdkInstalled()).toBe(false);
  });
});
