// Hostile clients against a live node. The victim runs in a process of its own
// with Node's default `--unhandled-rejections=throw`, so anything that escapes
// a subscription callback or leaves a rejection unhandled ends it; after every
// attack it must still be running and serving. The attackers are a raw nats.js
// connection and, for malformed headers, a NATS client on a bare socket.

import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeValue } from "./codec.js";
import { decodeEnvelope, encodeEnvelope, Kind } from "./envelope.js";
import { ErrorCode, InvalidMessageError } from "./errors.js";
import { EventKind, type TroupeEvent } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { rawResponder } from "./testing/hostile/raw-responder.js";
import { startVictim, type Victim } from "./testing/hostile/victim.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const NS = "hostile";
const subjects = new Subjects(NS);
const nats = useNatsServer();
let victim: Victim;
let client: TroupeNode;
let raw: NatsConnection;
const nodeEvents: TroupeEvent[] = [];
const MAX = 1024 * 1024;

beforeAll(async () => {
  victim = await startVictim({ servers: nats.url, namespace: NS, name: "victim" });
  client = await startNode({ servers: nats.url, namespace: NS, name: "attacker", failover: false });
  raw = await connectTo(nats.url, "raw-attacker");
  await client.spawn("echo", { key: "e1" });
  await client.spawn("counter", { key: "c1" });
  await client.spawn("sleeper", { key: "s1" });
  await client.ref("counter", "c1").ask({ op: "inc" });
  client.onEvent((e) => nodeEvents.push(e), { kind: EventKind.InvalidMessage, type: "node" });
}, 60_000);

afterAll(async () => {
  await raw?.close();
  await client?.close();
  await victim?.stop();
});

/** The victim is alive and every kind of agent on it answers. */
async function expectServing(): Promise<void> {
  expect(victim.ended, `victim ended; stderr: ${victim.stderr}`).toBeUndefined();
  expect(await client.ref("echo", "e1").ask("ping", { timeoutMs: 3000 })).toBe("ping");
  expect(await client.ref("counter", "c1").ask({ op: "get" }, { timeoutMs: 3000 })).toBeGreaterThanOrEqual(1);
  expect(await client.ref("sleeper", "s1").ask({ ms: 1 }, { timeoutMs: 3000 })).toBe("slept");
  const listed = await client.listAll();
  expect(listed.unreachable).toEqual([]);
}

/** Send raw bytes as a request and decode the reply envelope. */
async function requestRaw(subject: string, payload: Uint8Array): Promise<ReturnType<typeof decodeEnvelope>> {
  const msg = await raw.request(subject, payload, { timeout: 5000 });
  return decodeEnvelope(msg.data, MAX);
}

/**
 * An envelope of `kind` whose id fills it to `total` bytes, just under the
 * message limit: a reply, or an error reply, that repeated the id could not be sent.
 */
function hugeIdEnvelope(kind: Kind, body: unknown, total = MAX - 2): Uint8Array {
  const probe = encodeValue([1, kind, "i".repeat(MAX / 2), null, null, body]).length;
  return encodeValue([1, kind, "i".repeat(MAX / 2 + (total - probe)), null, null, body]);
}

describe("a message whose id is close to the size limit", () => {
  const cases: Array<[string, () => string, Kind, unknown]> = [
    ["to the node's info subject", () => subjects.nodeInfo("victim"), Kind.System, { op: "list" }],
    ["to a pool subject", () => subjects.poolSpawn("echo"), Kind.System, { op: "spawn", type: "echo", key: "e2" }],
    ["as an ask to a persisted agent", () => subjects.agent("counter", "c1"), Kind.Ask, { op: "inc" }],
    ["as an ask to a synchronous, non-persisted agent", () => subjects.agent("echo", "e1"), Kind.Ask, "hello"],
    ["as an ask to an async agent", () => subjects.agent("sleeper", "s1"), Kind.Ask, { ms: 1 }],
  ];
  it.each(cases)("%s gets a small typed error reply, and the node serves on", async (_name, subject, kind, body) => {
    const reply = await requestRaw(subject(), hugeIdEnvelope(kind, body));
    expect(reply.kind).toBe(Kind.Reply);
    expect(reply.error?.code).toBe(ErrorCode.InvalidMessage);
    expect(reply.error?.message).toMatch(/message id is \d+ characters/);
    await expectServing();
  });

  it("a state-changing ask with an id at the limit is applied once and answered after its commit", async () => {
    const before = (await client.ref("counter", "c1").ask({ op: "get" })) as number;
    const reply = await requestRaw(subjects.agent("counter", "c1"), encodeEnvelope(Kind.Ask, "k".repeat(128), null, null, { op: "inc" }, MAX));
    expect(reply.error).toBeNull();
    expect(reply.body).toBe(before + 1);
    expect(await client.ref("counter", "c1").ask({ op: "get" })).toBe(before + 1);
    expect((await client.persistedState("counter/c1"))?.value).toEqual({ count: before + 1 });
    await expectServing();
  });
});

