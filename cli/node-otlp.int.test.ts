// agentctl node start --otlp: a node started from the shell exports traces and
// metrics to a collector (here one in the test that decodes the exports), so
// an `agentctl ask` it handles shows up as a consumer span; a bad URL is refused
// naming the flag's option.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { attr, OtlpCollector, SPAN_KIND_CONSUMER } from "../runtime/testing/otlp-collector.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const nats = useNatsServer();
const namespace = `otlp-${randomBytes(3).toString("hex")}`;
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

describe("agentctl node start --otlp", { timeout: SLOW_MS }, () => {
  let collector: OtlpCollector;
  let node: AgentctlProcess;
  beforeAll(async () => {
    collector = await OtlpCollector.start();
    node = new AgentctlProcess(["node", "start", "--name", "otlp-cli", "--server", nats.url, "--namespace", namespace], { TROUPE_OTLP: collector.url });
    await node.waitFor(/ready/);
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
    await collector?.close();
  });

  it("exports the spans of an ask it handled and the node's metrics, with the collector's URL taken from TROUPE_OTLP", async () => {
    await node.waitFor(new RegExp(`exporting traces and metrics to ${collector.url}`), 10_000, "stderr");
    expect((await run("spawn", "counter", "--key", "k1")).code).toBe(0);
    expect((await run("ask", "counter/k1", '{"op":"inc"}')).stdout.trim()).toBe("1");
    const consumer = await collector.until(
      () => collector.spans.find((s) => s.kind === SPAN_KIND_CONSUMER && s.name === "process counter/k1"),
      "the consumer span of the ask",
    );
    expect(consumer.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attr(consumer.attributes, "messaging.system")).toBe("nats");
    expect(attr(consumer.resource, "service.name")).toBe("troupe");
    expect(attr(consumer.resource, "troupe.node")).toBe("otlp-cli");
    await collector.until(
      () => collector.points.find((p) => p.metric === "troupe.messages.handled" && attr(p.attributes, "troupe.agent.type") === "counter" && p.value >= 1),
      "counter's handled-messages metric",
    );
  });

  it("refuses a URL that is not http(s), naming the option", async () => {
    const r = await agentctl(["node", "start", "--otlp", "localhost:4318", "--server", nats.url, "--namespace", namespace]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("telemetry.otlp");
    expect(r.stderr).toContain("http://localhost:4318");
  });
});
