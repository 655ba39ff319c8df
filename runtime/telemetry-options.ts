// A node's `telemetry` option: where to export traces and metrics over
// OTLP/HTTP. Plain data, validated once; a bad field fails with
// InvalidConfigError naming it (`telemetry.otlp`, ...).

import { InvalidConfigError } from "./errors.js";

/** Options of `startNode({ telemetry })`: export traces and metrics over OTLP/HTTP with the OpenTelemetry SDK. */
export interface TelemetryOptions {
  /**
   * The collector's OTLP/HTTP base URL, e.g. `http://localhost:4318`: traces go
   * to `<otlp>/v1/traces`, metrics to `<otlp>/v1/metrics` (JSON encoding).
   */
  otlp: string;
  /** `service.name` on the resource. Default `troupe`. */
  serviceName?: string;
  /** HTTP headers sent with every export (an API key, ...). */
  headers?: Record<string, string>;
  /** How often metrics are exported, ms. Default 10 000. */
  metricsIntervalMs?: number;
}

/** TelemetryOptions with every default filled in. */
export interface ValidTelemetry {
  /** The base URL, without a trailing slash. */
  otlp: string;
  serviceName: string;
  headers: Record<string, string>;
  metricsIntervalMs: number;
}

/** The default metrics export interval, ms. */
export const DEFAULT_METRICS_INTERVAL_MS = 10_000;

const KNOWN = ["otlp", "serviceName", "headers", "metricsIntervalMs"];

/** Check `telemetry` and fill in defaults; undefined when not given. */
export function validateTelemetry(given: unknown): ValidTelemetry | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new InvalidConfigError("telemetry", `must be an object like { otlp: "http://localhost:4318" }, got ${JSON.stringify(given)}`);
  }
  const t = given as Record<string, unknown>;
  const stray = Object.keys(t).find((k) => !KNOWN.includes(k));
  if (stray !== undefined) throw new InvalidConfigError(`telemetry.${stray}`, `unknown field (known: ${KNOWN.join(", ")})`);
  return {
    otlp: otlpUrl(t.otlp),
    serviceName: serviceName(t.serviceName),
    headers: headers(t.headers),
    metricsIntervalMs: interval(t.metricsIntervalMs),
  };
}

function otlpUrl(value: unknown): string {
  const hint = `must be an http(s) URL of an OTLP/HTTP collector such as "http://localhost:4318", got ${JSON.stringify(value)}`;
  if (typeof value !== "string") throw new InvalidConfigError("telemetry.otlp", hint);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidConfigError("telemetry.otlp", hint);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "" || url.search !== "" || url.hash !== "") {
    throw new InvalidConfigError("telemetry.otlp", hint);
  }
  return url.href.replace(/\/+$/, "");
}

function serviceName(value: unknown): string {
  if (value === undefined) return "troupe";
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidConfigError("telemetry.serviceName", `must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function headers(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidConfigError("telemetry.headers", `must be an object of header names to string values, got ${JSON.stringify(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new InvalidConfigError("telemetry.headers", `${JSON.stringify(name)} is not a valid header name`);
    if (typeof v !== "string" || /[\r\n]/.test(v)) throw new InvalidConfigError(`telemetry.headers`, `the value of ${name} must be a one-line string`);
    out[name] = v;
  }
  return out;
}

function interval(value: unknown): number {
  if (value === undefined) return DEFAULT_METRICS_INTERVAL_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 100) {
    throw new InvalidConfigError("telemetry.metricsIntervalMs", `must be a number of milliseconds, at least 100, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Whether two validated settings export to the same place in the same way. */
export function sameTelemetry(a: ValidTelemetry, b: ValidTelemetry): boolean {
  return (
    a.otlp === b.otlp &&
    a.serviceName === b.serviceName &&
    a.metricsIntervalMs === b.metricsIntervalMs &&
    JSON.stringify(Object.entries(a.headers).sort()) === JSON.stringify(Object.entries(b.headers).sort())
  );
}
