import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { historyOfSize } from "./history-state.js";

describe("historyOfSize", () => {
  it.each([100, 1_000, 50 * 1024])("encodes to %s bytes", (bytes) => {
    const s = historyOfSize(bytes);
    expect(encode(s).length).toBe(bytes);
    expect(s.turns.length).toBeGreaterThan(0);
  });

  it("is made of turns of about 500 bytes", () => {
    expect(historyOfSize(50 * 1024).turns.length).toBeGreaterThan(90);
  });
});
