// The mailbox is a bounded FIFO: order kept, capacity enforced, nothing lost on compaction.
import { describe, expect, it } from "vitest";
import { Mailbox } from "./mailbox.js";

describe("Mailbox", () => {
  it("keeps FIFO order across compaction", () => {
    const m = new Mailbox<number>(100_000);
    for (let i = 0; i < 5000; i++) m.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(m.shift()!);
    for (let i = 5000; i < 6000; i++) m.push(i);
    let v: number | undefined;
    while ((v = m.shift()) !== undefined) out.push(v);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(m.size).toBe(0);
  });

  it("refuses a message past capacity and keeps the rest", () => {
    const m = new Mailbox<string>(2);
    expect(m.push("a")).toBe(true);
    expect(m.push("b")).toBe(true);
    expect(m.push("c")).toBe(false);
    expect(m.full).toBe(true);
    expect(m.takeAll()).toEqual(["a", "b"]);
    expect(m.size).toBe(0);
  });
});
