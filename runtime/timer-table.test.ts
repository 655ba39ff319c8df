// The timer table's pure parts: a `when` becomes a first due time, a recurring
// timer moves on after firing (once, whatever it missed), and what the bucket
// holds as timers is checked field by field, never trusted.

import { describe, expect, it } from "vitest";
import { encodeValue } from "./codec.js";
import { InvalidArgumentError, InvalidMessageError } from "./errors.js";
import { afterFiring, decodeTimers, encodeTimers, makeTimer, MAX_TIMERS, TimerKind } from "./timer-table.js";
import { decodeTimerRecord, encodeTimerRecord, storedStateValue } from "./timer-record.js";
import { decodeDurableRecord, encodeDurableRecord, MailboxCursor } from "./durable/durable-record.js";

const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);
const MAX = 1024 * 1024;

describe("timer table", () => {
  it.each([
    [{ at: NOW + 5 }, TimerKind.At, NOW + 5],
    [{ at: new Date(NOW + 6) }, TimerKind.At, NOW + 6],
    [{ afterMs: 7 }, TimerKind.At, NOW + 7],
    [{ every: 100 }, TimerKind.Every, NOW + 100],
    [{ every: 100, afterMs: 0 }, TimerKind.Every, NOW],
    [{ every: 100, startAt: NOW + 30 }, TimerKind.Every, NOW + 30],
    [{ cron: "*/5 * * * *" }, TimerKind.Cron, NOW + 5 * 60_000],
    [{ cron: "0 9 * * *", tz: "Europe/Berlin" }, TimerKind.Cron, NOW + 8 * 3600_000],
  ])("%j is first due as it says", (when, kind, due) => {
    expect(makeTimer("t", when, "m", NOW, MAX)).toMatchObject({ kind, due, attempts: 0 });
  });

  it.each([
    ["a.b", { afterMs: 1 }, "timer name"],
    ["t", { every: 1.5 }, "every"],
    ["t", { every: 10, startAt: 1, afterMs: 1 }, "when"],
    ["t", { at: -1 }, "at"],
    ["t", { at: new Date(Number.NaN) }, "at"],
    ["t", { cron: "* * *" }, "cron"],
    ["t", { cron: "0 0 30 2 *" }, "cron"],
    ["t", null, "when"],
  ])("refuses name %j with %j (argument %s)", (name, when, argument) => {
    expect(() => makeTimer(name, when as never, "m", NOW, MAX)).toThrow(InvalidArgumentError);
    try {
      makeTimer(name, when as never, "m", NOW, MAX);
    } catch (err) {
      expect((err as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it("refuses a message over the size limit or one that cannot be encoded", () => {
    expect(() => makeTimer("t", { afterMs: 1 }, "x".repeat(100), NOW, 50)).toThrow(/over the 50-byte limit/);
    expect(() => makeTimer("t", { afterMs: 1 }, () => 1, NOW, MAX)).toThrow(InvalidArgumentError);
  });

  it("moves a recurring timer on once, to its next due time after now, whatever it missed; a one-shot is gone", () => {
    const every = makeTimer("r", { every: 100 }, "m", NOW, MAX);
    expect(afterFiring(every, NOW + 100)?.due).toBe(NOW + 200);
    expect(afterFiring(every, NOW + 1_050)?.due).toBe(NOW + 1_100);
    expect(afterFiring({ ...every, attempts: 3 }, NOW + 100)?.attempts).toBe(0);
    const cron = makeTimer("c", { cron: "*/5 * * * *" }, "m", NOW, MAX);
    expect(afterFiring(cron, NOW + 23 * 60_000)?.due).toBe(NOW + 25 * 60_000);
    expect(afterFiring(makeTimer("o", { afterMs: 1 }, "m", NOW, MAX), NOW + 1)).toBeUndefined();
  });

  it("round-trips through the core record and the durable record; a state without timers is stored as it was", () => {
    const timers = [makeTimer("a", { every: 10 }, { op: "x" }, NOW, MAX), makeTimer("b", { cron: "0 * * * *", tz: "UTC" }, 1, NOW, MAX)];
    const state = encodeValue({ n: 1 });
    expect(encodeTimerRecord(state, [])).toBe(state);
    const core = decodeTimerRecord(encodeTimerRecord(state, timers));
    expect(core).toEqual({ state: { n: 1 }, timers });
    expect(storedStateValue(encodeTimerRecord(state, timers))).toEqual({ n: 1 });
    expect(decodeTimerRecord(state)).toEqual({ state: { n: 1 }, timers: [] });
    const durable = decodeDurableRecord(encodeDurableRecord(state, new MailboxCursor(), timers));
    expect(durable.timers).toEqual(timers);
    expect(decodeDurableRecord(encodeDurableRecord(state, new MailboxCursor())).timers).toEqual([]);
  });

  const good = encodeTimers([makeTimer("a", { every: 10 }, "m", NOW, MAX)])[0] as unknown[];
  const with_ = (i: number, v: unknown) => [good.map((f, j) => (j === i ? v : f))];
  it.each([
    ["not a list", "x"],
    ["too many", Array.from({ length: MAX_TIMERS + 1 }, () => good)],
    ["short entry", [good.slice(0, 7)]],
    ["bad name", with_(0, "a.b")],
    ["repeated name", [good, good]],
    ["unknown kind", with_(1, "sometimes")],
    ["negative due", with_(2, -5)],
    ["every of 0", with_(3, 0)],
    ["cron on an every timer", with_(4, "* * * * *")],
    ["message that does not decode", with_(6, new Uint8Array([0xc1]))],
    ["fractional attempts", with_(7, 1.5)],
    ["bad cron", [["c", "cron", NOW, null, "nonsense", null, encodeValue(1), 0]]],
    ["bad time zone", [["c", "cron", NOW, null, "* * * * *", "Nowhere/Atlantis", encodeValue(1), 0]]],
  ])("refuses stored timers with %s as InvalidMessageError", (_what, raw) => {
    expect(() => decodeTimers(raw)).toThrow(InvalidMessageError);
  });

  it("refuses a core timer record of another version or shape", () => {
    const state = encodeValue(1);
    expect(() => decodeTimerRecord(encodeValue(["troupe/timers", 2, state, []]))).toThrow(InvalidMessageError);
    expect(() => decodeTimerRecord(encodeValue(["troupe/timers", 1, "not bytes", []]))).toThrow(InvalidMessageError);
    expect(() => decodeTimerRecord(encodeValue(["troupe/timers", 1, state, "x"]))).toThrow(InvalidMessageError);
  });

  it("refuses a due time past the last a Date can hold, and ends an every that would pass it", () => {
    expect(() => makeTimer("far", { afterMs: Number.MAX_SAFE_INTEGER }, 1, NOW, 1000)).toThrow(InvalidArgumentError);
    expect(() => makeTimer("far", { at: Number.MAX_SAFE_INTEGER }, 1, NOW, 1000)).toThrow(InvalidArgumentError);
    const huge = makeTimer("e", { every: 8.64e15 - NOW + 10, startAt: NOW }, 1, NOW, 1000);
    expect(afterFiring(huge, NOW + 1)).toBeUndefined();
    expect(() => decodeTimers(encodeTimers([{ ...huge, due: Number.MAX_SAFE_INTEGER }]))).toThrow(InvalidMessageError);
  });

  it("reads back a cron timer whose stored run is its last one (a pattern with a year)", () => {
    const once = makeTimer("once", { cron: "0 0 12 1 1 * 2027" }, 1, NOW, 1000);
    expect(new Date(once.due).toISOString()).toBe("2027-01-01T12:00:00.000Z");
    expect(decodeTimers(encodeTimers([once]))[0]!.due).toBe(once.due);
    expect(afterFiring(once, once.due)).toBeUndefined();
  });

  it("wraps a state that would read back as a record, even without timers", () => {
    const state = ["troupe/timers", "a", "b"];
    expect(decodeTimerRecord(encodeTimerRecord(encodeValue(state), []))).toEqual({ state, timers: [] });
    expect(decodeTimerRecord(encodeTimerRecord(encodeValue(["other"]), []))).toEqual({ state: ["other"], timers: [] });
  });
});
