// The timers bench at a small size: it runs, and counts every timer fired
// exactly once, with nothing killed and across a nats-server restart.

import { describe, expect, it } from "vitest";
import { useNatsServer } from "../../runtime/testing/vitest.js";
import { timersBench, timersServerRestartBench } from "./timers.js";

const nats = useNatsServer();
const small = { agents: 20, perAgent: 3, spreadMs: 200, leadMs: 800, waitMs: 3_000 };

describe("timers bench", () => {
  it("fires every timer once and reports its delays", async () => {
    const r = await timersBench({ servers: nats.url, ...small });
    expect(r).toMatchObject({ timers: 60, firedTwice: 0, firedTwiceInState: 0, notFired: 0 });
    expect(r.delay.count).toBe(60);
    expect(r.delay.p99).toBeGreaterThanOrEqual(0);
  });

  it("counts every timer once in the persisted state across a server restart", async () => {
    const r = await timersServerRestartBench({ servers: nats.url, ...small, waitMs: 8_000, server: nats.server });
    expect(r).toMatchObject({ timers: 60, firedTwiceInState: 0, notFired: 0 });
  }, 60_000);
});
