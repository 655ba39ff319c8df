// The durable scenario's verdict: lost, twice and never-sent increments are
// found from a ledger's bitmap and its book.

import { describe, expect, it } from "vitest";
import { checkLedgers, type LedgerBook } from "./ledger-check.js";
import type { LedgerState } from "./ledger-agent.js";

function state(ns: number[], twice = 0): LedgerState {
  const bits = new Uint8Array(8);
  for (const n of ns) bits[n >>> 3] |= 1 << (n & 7);
  return { count: ns.length + twice, twice, twiceNs: [], bits };
}

function book(next: number, tells: number[], asks: number[] = []): LedgerBook {
  return { next, tellsAcked: new Set(tells), asksAnswered: new Set(asks) };
}

describe("checkLedgers", () => {
  it("finds nothing wrong when every acknowledged increment is applied once", () => {
    const c = checkLedgers(new Map([["a", book(4, [0, 1], [2])]]), new Map([["a", state([0, 1, 2, 3])]]));
    expect(c).toMatchObject({ tellsAcked: 2, asksAnswered: 1, applied: 4, tellsLost: 0, asksLost: 0, twice: 0, neverSent: 0, appliedUnacknowledged: 1, inconsistent: 0 });
  });

  it.each([
    ["an acknowledged tell that is not applied", book(3, [0, 1, 2]), state([0, 2]), { tellsLost: 1 }],
    ["an answered ask that is not applied", book(3, [0], [1]), state([0]), { asksLost: 1 }],
    ["an increment applied twice", book(2, [0, 1]), state([0, 1], 1), { twice: 1 }],
    ["an increment never sent", book(2, [0, 1]), state([0, 1, 9]), { neverSent: 1 }],
    ["a count that is not the bits plus the repeats", book(1, [0]), { ...state([0]), count: 5 }, { inconsistent: 1 }],
  ])("counts %s", (_what, b, s, expected) => {
    expect(checkLedgers(new Map([["a", b]]), new Map([["a", s]]))).toMatchObject(expected);
  });

  it("counts a ledger it could not read as unreadable, not as lost", () => {
    const c = checkLedgers(new Map([["a", book(2, [0, 1])]]), new Map([["a", undefined]]));
    expect(c).toMatchObject({ unreadable: 1, tellsLost: 0 });
  });
});
