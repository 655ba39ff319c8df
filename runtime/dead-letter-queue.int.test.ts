// The dead-letter queue of a light client against a real server: dead letters
// made the real way (the fixture's gate agent throws on adds while closed;
// bytes that do not decode), listed newest-first in windows, read, replayed,
// deleted and purged; records that are not dead letters are listed as
// undecodable and never throw.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { gate } from "../cli/fixtures/gate-agents.js";
import { connectClient, type TroupeClient } from "./client.js";
import { isRawBody, type DeadLetterEntry, type StoredDeadLetter } from "./dead-letter-record.js";
import { encodeEnvelope, Kind } from "./envelope.js";
import {
  AgentNotFoundError,
  DeadLetterNotFoundError,
  DeadLetterNotReplayableError,
  InvalidArgumentError,
  NamespaceNotFoundError,
} from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();

const letters = (entries: readonly DeadLetterEntry[]): StoredDeadLetter[] =>
  entries.filter((e): e is StoredDeadLetter => e.kind === "letter");

describe("the dead-letter queue of a light client", () => {
  const namespace = "dlq-queue";
  const subjects = new Subjects(namespace);
  let node: TroupeNode;
  let client: TroupeClient;
  let raw: NatsConnection;

  /** Wait until the stream holds `n` dead letters of `agent` (or of all). */
  const stored = (n: number, agent?: string) =>
    waitFor(async () => (await client.deadLetters.list({ agent, limit: 1 })).total === n, `${n} dead letters${agent ? ` of ${agent}` : ""}`);

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace, name: "dlq-host", agents: [gate] });
    client = await connectClient({ servers: nats.url, namespace, name: "dlq-client" });
    raw = await connectTo(nats.url);
  });
  afterAll(async () => {
    await client?.close();
    await node?.close();
    await raw?.close();
  });

  it("lists nothing in a namespace without dead letters", async () => {
    expect(await client.deadLetters.list()).toEqual({ letters: [], total: 0, more: 0 });
  });

  it("lists the newest letters oldest first, says how many are left out, and filters by agent", async () => {
    await client.spawn("gate", { key: "a" });
    await client.spawn("gate", { key: "b" });
    // Interleaved: a1 b1 a2 b2 ... a6 b6; each add fails and restarts its gate.
    for (let i = 1; i <= 6; i++) {
      await client.ref("gate/a").tell({ op: "add", n: i });
      await client.ref("gate/b").tell({ op: "add", n: 100 + i });
    }
    await stored(12);

    const all = await client.deadLetters.list({ limit: 5 });
    expect(all.total).toBe(12);
    expect(all.more).toBe(7);
    expect(all.letters.map((e) => e.seq)).toEqual([...all.letters.map((e) => e.seq)].sort((x, y) => x - y));
    expect(letters(all.letters)).toHaveLength(5);

    const a = await client.deadLetters.list({ agent: "gate/a", limit: 4 });
    expect(a).toMatchObject({ total: 6, more: 2 });
    expect(letters(a.letters).map((l) => [l.to, (l.body as { n: number }).n])).toEqual([
      ["gate/a", 3],
      ["gate/a", 4],
      ["gate/a", 5],
      ["gate/a", 6],
    ]);
    const first = letters(a.letters)[0]!;
    expect(first).toMatchObject({ kind: "letter", reason: "gate closed, add 3 refused", messageType: "add", sender: "client:dlq-client", node: "dlq-host" });
    expect(first.deliveries).toBeUndefined();

    const b = await client.deadLetters.list({ agent: "gate/b" });
    expect(b).toMatchObject({ total: 6, more: 0 });
    expect(letters(b.letters).map((l) => (l.body as { n: number }).n)).toEqual([101, 102, 103, 104, 105, 106]);

    const scanned: DeadLetterEntry[] = [];
    for await (const e of client.deadLetters.scan({ agent: "gate/b" })) scanned.push(e);
    expect(letters(scanned).map((l) => (l.body as { n: number }).n)).toEqual([101, 102, 103, 104, 105, 106]);
  });

  it("replays to the same agent, which then handles the message, and deletes the letter", async () => {
    await client.ref("gate/a").tell({ op: "open" });
    await waitFor(async () => (await client.ref("gate/a").ask({ op: "sum" })) === 0, "gate/a open");
    const newest = letters((await client.deadLetters.list({ agent: "gate/a", limit: 1 })).letters)[0]!;
    expect(await client.deadLetters.replay(newest.seq)).toEqual({ seq: newest.seq, from: "gate/a", to: "gate/a", kept: false });
    expect(await client.ref("gate/a").ask({ op: "sum" })).toBe(6);
    await expect(client.deadLetters.get(newest.seq)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    expect((await client.deadLetters.list({ agent: "gate/a" })).total).toBe(5);
  });

  it("replays to another agent with `to`, and keeps the letter with `keep`", async () => {
    await client.spawn("gate", { key: "c" });
    await client.ref("gate/c").tell({ op: "open" });
    const oldest = letters((await client.deadLetters.list({ agent: "gate/b" })).letters)[0]!;
    expect(await client.deadLetters.replay(oldest.seq, { to: "gate/c", keep: true })).toEqual({ seq: oldest.seq, from: "gate/b", to: "gate/c", kept: true });
    expect(await client.ref("gate/c").ask({ op: "sum" })).toBe(101);
    expect(await client.deadLetters.get(oldest.seq)).toMatchObject({ kind: "letter", to: "gate/b", body: { op: "add", n: 101 } });
  });

  it("leaves the letter in place when the target does not run", async () => {
    const oldest = letters((await client.deadLetters.list({ agent: "gate/b" })).letters)[0]!;
    await expect(client.deadLetters.replay(oldest.seq, { to: "gate/nobody" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(await client.deadLetters.get(oldest.seq)).toMatchObject({ seq: oldest.seq });
    await expect(client.deadLetters.replay(oldest.seq, { to: "not an id" })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("lists hostile records as undecodable and refuses to replay them or a message that never decoded", async () => {
    const before = (await client.deadLetters.list({ limit: 1000 })).total;
    const forged = (body: unknown, kind: Kind = Kind.Event) => encodeEnvelope(kind, "x", "forger", null, body, Number.MAX_SAFE_INTEGER);
    raw.publish(subjects.deadLetter("gate", "a"), new TextEncoder().encode("not msgpack at all \u001b[31m"));
    raw.publish(subjects.deadLetter("gate", "a"), forged({ to: "gate/a" }, Kind.Tell));
    raw.publish(subjects.deadLetter("gate", "a"), forged({ to: "gate/a", reason: 7, node: "n", messageType: null, sender: null, messageId: null, at: 1 }));
    raw.publish(subjects.deadLetter("gate", "a"), forged({ to: "gate/b", reason: "r", node: "n", messageType: null, sender: null, messageId: "m", at: 1, body: 1 }));
    raw.publish(subjects.deadLetter("gate", "a"), forged({ to: "gate/a", reason: "poison", node: "n", messageType: "add", sender: null, messageId: "m", at: 1, body: { op: "add", n: 1 }, deliveries: 0 }));
    raw.publish(subjects.deadLetter("gate", "a"), forged({ to: "gate/a", reason: "poison", node: "n", messageType: "add", sender: null, messageId: "m", at: 1, body: { op: "add", n: 1 }, deliveries: 5 }));
    // Bytes that are no envelope, sent to the agent: the node dead-letters them raw.
    raw.publish(subjects.agent("gate", "a"), new Uint8Array([0xc1, 0xc1, 0xc1]));
    await stored(before + 7);

    const newest = (await client.deadLetters.list({ limit: 7 })).letters;
    expect(newest.map((e) => (e.kind === "undecodable" ? e.problem : "letter"))).toEqual([
      expect.stringContaining("does not decode as MessagePack"),
      "not a dead-letter record (envelope kind 0)",
      'field "reason" is not a string',
      'the record names "gate/b" but was stored under gate/a',
      'field "deliveries" is not a whole number above 0',
      "letter",
      "letter",
    ]);
    expect(newest[5]).toMatchObject({ kind: "letter", deliveries: 5, reason: "poison" });
    const rawLetter = newest[6] as StoredDeadLetter;
    expect(isRawBody(rawLetter)).toBe(true);
    expect(rawLetter.body).toEqual(new Uint8Array([0xc1, 0xc1, 0xc1]));

    for (const e of [newest[0]!, rawLetter]) {
      expect(await client.deadLetters.get(e.seq)).toMatchObject({ seq: e.seq, kind: e.kind });
      await expect(client.deadLetters.replay(e.seq)).rejects.toBeInstanceOf(DeadLetterNotReplayableError);
      expect(await client.deadLetters.get(e.seq)).toMatchObject({ seq: e.seq });
    }
  });

  it("deletes one letter and purges one agent's, then all", async () => {
    const one = (await client.deadLetters.list({ agent: "gate/b", limit: 1 })).letters[0]!;
    await client.deadLetters.delete(one.seq);
    await expect(client.deadLetters.delete(one.seq)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    await expect(client.deadLetters.get(one.seq)).rejects.toMatchObject({ code: "DEAD_LETTER_NOT_FOUND", seq: one.seq });
    await expect(client.deadLetters.get(0)).rejects.toBeInstanceOf(InvalidArgumentError);

    const b = (await client.deadLetters.list({ agent: "gate/b" })).total;
    const all = (await client.deadLetters.list()).total;
    expect(await client.deadLetters.purge({ agent: "gate/b" })).toBe(b);
    expect((await client.deadLetters.list({ agent: "gate/b" })).total).toBe(0);
    expect(await client.deadLetters.purge()).toBe(all - b);
    expect((await client.deadLetters.list()).total).toBe(0);
  });
});

describe("the dead-letter queue of a namespace that does not exist", () => {
  it("fails with NamespaceNotFoundError and creates nothing", async () => {
    const nc = await connectTo(nats.url);
    const client = await connectClient({ connection: nc, namespace: "dlq-typo" });
    try {
      const jsm = await jetstreamManager(nc);
      const names = async (): Promise<string[]> => {
        const out: string[] = [];
        for await (const s of jsm.streams.list()) out.push(s.config.name);
        return out.sort();
      };
      const before = await names();
      for (const call of [
        () => client.deadLetters.list(),
        () => client.deadLetters.get(1),
        () => client.deadLetters.replay(1),
        () => client.deadLetters.delete(1),
        () => client.deadLetters.purge(),
      ]) {
        await expect(call()).rejects.toMatchObject({ name: NamespaceNotFoundError.name, namespace: "dlq-typo" });
      }
      expect(await names()).toEqual(before);
    } finally {
      await client.close();
      await nc.close();
    }
  });
});
