// The envelope is decoded strictly: anything that is not a current Troupe envelope is refused with a reason.
import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeEnvelope, encodeReply, EnvelopeLimits, Kind, nextMessageId } from "./envelope.js";
import { encodeValue } from "./codec.js";
import { InvalidMessageError } from "./errors.js";

const MAX = 1 << 20;

describe("envelope", () => {
  it("round-trips a tell with its fields", () => {
    const env = decodeEnvelope(encodeEnvelope(Kind.Tell, "id1", "counter/a", "00-abc-def-01", { op: "inc" }, MAX), MAX);
    expect(env).toEqual({ kind: Kind.Tell, id: "id1", sender: "counter/a", trace: "00-abc-def-01", body: { op: "inc" } });
  });

  it("round-trips replies, with and without an error", () => {
    expect(decodeEnvelope(encodeReply("a1", null, 42, null, MAX), MAX)).toMatchObject({ kind: Kind.Reply, id: "a1", body: 42, error: null });
    const failed = decodeEnvelope(encodeReply("a2", "x/y", 1, { name: "TypeError", code: "REMOTE_ERROR", message: "boom" }, MAX), MAX);
    expect(failed.error).toEqual({ name: "TypeError", code: "REMOTE_ERROR", message: "boom" });
    expect(failed.body).toBeNull();
  });

  it.each([
    ["bytes that are not MessagePack", new Uint8Array([0xc1]), "does not decode"],
    ["a value that is not an envelope", encodeValue({ op: "inc" }), "not a Troupe envelope"],
    ["another version", encodeValue([2, 0, "id", null, null, 1]), "unsupported envelope version 2"],
    ["an unknown kind", encodeValue([1, 9, "id", null, null, 1]), "unknown message kind 9"],
    ["no message id", encodeValue([1, 0, 5, null, null, 1]), "message id is missing"],
    ["a sender that is not a string", encodeValue([1, 0, "id", 7, null, 1]), "sender is not a string"],
    ["a malformed reply error", encodeValue([1, 4, "id", null, null, null, ["x"]]), "malformed error"],
    ["a reply error with fields that are not strings", encodeValue([1, 4, "id", null, null, null, ["x", 1, { m: 1 }]]), "malformed error"],
    ["an id over its limit", encodeValue([1, 1, "i".repeat(129), null, null, 1]), "message id is 129 characters, over the 128-character limit"],
    ["a sender over its limit", encodeValue([1, 1, "id", "s".repeat(301), null, 1]), "sender is 301 characters"],
    ["a trace over its limit", encodeValue([1, 1, "id", null, "t".repeat(257), 1]), "trace context is 257 characters"],
  ])("refuses %s", (_what, bytes, reason) => {
    expect(() => decodeEnvelope(bytes, MAX)).toThrow(InvalidMessageError);
    expect(() => decodeEnvelope(bytes, MAX)).toThrow(reason);
  });

  it("makes message ids that are unique and short (each is sent in the ask and again in its reply)", () => {
    const ids = Array.from({ length: 100_000 }, () => nextMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !/^[0-9a-zA-Z]{11,14}$/.test(id))).toEqual([]);
    expect(nextMessageId().length).toBeLessThan(EnvelopeLimits.id);
  });

  it("refuses messages over the limit on both sides", () => {
    expect(() => encodeEnvelope(Kind.Tell, "i", null, null, "x".repeat(200), 100)).toThrow(/over the 100-byte limit/);
    const bytes = encodeEnvelope(Kind.Tell, "i", null, null, "x".repeat(200), MAX);
    expect(() => decodeEnvelope(bytes, 100)).toThrow(/over the 100-byte limit/);
  });

  it("refuses values MessagePack cannot carry", () => {
    expect(() => encodeEnvelope(Kind.Tell, "i", null, null, { f: () => 1 }, MAX)).toThrow(InvalidMessageError);
  });
});
