// Test support: an OTLP/HTTP collector in the test process. It accepts POST
// /v1/traces and /v1/metrics (JSON, gzip or not), decodes the exports and
// keeps their spans and metric points, and lets a test await what it expects.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";


export type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
export type KeyValue = { key: string; value: AnyValue };
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: KeyValue[];
  resource: KeyValue[];
}
export interface OtlpPoint {
  metric: string;
  attributes: KeyValue[];
  value: number;
  resource: KeyValue[];
}

export const SPAN_KIND_PRODUCER = 4;
export const SPAN_KIND_CONSUMER = 5;

/** An attribute's value by key (int values as numbers). */
export function attr(list: KeyValue[] | undefined, key: string): string | number | boolean | undefined {
  const v = list?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
}

/** A collector on a random loopback port: `url` is its OTLP base URL. */
export class OtlpCollector {
  readonly spans: OtlpSpan[] = [];
  readonly points: OtlpPoint[] = [];
  readonly contentTypes = new Set<string>();
  private waiters = new Set<() => void>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    const c = new OtlpCollector(server);
    server.on("request", (req, res) => void c.receive(req, res.writeHead(200, { "content-type": "application/json" })).finally(() => res.end("{}")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with `check()` once it is truthy, re-checked on each export received. */
  until<T>(check: () => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`collector: timed out waiting for ${what}`));
      }, timeoutMs);
      const test = (): void => {
        const v = check();
        if (!v) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve(v as NonNullable<T>);
      };
      this.waiters.add(test);
      test();
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async receive(req: IncomingMessage, _res: unknown): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    this.contentTypes.add(String(req.headers["content-type"]));
    const doc = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    if (req.url === "/v1/traces") this.takeSpans(doc);
    if (req.url === "/v1/metrics") this.takeMetrics(doc);
    for (const w of [...this.waiters]) w();
  }

  private takeSpans(doc: Record<string, unknown>): void {
    for (const rs of (doc.resourceSpans ?? []) as Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) this.spans.push({ ...s, attributes: s.attributes ?? [], resource: rs.resource?.attributes ?? [] });
      }
    }
  }

  private takeMetrics(doc: Record<string, unknown>): void {
    type Point = { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number; count?: string | number };
    type Metric = { name: string; sum?: { dataPoints?: Point[] }; gauge?: { dataPoints?: Point[] }; histogram?: { dataPoints?: Point[] } };
    for (const rm of (doc.resourceMetrics ?? []) as Array<{ resource?: { attributes?: KeyValue[] }; scopeMetrics?: Array<{ metrics?: Metric[] }> }>) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const p of m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? []) {
            const value = Number(p.asInt ?? p.asDouble ?? p.count ?? NaN);
            this.points.push({ metric: m.name, attributes: p.attributes ?? [], value, resource: rm.resource?.attributes ?? [] });
          }
        }
      }
    }
  }
}
