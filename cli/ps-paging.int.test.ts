// agentctl ps against a node whose agents do not fit one message: every page
// is fetched, so the node is listed in full (table and --json), not reported
// as a node that did not answer.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { defineAgent } from "../runtime/define-agent.js";
import { startNode, type TroupeNode } from "../runtime/node.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctl } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;
const nats = useNatsServer();
const NS = "ps-paging";
const COUNT = 300;

const worker = defineAgent({ type: "worker", persist: false, state: () => ({}), receive: () => "ok" });
const keyOf = (i: number) => `w${String(i).padStart(4, "0")}`;
const expected = Array.from({ length: COUNT }, (_, i) => `worker/${keyOf(i)}`);

let node: TroupeNode;

beforeAll(async () => {
  // At 8 KiB a page holds a few dozen agents: the node's list takes several pages.
  node = await startNode({ servers: nats.url, namespace: NS, name: "crowded", agents: [worker], maxMessageBytes: 8 * 1024 });
  for (let i = 0; i < COUNT; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => node.spawn("worker", { key: keyOf(i + j) })));
  }
}, SLOW_MS);

afterAll(async () => {
  await node?.close();
});

describe("agentctl ps with more agents than one message holds", { timeout: SLOW_MS }, () => {
  it("--json lists every agent, in id order, with no warning", async () => {
    const r = await agentctl(["ps", "--json", "--server", nats.url, "--namespace", NS]);
    expect(r.stderr).not.toMatch(/did not answer/);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as AgentInfo[]).map((a) => a.id)).toEqual(expected);
  });

  it("the table has a row for every agent", async () => {
    const r = await agentctl(["ps", "--server", nats.url, "--namespace", NS]);
    expect(r.stderr).not.toMatch(/did not answer/);
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n").filter((line) => line.startsWith("worker/"));
    expect(rows.map((line) => line.split(/\s+/)[0])).toEqual(expected);
  });
});
