// node.close() of a node with many agents: every agent stops and every
// registry claim is gone when close returns; the root's agents stop side by
// side (each onStop runs while the others' do); releasing a claim the node
// made reads nothing back; and an idle agent's heap stays small.

import { Kvm } from "@nats-io/kv";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { defineAgent } from "./define-agent.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { sleep } from "./testing/supervision.js";
import { useConnection, useNatsServer } from "./testing/server.js";

const nats = useNatsServer();
const spy = useConnection(nats, "spy");
let seq = 0;
const namespace = (): string => `close${process.pid}x${++seq}`;

/** Spawn `count` agents of `type` (keys k<from>, k<from + 1>, ...), 64 at a time. */
async function spawnMany(node: TroupeNode, type: string, count: number, from = 0): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + count) await node.spawn(type, { key: `k${next++}` });
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

/** The live (not deleted) keys of a KV bucket. */
async function liveKeys(bucket: string): Promise<string[]> {
  const kv = await new Kvm(spy.nc).open(bucket);
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return keys;
}

describe("node.close with many agents", () => {
  it("stops 5,000 agents and releases every registry claim, reading nothing back from the registry", async () => {
    const ns = namespace();
    const registry = new Subjects(ns).registryBucket();
    let stops = 0;
    const agent = defineAgent({ type: "t", persist: false, receive: (m: unknown) => m, onStop: () => void stops++ });
    const node = await startNode({ servers: nats.url, namespace: ns, agents: [agent] });
    await spawnMany(node, "t", 5000);
    expect((await liveKeys(registry)).length).toBe(5000);

    // Every read of the registry bucket's stream goes through one of these JetStream API subjects.
    let reads = 0;
    const subs = [`$JS.API.DIRECT.GET.KV_${registry}`, `$JS.API.DIRECT.GET.KV_${registry}.>`, `$JS.API.STREAM.MSG.GET.KV_${registry}`].map((s) =>
      spy.nc.subscribe(s, { callback: () => void reads++ }),
    );
    await spy.nc.flush();
    await node.close();
    await spy.nc.flush();
    for (const s of subs) s.unsubscribe();

    expect(stops).toBe(5000);
    expect(await liveKeys(registry)).toEqual([]);
    expect(reads).toBe(0);
  }, 180_000);

  it("stops the root's agents side by side: each onStop runs while the others' do", async () => {
    const count = 3;
    let entered = 0;
    let allIn!: () => void;
    const together = new Promise<void>((resolve) => (allIn = resolve));
    const outcomes: string[] = [];
    const agent = defineAgent({
      type: "b",
      persist: false,
      receive: (m: unknown) => m,
      onStop: async () => {
        if (++entered === count) allIn();
        // Stopped one after another, the first would wait here alone.
        const alone = await Promise.race([together.then(() => false), sleep(5000).then(() => true)]);
        outcomes.push(alone ? "alone" : "together");
      },
    });
    const node = await startNode({ servers: nats.url, namespace: namespace(), agents: [agent] });
    await spawnMany(node, "b", count);
    await node.close();
    expect(outcomes).toEqual(["together", "together", "together"]);
  }, 60_000);

  it("holds an idle agent that persists nothing in under 5 KB of heap", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const agent = defineAgent({ type: "i", persist: false, receive: (m: unknown) => m });
    const node = await startNode({ servers: nats.url, namespace: namespace(), agents: [agent] });
    const count = 5000;
    await spawnMany(node, "i", 50); // warm up code paths first
    gc();
    const before = process.memoryUsage().heapUsed;
    await spawnMany(node, "i", count, 50);
    gc();
    const perAgent = (process.memoryUsage().heapUsed - before) / count;
    await node.close();
    expect(perAgent).toBeLessThan(5 * 1024);
  }, 180_000);
});
