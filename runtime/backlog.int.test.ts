// Backlogs: a mailbox is bounded in bytes as well as in messages (per agent and
// for the node as a whole), so a flood of large messages to a slow agent cannot
// exhaust a node's heap; and a backlog of synchronous messages is drained in
// slices that yield to the event loop, so a busy node keeps its heartbeats.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { defineAgent } from "./define-agent.js";
import { TURN_MESSAGES } from "./turn-budget.js";
import { encodeValue } from "./codec.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import { MailboxFullError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { startVictim, type Victim } from "./testing/hostile/victim.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
let seq = 0;
const open: TroupeNode[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close().catch(() => {});
});

let gate: Promise<void> = Promise.resolve();
let openGate: () => void = () => {};
function closeGate(): void {
  gate = new Promise<void>((resolve) => (openGate = resolve));
}

/** Holds its mailbox while the gate is closed (an async receive), then handles the rest synchronously. */
const held = defineAgent({
  type: "held",
  persist: false,
  mailboxBytes: 64 * 1024,
  receive(msg: { wait?: boolean }) {
    return msg.wait ? gate.then(() => "opened") : "ok";
  },
});

/** Turns of the event loop counted by the backlog test, and the turn each message was handled in. */
let turns = 0;
const handledInTurn: number[] = [];

/** A persisted agent whose every message takes a fraction of a millisecond of work (it reads its 55 KB history). */
const heavy = defineAgent({
  type: "heavy",
  state: () => ({ n: 0, blob: "b".repeat(55_000) }),
  receive(msg: { wait?: boolean; get?: boolean }, ctx) {
    if (msg.wait) return gate.then(() => ctx.state.n);
    if (!msg.get) {
      let words = 0;
      for (let i = 0; i < ctx.state.blob.length; i += 8) if (ctx.state.blob.charCodeAt(i) === 98) words++;
      ctx.state.n += words > 0 ? 1 : 0;
      handledInTurn.push(turns);
    }
    return ctx.state.n;
  },
});

async function node(options: Parameters<typeof startNode>[0] = {}): Promise<TroupeNode> {
  const n = await startNode({ servers: nats.url, namespace: `backlog${++seq}`, agents: [held, heavy], ...options });
  open.push(n);
  return n;
}

