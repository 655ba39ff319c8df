import { describe, expect, it } from "vitest";
import { AskLoad, checkCounts, emptyLedger, type CounterLedger } from "./ask-load.js";
import { rng } from "./random.js";
import { AskTimeoutError, RemoteError } from "../runtime/errors.js";

const ledger = (l: Partial<CounterLedger>): CounterLedger => ({ ...emptyLedger(), ...l });

describe("checkCounts", () => {
  it.each([
    ["exact", { acked: 5, values: [1, 2, 3, 4, 5] }, 5, { lost: 0, phantom: 0, repeated: 0 }],
    ["an acknowledged increment is gone", { acked: 5, values: [1, 2, 3, 4, 5] }, 4, { lost: 1, phantom: 0, repeated: 0 }],
    ["timed-out increments may have been applied", { acked: 5, unknown: 2, values: [1, 2, 3, 4, 5] }, 7, { lost: 0, phantom: 0, repeated: 0 }],
    ["more applied than acknowledged and unknown", { acked: 5, unknown: 1, values: [1, 2, 3, 4, 5] }, 8, { lost: 0, phantom: 2, repeated: 0 }],
    ["two increments answered with one count", { acked: 2, values: [1, 1] }, 2, { lost: 0, phantom: 0, repeated: 1 }],
  ])("%s", (_label, l, final, expected) => {
    const check = checkCounts(new Map([["c", ledger(l)]]), new Map([["c", final]]));
    expect(check).toMatchObject(expected);
  });

  it("counts a counter it could not read", () => {
    expect(checkCounts(new Map([["c", ledger({ acked: 1 })]]), new Map([["c", undefined]])).unreadable).toBe(1);
  });
});

describe("AskLoad", () => {
  it("accounts for every ask: answered, not applied, unknown and hung", async () => {
    let n = 0;
    let fifth!: () => void;
    const reachedFifth = new Promise<void>((r) => (fifth = r));
    const load = new AskLoad({
      window: 1,
      keys: ["a"],
      random: rng(1),
      timeoutMs: 20,
      graceMs: 20,
      pauseAfterErrorMs: 0,
      ask: () => {
        const i = n++;
        if (i === 0) return Promise.resolve(1);
        if (i === 1) return Promise.reject(new RemoteError("c/a", "Error", "boom"));
        if (i === 2) return Promise.reject(new AskTimeoutError("c/a", 20));
        if (i === 3) return new Promise(() => {}); // never settles
        fifth();
        return Promise.resolve(2);
      },
    });
    load.start();
    await reachedFifth;
    await load.stop();
    expect(load.sent).toBe(5);
    expect(load.answered).toBe(2);
    expect(load.hung).toBe(1);
    expect(Object.fromEntries(load.errors)).toEqual({ RemoteError: 1, AskTimeoutError: 1 });
    expect(load.ledger.get("a")).toMatchObject({ sent: 5, acked: 2, notApplied: 1, unknown: 2, values: [1, 2] });
  });
});
