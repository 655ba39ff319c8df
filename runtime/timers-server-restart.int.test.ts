// Durable timers across a crash of the nats-server (SIGKILL, then a restart
// on the same store), on the real clock (JetStream's retries while the server
// is down run on the node's clock): a spawned agent's timer and a passivated
// on-demand agent's timer (woken through the wake index, whose watch is armed
// again after the restart) each fire exactly once.

import { afterAll, describe, expect, it } from "vitest";
import { defineAgent, startNode, type TroupeNode } from "../actors/index.js";
import { useNatsServer } from "./testing/vitest.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
let node: TroupeNode | undefined;
afterAll(async () => {
  await node?.close().catch(() => {});
});

const runs = new Map<string, number>();

function timerAgent(type: string, extra: Record<string, unknown>) {
  return defineAgent({
    type,
    ...extra,
    state: () => ({ fired: 0 }),
    receive(msg: { op: "schedule"; afterMs: number } | { op: "tick" }, ctx) {
      if (msg.op === "schedule") {
        ctx.schedule("t", { afterMs: msg.afterMs }, { op: "tick" });
        return null;
      }
      runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
      return ++ctx.state.fired;
    },
  });
}

const spawned = timerAgent("rs-spawned", {});
const sleeper = timerAgent("rs-sleeper", { activation: "on-demand", idleTimeoutMs: 300 });

const firedOf = async (id: string): Promise<number | undefined> => ((await node!.persistedState(id))?.value as { fired?: number } | undefined)?.fired;

describe("durable timers across a server restart", () => {
  it("fires a spawned agent's timer and a passivated on-demand agent's timer once each after the server came back", async () => {
    node = await startNode({ servers: nats.url, namespace: "trs", name: "n", heartbeatMs: 200, agents: [spawned, sleeper] });
    const ref = await node.spawn("rs-spawned", { key: "a" });
    await ref.ask({ op: "schedule", afterMs: 4_000 });
    await node.ref("rs-sleeper", "b").ask({ op: "schedule", afterMs: 4_000 });
    await waitFor(async () => (await node!.whereIs("rs-sleeper/b")) === undefined, "rs-sleeper/b passivated", 10_000);

    await nats.server.kill();
    await new Promise((r) => setTimeout(r, 1_000));
    await nats.server.restart();

    await waitFor(async () => (await firedOf("rs-spawned/a").catch(() => undefined)) === 1, "the spawned agent's timer fired", 20_000);
    await waitFor(async () => (await firedOf("rs-sleeper/b").catch(() => undefined)) === 1, "the passivated agent's timer fired", 20_000);
    // Nothing fires twice.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await firedOf("rs-spawned/a")).toBe(1);
    expect(await firedOf("rs-sleeper/b")).toBe(1);
    expect(runs.get("rs-spawned/a")).toBe(1);
    expect(runs.get("rs-sleeper/b")).toBe(1);
  }, 60_000);
});
