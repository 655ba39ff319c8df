import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { PAYLOAD_BYTES, payload } from "./payload.js";

describe("payload", () => {
  it.each([0, 1, 127, 128, 255, 256, 65_535, 65_536, 1_000_000, 2 ** 32, 1.5])("is 128 bytes with n = %s", (n) => {
    for (const op of ["echo", "inc", "read"]) {
      const p = payload(op, n);
      expect(encode(p).length).toBe(PAYLOAD_BYTES);
      expect(p.n).toBe(n);
      expect(p.op).toBe(op);
    }
  });
});
