// JSON arguments: `-` with a terminal on stdin is refused before anything waits for input, and
// what stdin or a file gives is read only up to the largest message NATS can carry.

import { describe, expect, it } from "vitest";
import { MAX_JSON_INPUT_BYTES, readJsonArg } from "./json-arg.js";

describe("readJsonArg", () => {
  it("refuses - when stdin is a terminal, saying how to pipe the JSON in", async () => {
    const tty = { isTTY: true } as unknown as NodeJS.ReadStream;
    await expect(readJsonArg("-", "MESSAGE", { stdin: tty })).rejects.toThrow(/MESSAGE is - \(stdin\), but stdin is a terminal: pipe the JSON in/);
  });

  it("parses text given inline, as before", async () => {
    await expect(readJsonArg('{"op":"inc"}', "MESSAGE")).resolves.toEqual({ op: "inc" });
    await expect(readJsonArg("{op:inc}", "MESSAGE")).rejects.toThrow(/MESSAGE is not valid JSON/);
  });

  it("stops reading stdin or a file past 64 MiB, the most a NATS message can carry, instead of holding it all", async () => {
    let served = 0;
    const endless = (async function* () {
      for (;;) {
        served++;
        yield Buffer.alloc(1024 * 1024, 0x20);
      }
    })();
    const stdin = Object.assign(endless, { isTTY: false }) as unknown as NodeJS.ReadStream;
    await expect(readJsonArg("-", "MESSAGE", { stdin })).rejects.toThrow(/MESSAGE on stdin is over 64 MiB, more than any NATS message can carry/);
    expect(served).toBe(MAX_JSON_INPUT_BYTES / (1024 * 1024) + 1);
    await expect(readJsonArg("@/dev/zero", "MESSAGE")).rejects.toThrow(/MESSAGE in \/dev\/zero is over 64 MiB/);
  });
});
