// Property tests of what a node decodes from the wire before it acts: the
// envelope (any bytes decode to a checked envelope or fail with
// InvalidMessageError, never another throw; every envelope the runtime encodes
// decodes back to itself), the control-request decoder (any body is a checked
// request or an InvalidArgumentError), reply subjects, and the rule that an
// error reply to any decodable message always fits the limit.
// Runs: FUZZ_RUNS (runtime/testing/fuzz.ts).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeValue } from "./codec.js";
import { ControlOp, decodeControl } from "./control.js";
import { decodeEnvelope, encodeEnvelope, encodeReply, EnvelopeLimits, Kind } from "./envelope.js";
import { InvalidArgumentError, InvalidMessageError, toWireError } from "./errors.js";
import { isReplySubject } from "./subjects.js";
import { fuzzOptions } from "./testing/fuzz.js";

const MAX = 64 * 1024;

/** Plain data as it arrives from the wire (what MessagePack can carry). */
const wireValue = fc.jsonValue({ maxDepth: 4 });

/** Arrays shaped roughly like envelopes, with each field sometimes wrong. */
const envelopeLike = fc.tuple(
  fc.oneof(fc.constant(1), fc.integer(), fc.string()),
  fc.oneof(fc.integer({ min: -1, max: 6 }), fc.double(), fc.string()),
  fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.constant(null)),
  fc.oneof(fc.constant(null), fc.string({ maxLength: 400 }), fc.integer()),
  fc.oneof(fc.constant(null), fc.string({ maxLength: 300 }), fc.boolean()),
  wireValue,
  fc.oneof(fc.constant(null), fc.constant(undefined), fc.tuple(fc.string(), fc.string(), fc.string()), fc.array(wireValue, { maxLength: 4 })),
);

function decodes(bytes: Uint8Array): "ok" | "refused" {
  try {
    decodeEnvelope(bytes, MAX);
    return "ok";
  } catch (err) {
    if (err instanceof InvalidMessageError) return "refused";
    throw err;
  }
}

describe("envelope decoder (property)", () => {
  it("any bytes decode to an envelope or fail with InvalidMessageError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void decodes(bytes)), fuzzOptions());
  });

  it("any envelope-shaped array decodes with bounded, typed fields or fails with InvalidMessageError", () => {
    fc.assert(
      fc.property(envelopeLike, (parts) => {
        const bytes = encodeValue(parts);
        if (decodes(bytes) === "refused") return;
        const env = decodeEnvelope(bytes, MAX);
        expect(typeof env.id).toBe("string");
        expect(env.id.length).toBeLessThanOrEqual(EnvelopeLimits.id);
        expect(env.sender === null || env.sender.length <= EnvelopeLimits.sender).toBe(true);
        expect(env.trace === null || env.trace.length <= EnvelopeLimits.trace).toBe(true);
        if (env.error) expect(Object.values(env.error).every((f) => typeof f === "string")).toBe(true);
      }),
      fuzzOptions(),
    );
  });

  it("what the runtime encodes decodes back to the same envelope", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Kind.Tell, Kind.Ask, Kind.Event, Kind.System),
        fc.string({ maxLength: EnvelopeLimits.id }),
        fc.option(fc.string({ maxLength: EnvelopeLimits.sender }), { nil: null }),
        wireValue,
        (kind, id, sender, body) => {
          let bytes: Uint8Array;
          try {
            bytes = encodeEnvelope(kind, id, sender, null, body, MAX);
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidMessageError); // refused up front, e.g. an own "__proto__" key
            return;
          }
          const env = decodeEnvelope(bytes, MAX);
          // The body comes back as it was sent (its JSON copy: -0 travels as the integer 0, as JSON writes it).
          expect(env).toEqual({ kind, id, sender, trace: null, body: JSON.parse(JSON.stringify(body)) as unknown });
        },
      ),
      fuzzOptions(),
    );
  });

  it("an error reply to any decodable message fits the limit, whatever the error says", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: EnvelopeLimits.id }), fc.string({ maxLength: 20_000 }), fc.string({ maxLength: 500 }), (id, message, name) => {
        const err = Object.assign(new Error(message), { name });
        const bytes = encodeReply(id, "t".repeat(EnvelopeLimits.sender), null, toWireError(err), 16 * 1024);
        expect(decodeEnvelope(bytes, 16 * 1024).error?.message.length).toBeLessThanOrEqual(4096);
      }),
      fuzzOptions(),
    );
  });
});

describe("control-request decoder (property)", () => {
  const controlLike = fc.oneof(
    wireValue,
    fc.record(
      {
        op: fc.oneof(fc.constantFrom(...ControlOp), fc.string(), fc.integer()),
        type: fc.oneof(fc.constantFrom("echo", "a-b_c"), fc.string({ maxLength: 200 }), fc.integer()),
        key: fc.oneof(fc.constantFrom("k1"), fc.string({ maxLength: 200 }), fc.constant(null)),
        id: fc.oneof(fc.constantFrom("echo/e1", "a/b/c", "/x"), fc.string(), fc.integer(), fc.constant(null)),
        supervisor: fc.oneof(fc.constant(undefined), fc.constantFrom("team/t1"), fc.string(), fc.integer()),
        restart: fc.oneof(fc.constant(undefined), fc.constantFrom("permanent", "transient", "temporary"), fc.string()),
        shutdownMs: fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 10_000 }), fc.double(), fc.string()),
        reason: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 3000 }), wireValue),
        args: wireValue,
      },
      { requiredKeys: ["op"] },
    ),
  );

  it("any body is a checked request or an InvalidArgumentError", () => {
    fc.assert(
      fc.property(controlLike, (body) => {
        let c;
        try {
          c = decodeControl(body);
        } catch (err) {
          if (err instanceof InvalidArgumentError) return;
          throw err;
        }
        expect(ControlOp).toContain(c.op);
        if ("id" in c) expect(c.id).toMatch(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/);
        if (c.op === "kill" && c.reason !== undefined) expect(c.reason.length).toBeLessThanOrEqual(1024);
        if (c.op === "spawn" && c.shutdownMs !== undefined) expect(c.shutdownMs).toBeGreaterThanOrEqual(0);
      }),
      fuzzOptions(),
    );
  });
});

describe("reply subjects (property)", () => {
  it("only inbox subjects without wildcards, spaces or empty tokens are accepted", () => {
    const token = fc.string({ unit: fc.constantFrom(..."aZ09_-$*> \t"), minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(fc.constant("_INBOX"), fc.constant("$KV"), fc.constant("troupe")), fc.array(token, { maxLength: 5 }), (head, tokens) => {
        const subject = [head, ...tokens].join(".");
        const ok = head === "_INBOX" && tokens.length > 0 && tokens.every((t) => t.length > 0 && !/[\s*>]/.test(t));
        expect(isReplySubject(subject)).toBe(ok);
      }),
      fuzzOptions(),
    );
  });
});
