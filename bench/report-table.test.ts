import { describe, expect, it } from "vitest";
import { formatRatio, renderTable } from "./report-table.js";
import { sampleReport } from "./sample-report.js";

describe("renderTable", () => {
  const { results } = sampleReport();

  it("has one row per metric with figures, ratio, goal and verdict", () => {
    const text = renderTable(results);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^scenario\s+metric\s+troupe\s+baseline\s+unit\s+ratio\s+goal\s+pass$/);
    const tell = lines.find((l) => l.includes("tell throughput vs pub/sub"))!;
    expect(tell).toMatch(/48,000\s+140,000\s+msg\/s\s+0\.34×\s+ratio ≥ 0\.25\s+✓$/);
    expect(lines.find((l) => l.includes("ask latency p99"))).toMatch(/✗$/);
    expect(text).not.toContain("\x1b["); // no colour unless asked
  });

  it("says which scenarios did not run and why", () => {
    expect(renderTable(results)).toContain("✗ memory did not run: could not start nats-server");
  });

  it("colours misses when asked", () => {
    expect(renderTable(results, { color: true })).toContain("\x1b[31m");
  });

  it("formats ratios", () => {
    expect(formatRatio(0.3428)).toBe("0.34×");
    expect(formatRatio(12.34)).toBe("12.3×");
    expect(formatRatio(undefined)).toBe("–");
    expect(formatRatio(NaN)).toBe("–");
  });
});
