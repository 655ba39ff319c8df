// agentctl dev --cluster: three routed nats-servers on --port P, P+1, P+2,
// with clustered JetStream (a stream replicated three times can be made),
// stopped together by Ctrl-C.

import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { readServerInfo } from "../runtime/testing/nats-server.js";
import { agentctl, AgentctlProcess, REPO_ROOT } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A port P with P, P+1 and P+2 free on loopback (never 4222). */
async function freeRun(): Promise<number> {
  for (;;) {
    const p = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(p)) && (await portFree(p + 1)) && (await portFree(p + 2))) return p;
  }
}

let dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe("agentctl dev --cluster", { timeout: SLOW_MS }, () => {
  it("runs three clustered servers on P, P+1, P+2 until Ctrl-C", async () => {
    const port = await freeRun();
    dirs.push(join(REPO_ROOT, ".nats", `cluster-${port}`));
    const dev = new AgentctlProcess(["dev", "--cluster", "--port", String(port)]);
    try {
      const out = await dev.waitFor(/NATS cluster running/);
      const urls = [0, 1, 2].map((i) => `nats://127.0.0.1:${port + i}`);
      for (const u of urls) expect(out).toContain(u);
      expect(await dev.waitFor(/--replicas 3/, 10_000, "stderr")).toContain("--replicas 3");

      const nc = await connect({ servers: urls[0] });
      try {
        const jsm = await jetstreamManager(nc);
        const si = await jsm.streams.add({ name: "devcheck", subjects: ["devcheck.>"], num_replicas: 3 });
        expect(si.cluster?.replicas).toHaveLength(2);
        await jsm.streams.delete("devcheck");
      } finally {
        await nc.close();
      }
    } finally {
      const end = await dev.stop("SIGINT");
      expect(end.code).toBe(0);
      expect(end.stderr).toContain("NATS cluster stopped");
    }
    for (let i = 0; i < 3; i++) expect(await readServerInfo("127.0.0.1", port + i, 300)).toBeNull();
  });

  it("refuses --detach with --cluster, and --port without it", async () => {
    const both = await agentctl(["dev", "--cluster", "--detach"]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain("cannot be combined with --detach");
    const portOnly = await agentctl(["dev", "--port", "4300"]);
    expect(portOnly.code).not.toBe(0);
    expect(portOnly.stderr).toContain("--port goes with --cluster");
  });
});
