// The codec carries plain data faithfully and refuses what MessagePack would
// turn into something else (a Map into `{}`), with InvalidMessageError.
import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue } from "./codec.js";
import { InvalidMessageError } from "./errors.js";

describe("codec", () => {
  it("round-trips plain data, binary (also a Buffer) and dates", () => {
    expect(decodeValue(encodeValue({ b: Buffer.from([9, 8]) }))).toEqual({ b: new Uint8Array([9, 8]) });
    const value = { s: "x", n: -1.5, i: 2 ** 40, b: true, z: null, a: [1, "two", { three: 3 }], bin: new Uint8Array([1, 2, 3]), at: new Date(1_700_000_000_123) };
    expect(decodeValue(encodeValue(value))).toEqual(value);
  });

  it.each([
    ["a Map", new Map([["k", 1]]), /a Map cannot be encoded faithfully/],
    ["a Set", new Set([1]), /a Set cannot/],
    ["a Promise", Promise.resolve(1), /a Promise \(await it first\)/],
    ["a thenable", { then: () => undefined }, /a Promise/],
    ["a WeakMap", new WeakMap(), /a WeakMap or WeakSet/],
    ["an Error", new Error("boom"), /an Error cannot/],
    ["a RegExp", /x/, /a RegExp cannot/],
    ["a function", () => 1, /a function cannot/],
    ["a bare ArrayBuffer", new ArrayBuffer(4), /an ArrayBuffer/],
    ["a Float64Array", new Float64Array([1.5]), /a Float64Array \(send a Uint8Array/],
    ["a DataView", new DataView(new ArrayBuffer(2)), /a DataView/],
    ["a Map deep inside", { a: [{ b: new Map() }] }, /a Map/],
    ["a bigint", 10n, /cannot be encoded as MessagePack/],
    ["an own __proto__ key (it could not be decoded)", JSON.parse('{"a":{"__proto__":{"x":1}}}'), /own "__proto__" key/],
  ])("refuses %s", (_what, value, reason) => {
    expect(() => encodeValue(value)).toThrow(InvalidMessageError);
    expect(() => encodeValue(value)).toThrow(reason);
  });

  it("refuses bytes that use the extension type it reserves", () => {
    const ext = new Uint8Array([0xd4, 0x00, 0x01]); // fixext 1, type 0
    expect(() => decodeValue(ext)).toThrow(InvalidMessageError);
  });
});