describe("reply subjects that are not inboxes", () => {
  it("an ask whose reply subject is another agent's state key is refused; the state is not overwritten", async () => {
    const stateKey = `$KV.${subjects.stateBucket()}.${subjects.stateKey("counter", "c1")}`;
    const before = await client.persistedState("counter/c1");
    const rejectedBefore = await rejectedOf("counter/c1");
    raw.publish(subjects.agent("counter", "c1"), encodeEnvelope(Kind.Ask, "a1", null, null, { op: "inc" }, MAX), { reply: stateKey });
    await waitFor(async () => (await rejectedOf("counter/c1")) > rejectedBefore, "the ask to be counted as rejected");
    const after = await client.persistedState("counter/c1");
    expect(after).toEqual(before);
    expect(await client.ref("counter", "c1").ask({ op: "get" })).toBe((before!.value as { count: number }).count);
    await expectServing();
  });

  it("an ask whose reply subject is an event subject publishes no forged event", async () => {
    const forged = subjects.event("fenced", "counter", "c1");
    const seen: unknown[] = [];
    const sub = raw.subscribe(forged, { callback: (_e, m) => void seen.push(m.data) });
    await raw.flush();
    const rejectedBefore = await rejectedOf("echo/e1");
    raw.publish(subjects.agent("echo", "e1"), encodeEnvelope(Kind.Ask, "a2", null, null, "forge", MAX), { reply: forged });
    raw.publish(subjects.nodeInfo("victim"), encodeEnvelope(Kind.System, "a3", null, null, { op: "list" }, MAX), { reply: forged });
    await waitFor(async () => (await rejectedOf("echo/e1")) > rejectedBefore, "the ask to be counted as rejected");
    await waitFor(() => nodeEvents.some((e) => e.id === "node/victim" && /reply subject .* is not an inbox/.test(String(e.reason))), "the refused control request to be reported");
    await expectServing();
    sub.unsubscribe();
    expect(seen).toEqual([]);
  });

  it("an ask with no reply subject is handled as a tell and counted", async () => {
    const before = (await client.listAll()).agents.find((a) => a.id === "echo/e1")!.asksWithoutReply;
    raw.publish(subjects.agent("echo", "e1"), encodeEnvelope(Kind.Ask, "a4", null, null, "nobody listens", MAX));
    await waitFor(async () => (await client.listAll()).agents.find((a) => a.id === "echo/e1")!.asksWithoutReply === before + 1, "the count to go up");
    await expectServing();
  });
});

describe("garbage on every subject the node listens to", () => {
  const bodies: Array<[string, Uint8Array]> = [
    ["empty", new Uint8Array()],
    ["random bytes", Uint8Array.from({ length: 512 }, (_, i) => (i * 7919) % 256)],
    ["a truncated envelope", encodeEnvelope(Kind.Ask, "t", null, null, { op: "inc" }, MAX).subarray(0, 7)],
    ["a MessagePack string", encodeValue("hello")],
    ["an envelope of the wrong version", encodeValue([9, 1, "id", null, null, 1])],
    ["an envelope with a map as its id", encodeValue([1, 1, { a: 1 }, null, null, 1])],
    ["a huge sender", encodeValue([1, 1, "id", "s".repeat(100_000), null, 1])],
    ["a huge trace", encodeValue([1, 1, "id", null, "t".repeat(100_000), 1])],
    ["deeply nested arrays", nested(5_000)],
  ];
  const targets: Array<[string, () => string]> = [
    ["a sync agent", () => subjects.agent("echo", "e1")],
    ["a persisted agent", () => subjects.agent("counter", "c1")],
    ["the control subject", () => subjects.nodeControl("victim", "echo")],
    ["a pool subject", () => subjects.poolSpawn("counter")],
  ];
  for (const [target, subject] of targets) {
    it(`sent to ${target}, each gets a typed error and the node serves on`, async () => {
      for (const [what, bytes] of bodies) {
        const reply = await requestRaw(subject(), bytes);
        expect(reply.error?.code, what).toMatch(/^(INVALID_MESSAGE|INVALID_ARGUMENT)$/);
        raw.publish(subject(), bytes); // and once without a reply subject
      }
      await expectServing();
    });
  }
});

