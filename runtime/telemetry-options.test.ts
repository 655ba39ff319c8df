// The `telemetry` option: defaults filled in once, and a bad field refused
// with InvalidConfigError naming it.

import { describe, expect, it } from "vitest";
import { InvalidConfigError } from "./errors.js";
import { DEFAULT_METRICS_INTERVAL_MS, sameTelemetry, validateTelemetry } from "./telemetry-options.js";
import { validateNodeOptions } from "./node-options.js";

describe("validateTelemetry", () => {
  it("is undefined when not given, and fills in defaults", () => {
    expect(validateTelemetry(undefined)).toBeUndefined();
    expect(validateTelemetry({ otlp: "http://localhost:4318/" })).toEqual({
      otlp: "http://localhost:4318",
      serviceName: "troupe",
      headers: {},
      metricsIntervalMs: DEFAULT_METRICS_INTERVAL_MS,
    });
  });

  it.each([
    [{ otlp: "localhost:4318" }, "telemetry.otlp"],
    [{ otlp: "not a url" }, "telemetry.otlp"],
    [{ otlp: "nats://localhost:4222" }, "telemetry.otlp"],
    [{ otlp: "http://localhost:4318?x=1" }, "telemetry.otlp"],
    [{}, "telemetry.otlp"],
    [{ otlp: "http://h:4318", serviceName: "" }, "telemetry.serviceName"],
    [{ otlp: "http://h:4318", headers: { "bad name": "x" } }, "telemetry.headers"],
    [{ otlp: "http://h:4318", headers: { key: "a\r\nb" } }, "telemetry.headers"],
    [{ otlp: "http://h:4318", metricsIntervalMs: 0 }, "telemetry.metricsIntervalMs"],
    [{ otlp: "http://h:4318", endpoint: "x" }, "telemetry.endpoint"],
    ["http://h:4318", "telemetry"],
  ])("refuses %j naming %s", (given, field) => {
    let err: unknown;
    try {
      validateTelemetry(given);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field).toBe(field);
  });

  it("is checked by startNode's option validation", () => {
    expect(() => validateNodeOptions({ telemetry: { otlp: "ftp://x" } })).toThrow(/invalid telemetry\.otlp: must be an http\(s\) URL/);
    expect(validateNodeOptions({ telemetry: { otlp: "https://collector.example:4318" } }).telemetry?.otlp).toBe("https://collector.example:4318");
  });

  it("compares settings, headers in any order", () => {
    const a = validateTelemetry({ otlp: "http://h:4318", headers: { a: "1", b: "2" } })!;
    const b = validateTelemetry({ otlp: "http://h:4318/", headers: { b: "2", a: "1" } })!;
    expect(sameTelemetry(a, b)).toBe(true);
    expect(sameTelemetry(a, { ...b, serviceName: "other" })).toBe(false);
  });
});
