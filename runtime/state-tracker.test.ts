// The state tracker notes writes through ctx.state and nothing else: a read
// is no change, a write anywhere in plain objects and arrays is, and anything
// it cannot watch counts as a possible change.
import { describe, expect, it } from "vitest";
import { StateTracker } from "./state-tracker.js";

function tracked(value: unknown): StateTracker {
  const t = new StateTracker();
  t.state = value;
  t.takeChange();
  return t;
}

describe("StateTracker", () => {
  it("sees no change in reads, however deep", () => {
    const t = tracked({ history: [{ role: "user", text: "hi" }], n: 1 });
    const s = t.state as { history: { text: string }[]; n: number };
    expect(s.history[0]!.text).toBe("hi");
    expect(s.history.map((h) => h.text)).toEqual(["hi"]);
    expect(JSON.stringify(s)).toBe('{"history":[{"role":"user","text":"hi"}],"n":1}');
    expect(t.takeChange()).toBe(false);
  });

  it.each<[string, (s: { a: { b: number[] }; n: number; m?: number }) => void]>([
    ["a top-level write", (s) => (s.n = 2)],
    ["a deep write", (s) => (s.a.b[0] = 9)],
    ["an array push", (s) => s.a.b.push(4)],
    ["an array sort", (s) => s.a.b.sort((x, y) => y - x)],
    ["a delete", (s) => delete (s as { m?: number }).m],
    ["Object.assign", (s) => Object.assign(s.a, { c: 1 })],
    ["writing the same value", (s) => (s.n = s.n)],
  ])("sees %s, once", (_what, write) => {
    const t = tracked({ a: { b: [1, 2, 3] }, n: 1, m: 1 });
    write(t.state as never);
    expect(t.takeChange()).toBe(true);
    expect(t.takeChange()).toBe(false);
  });

  it("sees a reassignment of the whole state, and encodes the raw value", () => {
    const t = tracked({ n: 1 });
    t.state = { n: 2 };
    expect(t.takeChange()).toBe(true);
    expect(t.raw).toEqual({ n: 2 });
    expect(t.raw).not.toBe(t.state);
  });

  it("counts a touch of something it cannot watch as a possible change", () => {
    const t = tracked({ at: new Date(0), bytes: new Uint8Array(2) });
    (t.state as { bytes: Uint8Array }).bytes[0] = 7;
    expect(t.takeChange()).toBe(true);
    expect(t.takeChange()).toBe(false);
    const c = tracked(new (class Box { n = 1 })());
    expect(c.takeChange()).toBe(true); // a class instance at the root: always a possible change
  });

  it("keeps frozen parts readable, and counts what it cannot watch below them as a possible change", () => {
    const t = tracked({ fixed: Object.freeze({ deep: { x: 1 } }) });
    (t.state as { fixed: { deep: { x: number } } }).fixed.deep.x = 2;
    expect((t.state as { fixed: { deep: { x: number } } }).fixed.deep.x).toBe(2);
    expect(t.takeChange()).toBe(true);
  });
});
