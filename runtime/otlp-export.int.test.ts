// Traces and metrics out of the box: a node started with `telemetry: { otlp }`
// exports over OTLP/HTTP to a collector, here an HTTP server in the test that
// decodes the exports (JSON). An ask chain across agents is one trace with
// parent links; the node's metrics arrive; a dead collector hurts nothing; and
// a node without telemetry does not load the SDK at all.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { useNatsServer } from "./testing/server.js";
import { attr, OtlpCollector as Collector, SPAN_KIND_CONSUMER, SPAN_KIND_PRODUCER } from "./testing/otlp-collector.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { counter } from "../actors/builtins.js";
import { InvalidConfigError } from "./errors.js";
import { EventKind, type TroupeEvent } from "./events.js";

const nats = useNatsServer();

// ---- an ask chain: chain-a asks chain-b, which asks chain-c ----

const chainA = defineAgent({
  type: "chain-a",
  persist: false,
  async receive(msg: { n: number }, ctx) {
    return ctx.ref("chain-b", "b1").ask<number>({ n: msg.n + 1 });
  },
});
const chainB = defineAgent({
  type: "chain-b",
  persist: false,
  async receive(msg: { n: number }, ctx) {
    return ctx.ref("chain-c", "c1").ask<number>({ n: msg.n + 1 });
  },
});
const chainC = defineAgent({
  type: "chain-c",
  persist: false,
  receive: (msg: { n: number }) => msg.n + 1,
});

