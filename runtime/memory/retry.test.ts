// withJetStreamRetry: transient JetStream failures are retried with backoff on
// the injected clock, then reported as MemoryUnavailableError; logical ones are not.
import { NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { MemoryUnavailableError } from "../errors.js";
import { isTransientJetStreamError, isWrongLastSequence } from "./jetstream-errors.js";
import { backoffDelay, DEFAULT_RETRY, withJetStreamRetry } from "./retry.js";

function named(name: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(name);
  e.name = name;
  return Object.assign(e, extra);
}

// The errors nats.js itself throws (their names are not their class names).
const noResponders = new RequestError("no responders: '$JS.API.DIRECT.GET.KV_b.$KV.b.k'", { cause: new NoRespondersError("$JS.API.DIRECT.GET.KV_b.$KV.b.k") });
const wrongLastSeq = named("JetStreamApiError", { code: 10071, status: 400 });

describe("isTransientJetStreamError", () => {
  it.each([
    ["timeout", named("TimeoutError"), true],
    ["no responders", noResponders, true],
    ["no responders, bare", new NoRespondersError("$JS.API.DIRECT.GET.KV_b.$KV.b.k"), true],
    ["request timed out", new RequestError("timeout", { cause: new TimeoutError() }), true],
    ["jetstream not enabled (failover)", named("JetStreamNotEnabled"), true],
    ["503 api error", named("JetStreamApiError", { code: 10008, status: 503 }), true],
    ["not leader", named("JetStreamApiError", { code: 10009, status: 500 }), true],
    ["503 status", named("JetStreamStatusError", { code: 503 }), true],
    ["wrong last sequence", wrongLastSeq, false],
    ["stream not found", named("JetStreamApiError", { code: 10059, status: 404 }), false],
    ["closed connection", named("ClosedConnectionError"), false],
    ["plain error", new Error("boom"), false],
    ["not an error", "boom", false],
  ])("%s -> %s", (_what, err, want) => {
    expect(isTransientJetStreamError(err)).toBe(want);
  });

  it("recognises wrong last sequence", () => {
    expect(isWrongLastSequence(wrongLastSeq)).toBe(true);
    expect(isWrongLastSequence(named("JetStreamApiError", { code: 10164 }))).toBe(true);
    expect(isWrongLastSequence(named("TimeoutError"))).toBe(false);
  });
});

describe("backoffDelay", () => {
  it("doubles from minMs, capped at maxMs, with jitter in the upper half", () => {
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 1000, () => 1)).toBe(100);
    expect(backoffDelay(2, 100, 1000, () => 1)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(500);
  });
});

describe("withJetStreamRetry", () => {
  it("retries transient failures with backoff and returns the eventual result", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = withJetStreamRetry(
      "put",
      async () => {
        calls++;
        if (calls < 3) throw named("TimeoutError");
        return 7;
      },
      { clock, attempts: 5, minMs: 100, maxMs: 1000 },
    );
    await clock.advance(0);
    expect(calls).toBe(1);
    await clock.advance(100); // first backoff <= 100
    expect(calls).toBe(2);
    await clock.advance(200); // second backoff <= 200
    await expect(p).resolves.toBe(7);
    expect(calls).toBe(3);
  });

  it("throws MemoryUnavailableError with the last failure as cause after the attempts", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = withJetStreamRetry(
      "get",
      async () => {
        calls++;
        throw noResponders;
      },
      { clock, attempts: 3, minMs: 10, maxMs: 20 },
    );
    const settled = p.catch((e: unknown) => e);
    for (let i = 0; i < 10; i++) await clock.advance(20);
    const err = await settled;
    expect(err).toBeInstanceOf(MemoryUnavailableError);
    expect((err as MemoryUnavailableError).operation).toBe("get");
    expect((err as MemoryUnavailableError).cause).toBe(noResponders);
    expect(calls).toBe(3);
  });

  it("does not retry a logical error", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = withJetStreamRetry(
      "update",
      async () => {
        calls++;
        throw wrongLastSeq;
      },
      { clock, attempts: 5, minMs: 10, maxMs: 20 },
    );
    await expect(p).rejects.toBe(wrongLastSeq);
    expect(calls).toBe(1);
  });

  // A leader election on a NATS cluster keeps a stream from taking writes for
  // 4 to 9 s of raft timeout plus detection (up to 14 s seen): the runtime's
  // writes (state commits above all) must wait it out, not fail the activation.
  it("outlasts a leader election with the default policy", async () => {
    const clock = new FakeClock(0);
    const electedAt = 14_000;
    let calls = 0;
    const p = withJetStreamRetry(
      "save state",
      async () => {
        calls++;
        if (clock.now() < electedAt) throw named("JetStreamApiError", { code: 10008, status: 503 });
        return "saved";
      },
      { clock, ...DEFAULT_RETRY },
    );
    const settled = p.then(
      (v) => v,
      (e: unknown) => e,
    );
    for (let t = 0; t < 30_000; t += 100) await clock.advance(100);
    expect(await settled).toBe("saved");
    expect(calls).toBeGreaterThan(DEFAULT_RETRY.attempts);
  });

  it("gives up after both the attempts and forMs are spent", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = withJetStreamRetry(
      "get",
      async () => {
        calls++;
        throw noResponders;
      },
      { clock, attempts: 2, minMs: 100, maxMs: 100, forMs: 1_000 },
    );
    const settled = p.catch((e: unknown) => e);
    for (let i = 0; i < 40; i++) await clock.advance(50);
    expect(await settled).toBeInstanceOf(MemoryUnavailableError);
    // Tries 50-100 ms apart until 1 s passed: far more than the 2 attempts alone.
    expect(calls).toBeGreaterThanOrEqual(10);
    expect(calls).toBeLessThanOrEqual(22);
  });
});
