// Property tests of what memory accepts before any I/O: keys and patterns
// (valid or InvalidKeyError, never another throw; an accepted key fits every
// subject the KV client builds from it) and the value codec (stored bytes decode
// to the value or fail with ValueDecodeError; JSON-like values round-trip).
// Runs: FUZZ_RUNS (runtime/testing/fuzz.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, InvalidKeyError, ValueDecodeError, ValueTooLargeError } from "../errors.js";
import { MAX_SUBJECT_LENGTH, Subjects } from "../subjects.js";
import { fuzzOptions } from "../testing/fuzz.js";
import { keyMatcher, MAX_KEY_LENGTH, validateKey, validatePattern } from "./keys.js";
import { decodeMemoryValue, encodeMemoryValue } from "./value.js";

/** Strings mostly made of key characters, some very long, plus anything at all. */
const keyLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."ab09._-/=*> "), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(..."ab."), minLength: MAX_KEY_LENGTH - 5, maxLength: MAX_KEY_LENGTH + 5 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.anything(),
);

function outcome(f: () => unknown, allowed: ReadonlyArray<new (...args: never[]) => Error>): "ok" | "refused" {
  try {
    f();
    return "ok";
  } catch (err) {
    if (allowed.some((E) => err instanceof E)) return "refused";
    throw err;
  }
}

describe("memory keys (property)", () => {
  it("a key or pattern is accepted or refused with InvalidKeyError, nothing else", () => {
    fc.assert(
      fc.property(keyLike, (k) => {
        outcome(() => validateKey(k as string), [InvalidKeyError]);
        outcome(() => validatePattern(k as string), [InvalidKeyError]);
      }),
      fuzzOptions(),
    );
  });

  it("an accepted key fits every subject the KV client builds from it, in the longest bucket name", () => {
    const bucket = new Subjects("n".repeat(64)).memoryBucket("b".repeat(128));
    fc.assert(
      fc.property(keyLike, (k) => {
        const key = k as string;
        if (outcome(() => validatePattern(key), [InvalidKeyError]) === "refused") return;
        expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
        const subject = `$KV.${bucket}.${key}`;
        for (const s of [subject, `$JS.API.DIRECT.GET.KV_${bucket}.${subject}`, `$JS.API.CONSUMER.CREATE.KV_${bucket}.${"c".repeat(32)}.${subject}`]) {
          expect(s.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
        }
      }),
      fuzzOptions<[unknown]>({ examples: [["k".repeat(MAX_KEY_LENGTH)]] }),
    );
  });

  it("an accepted key matches itself and '>', and is a valid pattern", () => {
    fc.assert(
      fc.property(keyLike, (k) => {
        const key = k as string;
        if (outcome(() => validateKey(key), [InvalidKeyError]) === "refused") return;
        expect(validatePattern(key)).toBe(key);
        expect(keyMatcher(key)(key)).toBe(true);
        expect(keyMatcher(">")(key)).toBe(true);
      }),
      fuzzOptions(),
    );
  });
});

describe("memory values (property)", () => {
  it("any stored bytes decode to a value or fail with ValueDecodeError naming the key", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          decodeMemoryValue("k", bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(ValueDecodeError);
          expect((err as ValueDecodeError).key).toBe("k");
        }
      }),
      fuzzOptions(),
    );
  });

  it("JSON-like values round-trip through encode and decode, or are refused when stored", () => {
    const protoKey = JSON.parse('{"a": [1, {"__proto__": {"polluted": true}}]}') as unknown;
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeMemoryValue("k", v, 1024 * 1024);
        } catch (err) {
          // The one JSON value MessagePack cannot read back: an object with an own "__proto__" key.
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect(JSON.stringify(v)).toContain('"__proto__"');
          return;
        }
        // MessagePack, like JSON, has one zero: -0 comes back as 0.
        expect(decodeMemoryValue("k", bytes)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      fuzzOptions({ examples: [[protoKey], [{ text: "__proto__" }]] }),
    );
  });

  it("encoding anything gives bytes or a typed refusal (not encodable, too large)", () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true }), fc.integer({ min: 1, max: 64 }), (v, limit) => {
        outcome(() => encodeMemoryValue("k", v, limit), [InvalidArgumentError, ValueTooLargeError]);
      }),
      fuzzOptions(),
    );
  });
});
