// A durable mailbox keeps being read after the nats-server restarts: the
// reader of the mailbox (an ordered consumer) must not sit out nats.js's
// default pull expiry (30 s) when its check after the reconnect finds
// JetStream not ready yet, so every ask sent after the restart is answered
// within seconds, not half a minute later.

import { afterAll, describe, expect, it } from "vitest";
import { useNatsServer } from "../testing/server.js";
import { defineAgent } from "../define-agent.js";
import { startNode, type TroupeNode } from "../node.js";

const nats = useNatsServer();
let node: TroupeNode | undefined;
afterAll(async () => {
  await node?.close().catch(() => {});
});

const counter = defineAgent({
  type: "feedcount",
  mailbox: "durable",
  state: () => ({ n: 0 }),
  receive(_msg: { op: "inc" }, ctx) {
    return ++ctx.state.n;
  },
});

/** Bound on how long an ask waits, from its first try, for its answer after the restart (the bug made it about 30 s). */
const ANSWERED_WITHIN_MS = 12_000;

describe("durable feed across a server restart", () => {
  it("answers every ask sent after the restart within seconds", { timeout: 90_000 }, async () => {
    node = await startNode({ servers: nats.url, namespace: "feed", name: "f", heartbeatMs: 250, agents: [counter] });
    const ref = await node.spawn<{ op: "inc" }>("feedcount", { key: "a" });
    expect(await ref.ask({ op: "inc" }, { id: "k0" })).toBe(1);

    await nats.server.kill();
    await new Promise((r) => setTimeout(r, 1_000));
    await nats.server.restart();

    // One keyed ask every 500 ms for 15 s, each retried with its key until answered.
    const waits: number[] = [];
    const one = async (i: number): Promise<void> => {
      const t0 = performance.now();
      while (performance.now() - t0 < 45_000) {
        try {
          await ref.ask({ op: "inc" }, { id: `k${i}`, timeoutMs: 2_000 });
          waits.push(performance.now() - t0);
          return;
        } catch {
          // timed out or not stored yet: the same key again
        }
      }
      waits.push(Infinity);
    };
    const asks: Promise<void>[] = [];
    for (let i = 1; i <= 30; i++) {
      asks.push(one(i));
      await new Promise((r) => setTimeout(r, 500));
    }
    await Promise.all(asks);
    expect(Math.max(...waits)).toBeLessThan(ANSWERED_WITHIN_MS);
    // Every ask applied once: 1 before, 30 after.
    expect(await ref.ask({ op: "inc" }, { id: "last" })).toBe(32);
  });
});
