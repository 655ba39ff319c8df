// The public kit as a user would use it: a live node on a throwaway server,
// driven by a FakeClock. A receive that runs past receiveTimeoutMs fails only
// when the fake clock passes the limit, and the root supervisor's backoff
// holds a restart until the fake clock reaches the delay, however long the
// test waits in real time; a child whose message in flight will not finish is
// killed when the fake clock passes its shutdownMs.

import { afterEach, describe, expect, it } from "vitest";
import { defineAgent, startNode, type TroupeNode } from "../../actors/index.js";
import { FakeClock, nextEvent, recordEvents, waitFor } from "./index.js";
import { useNatsServer } from "./vitest.js";

const nats = useNatsServer();

/** Real time the test lets pass to show that nothing happens without the fake clock. */
const REAL_PAUSE_MS = 300;
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, REAL_PAUSE_MS));

/** Holds each `wait` until the test releases it (a receive that never ends on its own). */
let release: (() => void) | undefined;
let handling = 0;

const slow = defineAgent({
  type: "slow",
  persist: false,
  receiveTimeoutMs: 1_000,
  receive: async (msg: { op: "wait" | "ping" }) => {
    if (msg.op === "ping") return "pong";
    handling++;
    await new Promise<void>((r) => (release = r));
    return "done";
  },
});

/** An agent whose receive never ends on its own and has no receive timeout: only a stop's shutdownMs ends it. */
let busy = 0;
const stubborn = defineAgent({
  type: "stubborn",
  persist: false,
  receive: async () => {
    busy++;
    await new Promise<void>((r) => (release = r));
    return "done";
  },
});

let seq = 0;
let node: TroupeNode | undefined;
afterEach(async () => {
  release?.();
  await node?.close();
  node = undefined;
});

async function nodeWith(clock: FakeClock, backoffMs?: number): Promise<TroupeNode> {
  node = await startNode({
    servers: nats.url,
    namespace: `fake-clock-${process.pid}-${++seq}`,
    agents: [slow, stubborn],
    clock,
    random: () => 0.5, // jitter 0 either way; named for clarity
    root: backoffMs === undefined ? undefined : { backoff: { minMs: backoffMs, maxMs: backoffMs, jitter: 0 } },
  });
  return node;
}

describe("a FakeClock driving a live node", () => {
  it("times a receive out when the fake clock passes receiveTimeoutMs, not before", async () => {
    const clock = new FakeClock(Date.now());
    const n = await nodeWith(clock);
    const ref = await n.spawn("slow", { key: "s1" });
    const failed = recordEvents(n, { kind: "child_failed" });
    const before = handling;
    const answer = ref.ask({ op: "wait" }, { timeoutMs: 60_000 }).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    await waitFor(() => handling > before, "the receive started");

    await clock.advance(999);
    await pause();
    expect(failed.events).toEqual([]);

    await clock.advance(1);
    const outcome = await answer;
    expect(outcome.ok).toBe(false);
    await waitFor(() => failed.events.length === 1, "child_failed for slow/s1");
    expect(String(failed.events[0]!.error)).toMatch(/did not finish within 1000 ms/);
    failed.stop();
  });

  it("holds a restart for the supervisor's backoff on the fake clock", async () => {
    const clock = new FakeClock(Date.now());
    const n = await nodeWith(clock, 5_000);
    const ref = await n.spawn("slow", { key: "s2" });
    expect(await ref.ask({ op: "ping" })).toBe("pong");

    const restarted = nextEvent(n, { kind: "child_restarted" });
    const failed = nextEvent(n, { kind: "child_failed" });
    const timers = clock.pending;
    await n.kill("slow/s2", "test crash");
    await failed;
    // The supervisor arms the restart's backoff timer on the fake clock when it decides.
    await waitFor(() => clock.pending > timers, "the restart's backoff timer is armed");
    await clock.advance(4_999);
    await pause();
    const early = await Promise.race([restarted.then(() => "restarted"), pause().then(() => "waiting")]);
    expect(early).toBe("waiting");

    await clock.advance(1);
    const event = await restarted;
    expect(event.id).toBe("slow/s2");
    expect(await ref.ask({ op: "ping" })).toBe("pong");
  });

  it("kills a child whose message will not finish once the fake clock passes its shutdownMs", async () => {
    const clock = new FakeClock(Date.now());
    const n = await nodeWith(clock);
    const ref = await n.spawn("stubborn", { key: "b1", shutdownMs: 2_000 });
    const before = busy;
    const answer = ref.ask({}, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await waitFor(() => busy > before, "stubborn/b1 is handling a message");
    let done = false;
    const timers = clock.pending;
    const stopped = n.stop("stubborn/b1").then(() => (done = true));
    // The stop arms its shutdown timer on the fake clock once it reaches the agent.
    await waitFor(() => clock.pending > timers, "the stop armed its shutdown timer");
    await clock.advance(1_999);
    await pause();
    expect(done).toBe(false);
    await clock.advance(1);
    await stopped;
    expect(await answer).toMatchObject({ message: expect.stringMatching(/shutdown 2000 ms/) });
    expect(await n.whereIs("stubborn/b1")).toBeUndefined();
  });
});
