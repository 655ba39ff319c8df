// JSON arguments: `-` with a terminal on stdin is refused before anything waits for input.

import { describe, expect, it } from "vitest";
import { readJsonArg } from "./json-arg.js";

describe("readJsonArg", () => {
  it("refuses - when stdin is a terminal, saying how to pipe the JSON in", async () => {
    const tty = { isTTY: true } as unknown as NodeJS.ReadStream;
    await expect(readJsonArg("-", "MESSAGE", { stdin: tty })).rejects.toThrow(/MESSAGE is - \(stdin\), but stdin is a terminal: pipe the JSON in/);
  });

  it("parses text given inline, as before", async () => {
    await expect(readJsonArg('{"op":"inc"}', "MESSAGE")).resolves.toEqual({ op: "inc" });
    await expect(readJsonArg("{op:inc}", "MESSAGE")).rejects.toThrow(/MESSAGE is not valid JSON/);
  });
});
