// The durable record round-trips state, sequence, a failing message and the
// outcomes of keyed asks; a value stored before the type was durable is the
// state at sequence 0; a malformed record is refused with a typed error.

import { describe, expect, it } from "vitest";
import { encodeValue } from "../codec.js";
import { InvalidMessageError, wireError } from "../errors.js";
import { decodeDurableRecord, encodeDurableRecord, MailboxCursor, OUTCOME_BYTES_KEPT, OUTCOME_NOT_KEPT, OUTCOMES_KEPT } from "./durable-record.js";

describe("durable record", () => {
  it("round-trips state, sequence, a failing message and outcomes", () => {
    const cursor = new MailboxCursor();
    cursor.seq = 41;
    cursor.failing = { seq: 42, attempts: 2, reason: "boom" };
    cursor.remember("a", { value: { n: 1 }, error: null });
    cursor.remember("b", { value: null, error: wireError("RemoteError", "REMOTE_ERROR", "boom", { remoteCode: "X" }) });
    const got = decodeDurableRecord(encodeDurableRecord(encodeValue({ count: 7 }), cursor));
    expect(got.state).toEqual({ count: 7 });
    expect(got.cursor.seq).toBe(41);
    expect(got.cursor.failing).toEqual({ seq: 42, attempts: 2, reason: "boom" });
    expect(got.cursor.outcome("a")).toEqual({ value: { n: 1 }, error: null });
    expect(got.cursor.outcome("b")?.error).toMatchObject({ name: "RemoteError", code: "REMOTE_ERROR", message: "boom", fields: { remoteCode: "X" } });
  });

  it("keeps only the newest outcomes", () => {
    const cursor = new MailboxCursor();
    for (let i = 0; i < OUTCOMES_KEPT + 10; i++) cursor.remember(`k${i}`, { value: i, error: null });
    const got = decodeDurableRecord(encodeDurableRecord(encodeValue(null), cursor)).cursor;
    expect(got.outcome("k0")).toBeUndefined();
    expect(got.outcome("k9")).toBeUndefined();
    expect(got.outcome("k10")).toEqual({ value: 10, error: null });
    expect(got.outcome(`k${OUTCOMES_KEPT + 9}`)).toEqual({ value: OUTCOMES_KEPT + 9, error: null });
  });

  it("takes a value stored before the type was durable as its state, at sequence 0", () => {
    const got = decodeDurableRecord(encodeValue({ count: 3 }));
    expect(got.state).toEqual({ count: 3 });
    expect(got.stateBytes).toBeUndefined();
    expect(got.cursor.seq).toBe(0);
  });

  it.each([
    ["another version", ["troupe/durable", 2, new Uint8Array([0xc0]), 1, null, []]],
    ["no state bytes", ["troupe/durable", 1, "x", 1, null, []]],
    ["a negative sequence", ["troupe/durable", 1, new Uint8Array([0xc0]), -1, null, []]],
    ["a malformed failing entry", ["troupe/durable", 1, new Uint8Array([0xc0]), 1, [1], []]],
    ["malformed outcomes", ["troupe/durable", 1, new Uint8Array([0xc0]), 1, null, {}]],
    ["a malformed outcome", ["troupe/durable", 1, new Uint8Array([0xc0]), 1, null, [[1, 2, 3]]]],
    ["a malformed error outcome", ["troupe/durable", 1, new Uint8Array([0xc0]), 1, null, [["k", null, ["a"]]]]],
  ])("refuses a record with %s", (_what, record) => {
    expect(() => decodeDurableRecord(encodeValue(record))).toThrow(InvalidMessageError);
  });
});

describe("outcomes kept within a byte budget", () => {
  it("forgets the oldest past OUTCOME_BYTES_KEPT, and remembers an answer over it as not kept", () => {
    const cursor = new MailboxCursor();
    const big = "x".repeat(64 * 1024);
    for (let i = 0; i < 10; i++) cursor.remember(`k${i}`, { value: big, error: null });
    const bytes = encodeDurableRecord(new Uint8Array(0), cursor).length;
    expect(bytes).toBeLessThanOrEqual(OUTCOME_BYTES_KEPT + 1024);
    expect(cursor.outcome("k0")).toBeUndefined();
    expect(cursor.outcome("k9")).toEqual({ value: big, error: null });
    cursor.remember("huge", { value: "y".repeat(OUTCOME_BYTES_KEPT + 1), error: null });
    expect(cursor.outcome("huge")).toMatchObject({ value: null, error: { name: OUTCOME_NOT_KEPT } });
    const back = decodeDurableRecord(encodeDurableRecord(encodeValue(null), cursor)).cursor;
    expect(back.outcome("huge")?.error?.name).toBe(OUTCOME_NOT_KEPT);
  });
});