describe("mailbox byte bounds", () => {
  it("refuses a message past the agent's mailboxBytes with MailboxFullError, and takes messages again once drained", async () => {
    const n = await node();
    const ref = await n.spawn("held", { key: "h" });
    closeGate();
    const first = ref.ask({ wait: true });
    const pad = "p".repeat(20_000);
    const asks = Array.from({ length: 6 }, () => ref.ask({ pad }).then(() => "ok", (e: unknown) => e));
    // The last three are refused at once, while the first still holds the mailbox.
    const results = await Promise.all(asks.slice(3));
    for (const r of results) {
      expect(r).toBeInstanceOf(MailboxFullError);
      expect((r as Error).message).toMatch(/bytes waiting, its limit is 65536/);
    }
    openGate();
    expect(await first).toBe("opened");
    expect(await Promise.all(asks.slice(0, 3))).toEqual(["ok", "ok", "ok"]);
    expect(await ref.ask({ pad })).toBe("ok");
    const [row] = await n.list();
    expect(row!.rejected).toBe(3);
    expect(row!.mailboxBytes).toBe(0);
  });

  it("shares the node's mailboxBytes between all its agents", async () => {
    const n = await node({ mailboxBytes: 100_000 });
    const a = await n.spawn("held", { key: "a" });
    const b = await n.spawn("held", { key: "b" });
    closeGate();
    const firsts = [a.ask({ wait: true }), b.ask({ wait: true })];
    const pad = "p".repeat(30_000);
    const queued = [a, a, b, b].map((r) => r.ask({ pad }).then(() => "ok", (e: unknown) => e));
    const refused = await queued[3]!; // refused at once, while the gate still holds both mailboxes
    expect(refused).toBeInstanceOf(MailboxFullError);
    expect((refused as Error).message).toMatch(/the node's mailboxes hold \d+ bytes, its limit is 100000/);
    openGate();
    await Promise.all(firsts);
    expect(await Promise.all(queued.slice(0, 3))).toEqual(["ok", "ok", "ok"]);
  });
});

describe("a flood of 1 MiB tells to a slow agent on a node with a 256 MB heap", () => {
  let victim: Victim;
  let client: TroupeNode;
  let raw: NatsConnection;
  const NS = "flood";
  beforeAll(async () => {
    victim = await startVictim({ servers: nats.url, namespace: NS, name: "victim", nodeArgs: ["--max-old-space-size=256"] });
    client = await startNode({ servers: nats.url, namespace: NS, name: "sender", failover: false });
    raw = await connectTo(nats.url, "flooder");
    await client.spawn("sleeper", { key: "z" });
    await client.spawn("echo", { key: "e" });
  }, 60_000);
  afterAll(async () => {
    await raw?.close();
    await client?.close();
    await victim?.stop();
  });

  it("keeps the node alive: what does not fit is refused, and it serves on", async () => {
    const subject = new Subjects(NS).agent("sleeper", "z");
    const echo = new Subjects(NS).agent("echo", "e");
    const pad = "x".repeat(1_000_000);
    // The first message keeps the sleeper busy for the whole flood.
    raw.publish(subject, encodeEnvelope(Kind.Tell, "t0", null, null, { ms: 60_000 }, 1 << 20));
    for (let i = 1; i <= 400; i++) {
      raw.publish(subject, encodeEnvelope(Kind.Tell, `t${i}`, null, null, { ms: 1, pad }, 1 << 20));
      // Paced, as a steady producer would send: a round trip to the victim every 10 messages
      // (over the same connection, so it has read what came before), which keeps the
      // server from cutting it off as a slow consumer.
      if (i % 10 === 0) await raw.request(echo, encodeEnvelope(Kind.Ask, `p${i}`, null, null, "sync", 1 << 20), { timeout: 10_000 });
    }
    await raw.flush();
    const row = await waitFor(
      async () => {
        const r = (await client.listAll()).agents.find((a) => a.id === "sleeper/z");
        return r && r.mailbox + r.rejected >= 400 ? r : undefined;
      },
      "every tell counted as queued or refused",
      60_000,
    );
    expect(victim.ended, victim.stderr).toBeUndefined();
    expect(row.rejected).toBeGreaterThan(300);
    expect(row.mailboxBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(await client.ref("echo", "e").ask("still here", { timeoutMs: 5000 })).toBe("still here");
  }, 120_000);

  it("counts what a mailbox holds as bytes, not as what they would decode to (1 MB of `{}` is 64 MB decoded)", async () => {
    await client.spawn("sleeper", { key: "z2" });
    const subject = new Subjects(NS).agent("sleeper", "z2");
    const echo = new Subjects(NS).agent("echo", "e");
    raw.publish(subject, encodeEnvelope(Kind.Tell, "x0", null, null, { ms: 60_000 }, 1 << 20));
    const expanding = encodeValue([1, Kind.Tell, "x", null, null, new Array(1_000_000).fill({})]); // 0x80 per {}: one byte each
    for (let i = 1; i <= 40; i++) {
      raw.publish(subject, expanding);
      if (i % 5 === 0) await raw.request(echo, encodeEnvelope(Kind.Ask, `q${i}`, null, null, "sync", 1 << 20), { timeout: 10_000 });
    }
    const row = await waitFor(
      async () => {
        const r = (await client.listAll()).agents.find((a) => a.id === "sleeper/z2");
        return r && r.mailbox + r.rejected >= 40 ? r : undefined;
      },
      "every message counted as queued or refused",
      60_000,
    );
    expect(victim.ended, victim.stderr).toBeUndefined();
    expect(row.mailboxBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(await client.ref("echo", "e").ask("still here", { timeoutMs: 5000 })).toBe("still here");
  }, 120_000);
});

describe("a backlog of synchronous messages", () => {
  it("yields to the event loop while it drains, on the turn budget (TURN_MS) the node shares", async () => {
    const n = await node();
    const ref = await n.spawn("heavy", { key: "h" });
    closeGate();
    const first = ref.ask({ wait: true });
    const sender = await node({ namespace: n.namespace, name: "sender" });
    const remote = sender.ref("heavy", "h");
    for (let i = 0; i < 5000; i++) await remote.tell({});
    const done = remote.ask<number>({ get: true }, { timeoutMs: 60_000 });
    await waitFor(async () => (await n.list()).find((a) => a.id === "heavy/h")!.mailbox === 5001, "the backlog to be queued");
    // Count turns of the event loop while the backlog drains, and how many messages each turn handled.
    let draining = true;
    const spin = (): void => {
      turns++;
      if (draining) setImmediate(spin);
    };
    openGate();
    setImmediate(spin);
    expect(await first).toBe(0);
    expect(await done).toBe(5000);
    draining = false;
    const perTurn = new Map<number, number>();
    for (const t of handledInTurn) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(handledInTurn).toHaveLength(5000);
    // Each message scans a 55 KB string through ctx.state (a fraction of a
    // millisecond: the 5000 take a second or more), so the 50 ms turn budget ends
    // turns long before the backlog does, where a loop that never yields handles all 5000 in one.
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(TURN_MESSAGES);
    expect(perTurn.size).toBeGreaterThanOrEqual(3);
  });
});
