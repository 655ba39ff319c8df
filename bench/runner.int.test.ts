// The runner against a real nats-server: scenarios get their own servers,
// which are gone when the run ends, when a scenario overruns, and on Ctrl-C;
// reports are written; exit codes say what happened.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { runBench } from "./runner.js";
import type { BenchReport } from "./report.js";
import type { Scenario } from "./scenario.js";
import { isProcessAlive } from "./child-process.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "troupe-bench-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe("runBench", () => {
  it("refuses an unknown scenario, listing the known ones, with exit code 2", async () => {
    const out = capture();
    const outDir = tempDir();
    const registry: Scenario[] = [
      { name: "alpha", title: "A", description: "", run: async () => ({ name: "alpha", ok: true, summary: "", metrics: [] }) },
    ];
    const r = await runBench({ registry, scenarios: ["alpha", "nope"], outDir, stdout: out.stream });
    expect(r.exitCode).toBe(2);
    expect(out.text()).toContain("unknown scenario: nope; known scenarios: alpha");
    expect(r.jsonPath).toBeNull();
    expect(existsSync(join(outDir, "latest.json"))).toBe(false);
  });

  it("runs scenarios on their own servers, stops them, and writes the reports", async () => {
    const out = capture();
    const outDir = tempDir();
    const pids: number[] = [];
    const listenersBefore = process.listenerCount("SIGINT");
    const registry: Scenario[] = [
      {
        name: "works",
        title: "Works",
        description: "starts a server and measures something",
        async run(ctx) {
          const server = await ctx.startServer();
          pids.push(server.pid);
          const nc = await connect({ servers: server.url });
          ctx.defer(() => nc.close());
          const rtt = await nc.rtt();
          ctx.progress(0.5, "measuring");
          ctx.log(`rtt ${rtt} ms`);
          return {
            name: "works",
            ok: true,
            summary: "It works.",
            metrics: [{ name: "speed", unit: "op/s", better: "higher", troupe: 50, baseline: 100, goal: "ratio ≥ 0.9", pass: false }],
          };
        },
      },
      {
        name: "broken",
        title: "Broken",
        description: "throws",
        async run(ctx) {
          const server = await ctx.startServer();
          pids.push(server.pid);
          throw new Error("the agent exploded");
        },
      },
    ];
    const r = await runBench({ registry, outDir, seed: 99, quick: true, stdout: out.stream });

    expect(r.exitCode).toBe(1); // "broken" did not run
    expect(r.results.map((x) => [x.name, x.ok])).toEqual([
      ["works", true],
      ["broken", false],
    ]);
    expect(r.results[0]!.metrics[0]!.ratio).toBeCloseTo(0.5); // filled in by the runner
    expect(r.results[1]!.error).toContain("the agent exploded");
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect(process.listenerCount("SIGINT")).toBe(listenersBefore);

    const text = out.text();
    expect(text).toContain("seed 99");
    expect(text).toMatch(/works 50% measuring/);
    expect(text).toMatch(/works\s+speed\s+50\s+100\s+op\/s\s+0\.50×/);
    expect(text).toContain("✗ broken did not run: Error: the agent exploded");

    const report = JSON.parse(readFileSync(r.jsonPath!, "utf8")) as BenchReport;
    expect(report.environment).toMatchObject({ seed: 99, quick: true, nodeVersion: process.version });
    expect(report.environment.cpuCount).toBeGreaterThan(0);
    expect(report.environment.natsServerVersion).toMatch(/^2\.\d+/);
    expect(report.results[0]!.log).toEqual([expect.stringMatching(/^rtt \d+/)]);
    expect(readFileSync(join(outDir, "latest.json"), "utf8")).toBe(readFileSync(r.jsonPath!, "utf8"));
    expect(readFileSync(r.htmlPath!, "utf8")).toContain("<svg");
    expect(existsSync(join(outDir, "latest.html"))).toBe(true);

    // With strict, the missed goal alone fails the run.
    const strict = await runBench({ registry: [registry[0]!], outDir, strict: true, stdout: capture().stream });
    expect(strict.exitCode).toBe(7);
    const lenient = await runBench({ registry: [registry[0]!], outDir, stdout: capture().stream });
    expect(lenient.exitCode).toBe(0);
  });

  it("aborts a scenario that overruns its time limit and stops its server", async () => {
    let pid = 0;
    let aborted = false;
    const registry: Scenario[] = [
      {
        name: "slow",
        title: "Slow",
        description: "never finishes on its own",
        async run(ctx) {
          pid = (await ctx.startServer()).pid;
          await new Promise<void>((resolveWait) =>
            ctx.signal.addEventListener("abort", () => {
              aborted = true;
              resolveWait();
            }),
          );
          return { name: "slow", ok: true, summary: "", metrics: [] };
        },
      },
    ];
    const r = await runBench({ registry, outDir: tempDir(), scenarioTimeoutMs: 1_500, stdout: capture().stream });
    expect(aborted).toBe(true);
    expect(r.exitCode).toBe(1);
    expect(r.results[0]!.error).toMatch(/did not finish within its time limit of 1.5 s/);
    expect(isProcessAlive(pid)).toBe(false);
  });

  it("on Ctrl-C stops the servers it started and exits 130", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const script = join(dir, "interrupted.mts");
    const runnerUrl = new URL("./runner.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { runBench } from ${JSON.stringify(runnerUrl)};
await runBench({
  outDir: ${JSON.stringify(dir)},
  registry: [{
    name: "forever", title: "Forever", description: "",
    async run(ctx) {
      const s = await ctx.startServer();
      ctx.log("server pid=" + s.pid);
      await new Promise(() => {});
      return { name: "forever", ok: true, summary: "", metrics: [] };
    },
  }],
});
`,
    );
    const tsx = resolve(here, "..", "node_modules", ".bin", "tsx");
    const child = spawn(tsx, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const pid = await new Promise<number>((resolvePid, reject) => {
      const timer = setTimeout(() => reject(new Error(`no server pid in the output:\n${output}`)), 30_000);
      child.stdout.on("data", () => {
        const m = /server pid=(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolvePid(Number(m[1]));
        }
      });
    });
    expect(isProcessAlive(pid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // tsx forwards the signal to the node process running the script.
    child.kill("SIGINT");
    const code = await exited;
    expect(code, output).toBe(130);
    expect(output).toContain("SIGINT: stopping the servers and processes this run started");
    expect(isProcessAlive(pid)).toBe(false);
  });
});
