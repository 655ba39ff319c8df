// The mailbox is a bounded FIFO: order kept, count and byte bounds enforced, nothing lost on compaction.
import { describe, expect, it } from "vitest";
import { Mailbox, MailboxBudget } from "./mailbox.js";

describe("Mailbox", () => {
  it("keeps FIFO order across compaction", () => {
    const m = new Mailbox<number>(100_000);
    for (let i = 0; i < 5000; i++) m.offer(i, 1);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(m.shift()!);
    for (let i = 5000; i < 6000; i++) m.offer(i, 1);
    expect(m.bytes).toBe(3000);
    let v: number | undefined;
    while ((v = m.shift()) !== undefined) out.push(v);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
  });

  it("refuses a message past capacity and keeps the rest", () => {
    const m = new Mailbox<string>(2);
    expect(m.offer("a")).toBeNull();
    expect(m.offer("b")).toBeNull();
    expect(m.offer("c")).toBe("count");
    expect(m.full).toBe(true);
    expect(m.takeAll()).toEqual(["a", "b"]);
    expect(m.size).toBe(0);
  });

  it("refuses a message past its byte bound, and takes smaller ones again once drained", () => {
    const m = new Mailbox<string>(100, 1000);
    expect(m.offer("a", 600)).toBeNull();
    expect(m.offer("b", 600)).toBe("bytes");
    expect(m.offer("c", 400)).toBeNull();
    expect(m.bytes).toBe(1000);
    expect(m.shift()).toBe("a");
    expect(m.offer("d", 600)).toBeNull();
    expect(m.takeAll()).toEqual(["c", "d"]);
    expect(m.bytes).toBe(0);
  });

  it("shares one node-wide byte budget between mailboxes", () => {
    const budget = new MailboxBudget(1000);
    const a = new Mailbox<string>(100, 800, budget);
    const b = new Mailbox<string>(100, 800, budget);
    expect(a.offer("a1", 700)).toBeNull();
    expect(b.offer("b1", 400)).toBe("node");
    expect(b.offer("b2", 300)).toBeNull();
    expect(budget.used).toBe(1000);
    a.shift();
    expect(budget.used).toBe(300);
    expect(b.offer("b3", 400)).toBeNull();
    b.takeAll();
    expect(budget.used).toBe(0);
  });
});
