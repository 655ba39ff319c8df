// agentctl demo stopped with Ctrl-C (SIGINT) or SIGTERM on a server it did not
// start: it stops promptly and leaves nothing of its namespace behind; a second
// Ctrl-C during the cleanup exits at once and says what may be left.

import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { useConnection, useNatsServer } from "../runtime/testing/server.js";
import { AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

/** How long a user waits after Ctrl-C before the demo is gone. */
const PROMPT_MS = 5_000;

const nats = useNatsServer();
const conn = useConnection(nats);

/** The names of the server's streams (every KV bucket is a stream too) that belong to `namespace`. */
async function streamsOf(namespace: string): Promise<string[]> {
  const jsm = await jetstreamManager(conn.nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.toLowerCase().includes(namespace)) names.push(name);
  return names;
}

/** Start the demo against the test server and wait until its node runs in its namespace; returns the namespace. */
async function runningDemo(): Promise<{ demo: AgentctlProcess; namespace: string }> {
  const demo = new AgentctlProcess(["demo", "--server", nats.url]);
  const out = await demo.waitFor(/1\. Ask an agent/);
  const namespace = /namespace (demo-[0-9a-f]+)/.exec(out)![1]!;
  // It is there while the demo runs: the node entry and the streams.
  expect(await streamsOf(namespace)).not.toEqual([]);
  return { demo, namespace };
}

describe("agentctl demo interrupted", { timeout: SLOW_MS }, () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} stops the demo promptly and removes its namespace from the server`, async () => {
      const { demo, namespace } = await runningDemo();
      const sent = Date.now();
      const end = await demo.stop(signal);
      expect(Date.now() - sent).toBeLessThan(PROMPT_MS);
      expect(await streamsOf(namespace)).toEqual([]);
      expect(end.signal).toBeNull();
      expect(end.code).toBe(130);
      expect(end.stderr).toContain(`${signal}: stopping the demo`);
      expect(end.stdout).toContain(`removed namespace ${namespace}`);
      expect(end.stdout).not.toContain("7. Model agents");
    });
  }

  it("a second Ctrl-C during the cleanup exits at once and says what may be left", async () => {
    const { demo, namespace } = await runningDemo();
    // The server stops answering (paused), so the cleanup the first Ctrl-C starts cannot finish by itself.
    process.kill(nats.server.pid, "SIGSTOP");
    try {
      demo.stop("SIGINT").catch(() => {});
      await demo.waitFor(/SIGINT: stopping the demo/, PROMPT_MS, "stderr");
      const sent = Date.now();
      const end = await demo.stop("SIGINT");
      expect(Date.now() - sent).toBeLessThan(PROMPT_MS);
      expect(end.code).toBe(130);
      expect(end.stdout).not.toContain("removed namespace");
      expect(end.stderr).toContain(`stopped during cleanup: streams of namespace ${namespace} may be left on ${nats.url}`);
    } finally {
      process.kill(nats.server.pid, "SIGCONT");
    }
  });
});