describe("malformed control requests", () => {
  const requests: Array<[string, unknown, string]> = [
    ["not an object", "spawn", "INVALID_ARGUMENT"],
    ["an array", ["spawn"], "INVALID_ARGUMENT"],
    ["no op", {}, "INVALID_ARGUMENT"],
    ["an unknown op", { op: "explode" }, "INVALID_ARGUMENT"],
    ["a spawn with a numeric type", { op: "spawn", type: 5, key: "k" }, "INVALID_ARGUMENT"],
    ["a spawn with a bad restart", { op: "spawn", type: "echo", key: "k", restart: "always" }, "INVALID_ARGUMENT"],
    ["a spawn with a negative shutdown", { op: "spawn", type: "echo", key: "k", shutdownMs: -1 }, "INVALID_ARGUMENT"],
    ["a stop of null", { op: "stop", id: null }, "INVALID_ARGUMENT"],
    ["a kill with an object reason", { op: "kill", id: "echo/e1", reason: { x: 1 } }, "INVALID_ARGUMENT"],
    ["a fence of a malformed id", { op: "fence", id: "no-slash" }, "INVALID_ARGUMENT"],
    ["a stop of an agent that is not here", { op: "stop", id: "echo/nobody" }, "AGENT_NOT_FOUND"],
  ];
  // Each subject takes its own operations, so a grant of one (an observer's `.info`, a client's
  // `.activate`) is not a grant of the others.
  const misplaced: Array<[string, () => string, unknown]> = [
    ["a kill sent to the read-only info subject", () => subjects.nodeInfo("victim"), { op: "kill", id: "echo/e1" }],
    ["a stop sent to the read-only info subject", () => subjects.nodeInfo("victim"), { op: "stop", id: "echo/e1" }],
    ["a spawn sent to the activation subject", () => subjects.poolActivate("echo"), { op: "spawn", type: "echo", key: "sneaked" }],
    ["a fence sent to the spawn subject", () => subjects.poolSpawn("echo"), { op: "fence", id: "echo/e1" }],
    ["a list sent to the control subject", () => subjects.nodeControl("victim", "echo"), { op: "list" }],
    // A subject that names an agent type takes requests about that type's agents only, so a
    // credential granted one type's subjects cannot act on agents of another.
    ["a stop of an echo agent sent to counter's control subject", () => subjects.nodeControl("victim", "counter"), { op: "stop", id: "echo/e1" }],
    ["a fence of an echo agent sent to counter's control subject", () => subjects.nodeControl("victim", "counter"), { op: "fence", id: "echo/e1" }],
    ["a spawn of an echo agent sent to counter's control subject", () => subjects.nodeControl("victim", "counter"), { op: "spawn", type: "echo", key: "sneaked" }],
    ["a spawn of an echo agent sent to counter's pool", () => subjects.poolSpawn("counter"), { op: "spawn", type: "echo", key: "sneaked" }],
    ["an activation of an echo agent sent to counter's pool", () => subjects.poolActivate("counter"), { op: "activate", type: "echo", key: "sneaked" }],
  ];
  it.each(misplaced)("%s is refused, and nothing happens", async (_what, subject, body) => {
    const reply = await requestRaw(subject(), encodeEnvelope(Kind.System, "c", null, null, body, MAX));
    expect(reply.error?.code).toBe("INVALID_ARGUMENT");
    expect(reply.error?.message).toMatch(/is not taken on/);
    await expectServing();
    expect(await client.whereIs("echo/sneaked")).toBeUndefined();
  });

  it.each(requests)("%s is answered with a typed error", async (_what, body, code) => {
    const reply = await requestRaw(subjects.nodeControl("victim", "echo"), encodeEnvelope(Kind.System, "c", null, null, body, MAX));
    expect(reply.error?.code).toBe(code);
    await expectServing();
  });
});

describe("replies with malformed NATS headers", () => {
  it("settle the ask with InvalidMessageError instead of leaving it hanging", async () => {
    const responder = await rawResponder(nats.url, subjects.agent("fake", "f1"), "NATS/1.0\r\nBad Header: x\r\n\r\n");
    try {
      const err = await client.ref("fake", "f1").ask("hello", { timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidMessageError);
      expect((err as Error).message).toMatch(/malformed NATS headers/);
      expect(responder.answered).toBe(1);
    } finally {
      responder.close();
    }
    await expectServing();
  });

  it("a reply that is not an envelope rejects the ask with InvalidMessageError", async () => {
    const responder = await rawResponder(nats.url, subjects.agent("fake", "f2"), "NATS/1.0\r\nX-Ok: 1\r\n\r\n", "garbage");
    try {
      await expect(client.ref("fake", "f2").ask("hello", { timeoutMs: 10_000 })).rejects.toBeInstanceOf(InvalidMessageError);
    } finally {
      responder.close();
    }
  });
});

it("the victim never crashed and wrote no unhandled rejection", async () => {
  await expectServing();
  expect(victim.stderr).not.toMatch(/unhandled|UnhandledPromiseRejection|TypeError/i);
});

async function rejectedOf(id: string): Promise<number> {
  const row = (await client.listAll()).agents.find((a) => a.id === id);
  if (!row) throw new Error(`${id} is not listed`);
  return row.rejected;
}

/** MessagePack for `depth` nested one-element arrays around a 1. */
function nested(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1);
  bytes.fill(0x91, 0, depth); // fixarray of length 1
  bytes[depth] = 0x01;
  return bytes;
}