describe("OTLP export", () => {
  let collector: Collector;
  let node: TroupeNode;
  beforeAll(async () => {
    collector = await Collector.start();
    node = await startNode({
      servers: nats.url,
      namespace: "otlp",
      name: "otlp-node",
      agents: [chainA, chainB, chainC, counter],
      telemetry: { otlp: collector.url, serviceName: "otlp-test", metricsIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await node?.close();
    await collector?.close();
  });

  it("shows an ask chain A -> B -> C as one trace of producer and consumer spans with parent links", async () => {
    for (const t of ["chain-a", "chain-b", "chain-c"]) await node.spawn(t, { key: t.slice(-1) + "1" });
    expect(await node.ref("chain-a", "a1").ask({ n: 0 })).toBe(3);

    const consumer = (id: string) => collector.spans.find((s) => s.kind === SPAN_KIND_CONSUMER && s.name === `process ${id}`);
    await collector.until(() => consumer("chain-a/a1") && consumer("chain-b/b1") && consumer("chain-c/c1"), "the three consumer spans");
    const a = consumer("chain-a/a1")!;
    const b = consumer("chain-b/b1")!;
    const c = consumer("chain-c/c1")!;
    const producerTo = (subject: string) => collector.spans.find((s) => s.kind === SPAN_KIND_PRODUCER && s.name === `send ${subject}`);
    const toA = producerTo("troupe.otlp.agent.chain-a.a1")!;
    const toB = producerTo("troupe.otlp.agent.chain-b.b1")!;
    const toC = producerTo("troupe.otlp.agent.chain-c.c1")!;
    expect([toA, toB, toC].every(Boolean)).toBe(true);

    // One trace, linked: test -> send to A -> process A -> send to B -> process B -> send to C -> process C.
    const traceId = toA.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const s of [a, toB, b, toC, c]) expect(s.traceId).toBe(traceId);
    expect(toA.parentSpanId ?? "").toBe("");
    expect(a.parentSpanId).toBe(toA.spanId);
    expect(toB.parentSpanId).toBe(a.spanId);
    expect(b.parentSpanId).toBe(toB.spanId);
    expect(toC.parentSpanId).toBe(b.spanId);
    expect(c.parentSpanId).toBe(toC.spanId);

    for (const s of [toA, a, toB, b, toC, c]) expect(attr(s.attributes, "messaging.system")).toBe("nats");
    expect(attr(a.resource, "service.name")).toBe("otlp-test");
    expect(attr(a.resource, "troupe.node")).toBe("otlp-node");
    expect(attr(a.resource, "troupe.namespace")).toBe("otlp");
    expect([...collector.contentTypes].every((t) => t.startsWith("application/json"))).toBe(true);
    await waitForStats(node, (s) => s.spansExported >= 6, "the spans to be counted as exported");
  });

  it("exports the node's metrics: messages handled, mailbox depth, restarts, handling time", async () => {
    const ref = await node.spawn("counter", { key: "m1" });
    for (let i = 0; i < 3; i++) await ref.ask({ op: "inc" });
    await node.kill("counter/m1", "test restart");
    await ref.ask({ op: "inc" });

    const latest = (metric: string, type: string) =>
      collector.points.filter((p) => p.metric === metric && attr(p.attributes, "troupe.agent.type") === type).at(-1);
    const handled = await collector.until(() => {
      const p = latest("troupe.messages.handled", "counter");
      const r = latest("troupe.agent.restarts", "counter");
      return p && p.value >= 4 && r && r.value >= 1 ? p : undefined;
    }, "counter's handled messages and restart");
    expect(attr(handled.attributes, "troupe.node")).toBe("otlp-node");
    expect(attr(handled.resource, "service.name")).toBe("otlp-test");
    expect(latest("troupe.mailbox.depth", "counter")).toBeDefined();
    expect(latest("troupe.messages.handled", "chain-c")?.value).toBeGreaterThanOrEqual(1);
    expect(collector.points.some((p) => p.metric === "troupe.message.duration")).toBe(true);
  });

  it("lets a second node of the process share the export, and refuses other settings naming the option", async () => {
    const second = await startNode({
      servers: nats.url,
      namespace: "otlp",
      name: "otlp-second",
      agents: [counter],
      telemetry: { otlp: collector.url, serviceName: "otlp-test", metricsIntervalMs: 200 },
    });
    try {
      const ref = await second.spawn("counter", { key: "s1" });
      await ref.ask({ op: "inc" });
      await collector.until(
        () => collector.points.find((p) => p.metric === "troupe.messages.handled" && attr(p.attributes, "troupe.node") === "otlp-second"),
        "the second node's metrics",
      );
      const other = startNode({ servers: nats.url, namespace: "otlp", agents: [counter], telemetry: { otlp: "http://127.0.0.1:1" } });
      await expect(other).rejects.toBeInstanceOf(InvalidConfigError);
      await expect(other).rejects.toMatchObject({ field: "telemetry", message: expect.stringContaining(collector.url) });
    } finally {
      await second.close();
    }
    // The first node still exports after the second closed.
    const before = collector.spans.length;
    await node.ref("chain-c", "c1").ask({ n: 0 });
    await collector.until(() => collector.spans.length > before, "spans after the second node closed");
  });
});

describe("OTLP export to a dead collector", () => {
  it("never hurts message handling: failures are counted, reported once as an event, and close is bounded", async () => {
    const gone = await Collector.start();
    const url = gone.url;
    await gone.close();
    const node = await startNode({
      servers: nats.url,
      namespace: "otlp-dead",
      agents: [counter],
      telemetry: { otlp: url, metricsIntervalMs: 100 },
    });
    const events: TroupeEvent[] = [];
    const stop = node.onEvent((e) => events.push(e), { kind: EventKind.AgentError });
    try {
      const ref = await node.spawn("counter", { key: "d1" });
      for (let i = 1; i <= 20; i++) expect(await ref.ask({ op: "inc" })).toBe(i);
      // Each ask made spans, and metrics go every 100 ms: wait for failed exports to be counted.
      const failing = await waitForStats(node, (s) => s.failedExports >= 1, "a failed OTLP export to be counted");
      expect(failing.lastError).toBeTruthy();
      expect(await ref.ask({ op: "get" })).toBe(20);
      const told = await waitForEvent(events, (e) => e.where === "telemetry export");
      expect(String(told.reason)).toContain(url);
      expect(events.filter((e) => e.where === "telemetry export")).toHaveLength(1);
    } finally {
      stop();
      const started = performance.now();
      await node.close();
      expect(performance.now() - started).toBeLessThan(8000);
    }
  });
});

describe("OTLP export already failing when a node starts", () => {
  it("is reported by that node too, once it exists (a failure told during its start is not lost)", async () => {
    const gone = await Collector.start();
    const url = gone.url;
    await gone.close();
    const telemetry = { otlp: url, metricsIntervalMs: 100 };
    const first = await startNode({ servers: nats.url, namespace: "otlp-join", name: "first", agents: [counter], telemetry });
    let second: TroupeNode | undefined;
    const events: TroupeEvent[] = [];
    const stop = first.onEvent((e) => events.push(e), { kind: EventKind.AgentError, type: "node", key: "second" });
    try {
      // Something to export: an ask makes spans and metrics.
      expect(await (await first.spawn("counter", { key: "j1" })).ask({ op: "inc" })).toBe(1);
      await waitForStats(first, (s) => s.failedExports >= 1, "the shared export to fail");
      // The second node joins the export while it fails: it is told during its start, before it exists.
      second = await startNode({ servers: nats.url, namespace: "otlp-join", name: "second", agents: [counter], telemetry });
      const told = await waitForEvent(events, (e) => e.where === "telemetry export");
      expect(String(told.reason)).toContain(url);
    } finally {
      stop();
      await second?.close();
      await first.close();
    }
  });
});

describe("OTLP export beside a user's own SDK", () => {
  it("is refused with a clear error, and the user's SDK is left in place", async () => {
    const mine = new BasicTracerProvider();
    expect(trace.setGlobalTracerProvider(mine)).toBe(true);
    try {
      const started = startNode({ servers: nats.url, namespace: "otlp-own", agents: [counter], telemetry: { otlp: "http://127.0.0.1:4318" } });
      await expect(started).rejects.toMatchObject({ name: "InvalidConfigError", field: "telemetry", message: expect.stringContaining("its own OpenTelemetry SDK") });
      expect((trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate()).toBe(mine);
    } finally {
      trace.disable();
    }
  });
});

describe("a node without telemetry", () => {
  it("loads no OpenTelemetry SDK module (only @opentelemetry/api)", async () => {
    const nodeUrl = new URL("./node.ts", import.meta.url).href;
    const builtins = new URL("../actors/builtins.ts", import.meta.url).href;
    const exportUrl = new URL("./otlp-export.ts", import.meta.url).href;
    const script = `import { createRequire } from "node:module";
      import { startNode } from ${JSON.stringify(nodeUrl)};
      import { counter } from ${JSON.stringify(builtins)};
      const require = createRequire(import.meta.url);
      const sdk = () => Object.keys(require.cache).filter((f) => /@opentelemetry[\\\\/](sdk-|exporter-|resources|otlp-)/.test(f)).length;
      const node = await startNode({ servers: process.env.NATS_URL, namespace: "otlp-off", agents: [counter] });
      const ref = await node.spawn("counter", { key: "x" });
      await ref.ask({ op: "inc" });
      await node.close();
      const without = sdk();
      await import(${JSON.stringify(exportUrl)});
      console.log(JSON.stringify({ without, with: sdk() }));
      process.exit(0);`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { cwd: fileURLToPath(new URL("..", import.meta.url)), env: { ...process.env, NATS_URL: nats.url } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const loaded = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { without: number; with: number };
    expect(loaded.without).toBe(0);
    // The check can fail: importing the export module does load the SDK.
    expect(loaded.with).toBeGreaterThan(0);
  });
});

async function waitForStats(node: TroupeNode, ok: (s: NonNullable<ReturnType<TroupeNode["telemetryStats"]>>) => boolean, what: string) {
  // The export counts are not events; poll them (wall clock: the exporter runs on real timers).
  const { waitFor } = await import("./testing/wait.js");
  return waitFor(() => {
    const s = node.telemetryStats();
    return s && ok(s) ? s : undefined;
  }, what);
}

async function waitForEvent(events: TroupeEvent[], ok: (e: TroupeEvent) => boolean): Promise<TroupeEvent> {
  const { waitFor } = await import("./testing/wait.js");
  return waitFor(() => events.find(ok), "the telemetry export event");
}
