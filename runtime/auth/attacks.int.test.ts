// Every attack of the zero-trust issue, tried against a secured server with a
// `client` credential: from a raw nats.js connection, and through the client
// API where it offers the operation. Each fails with the server's permission
// error (the operation and subject asserted), and nothing changes: state,
// registry, membership, shared memory, dead letters and streams are as they
// were, and the node serves on. A client's own asks and tells still work.

import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { AuthorizationError, credsAuthenticator, headers, PermissionViolationError, type NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { counter, echo } from "../../actors/builtins.js";
import { connectClient, type TroupeClient } from "../client.js";
import { encodeValue } from "../codec.js";
import { defineAgent, ActivationMode } from "../define-agent.js";
import { decodeEnvelope, encodeEnvelope, Kind } from "../envelope.js";
import { AgentNotFoundError, UnverifiedSenderError } from "../errors.js";
import { fromWireError } from "../wire-error.js";
import { MailboxKind } from "../mailbox-kind.js";
import { startNode, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { connectAttacker, watchViolations, type Attacker } from "../testing/hostile/attacker.js";
import { startSecureNatsServer, type SecureNatsServer } from "../testing/secure-server.js";
import { waitFor } from "../testing/wait.js";
import { credentialsFrom } from "./credentials.js";
import { Role } from "./roles.js";

const NS = "atk";
const s = new Subjects(NS);
const STATE = `KV_${s.stateBucket()}`;
const DLQ = s.deadLetterStream();
const MBOX = s.mailboxStream();

const journal = defineAgent({
  type: "journal",
  mailbox: MailboxKind.Durable,
  state: () => ({ n: 0 }),
  receive: (_m: unknown, ctx) => ++(ctx.state as { n: number }).n,
});
const lazy = defineAgent({
  type: "lazy",
  activation: ActivationMode.OnDemand,
  state: () => ({ n: 0 }),
  receive: (_m: unknown, ctx) => ++(ctx.state as { n: number }).n,
});

/** Accepts only proven senders; answers who sent each message. */
const guarded = defineAgent({
  type: "guarded",
  requireVerifiedSender: true,
  persist: false,
  receive: (_m: unknown, ctx) => ctx.sender,
});

let secure: SecureNatsServer;
let node: TroupeNode;
let admin: NatsConnection;
let adminJsm: JetStreamManager;
let clientCreds: string;
let attacker: Attacker;
let client: TroupeClient;
let nodeUserKey: string;
let nodeViolations: PermissionViolationError[];
let clientViolations: PermissionViolationError[];
/** Attack -> what it got, for the closing note (printed with TROUPE_ATTACK_REPORT=1). */
const seen: Array<[string, string]> = [];

/** What an attack may change, read through the node and an admin connection. */
async function snapshot() {
  const streams: string[] = [];
  for await (const name of adminJsm.streams.names()) streams.push(name);
  const mem = await node.memory.get("facts.a");
  return {
    counter: await node.persistedState("counter/c1"),
    journal: (await node.persistedState("journal/j1"))?.value,
    where: [await node.whereIs("counter/c1"), await node.whereIs("echo/e1"), await node.whereIs("journal/j1")],
    nodes: (await node.nodes()).map((n) => n.id),
    memory: { value: mem?.value, revision: mem?.revision },
    deadLetters: (await adminJsm.streams.info(DLQ)).state.messages,
    streams: streams.sort(),
  };
}
let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  secure = await startSecureNatsServer({ namespaces: [NS] });
  const nodeCreds = await secure.creds({ role: Role.Node });
  nodeUserKey = (await credentialsFrom(readFileSync(nodeCreds))).publicKey;
  node = await startNode({ servers: secure.url, credentials: nodeCreds, namespace: NS, name: "n1", agents: [counter, echo, journal, lazy, guarded] });
  nodeViolations = watchViolations(node.connection);
  await node.spawn("counter", { key: "c1" });
  for (let i = 0; i < 5; i++) await node.ref("counter", "c1").ask({ op: "inc" });
  await node.spawn("echo", { key: "e1" });
  await node.spawn("guarded", { key: "g1" });
  await node.spawn("journal", { key: "j1" });
  await node.spawn("journal", { key: "j2" });
  await node.ref("journal", "j1").ask({});
  await node.memory.put("facts.a", "a true fact");
  await expect(node.ref("counter", "c1").ask({ op: "bad" })).rejects.toThrow();

  admin = await connect({ servers: secure.url, authenticator: credsAuthenticator(readFileSync(await secure.creds({ role: Role.Admin }))) });
  adminJsm = await jetstreamManager(admin);
  await waitFor(async () => (await adminJsm.streams.info(DLQ)).state.messages === 1, "the dead letter is stored");

  clientCreds = await secure.creds({ role: Role.Client, name: "api-attacker" });
  attacker = await connectAttacker(secure.url, clientCreds);
  client = await connectClient({ servers: secure.url, credentials: clientCreds, namespace: NS, name: "api-attacker", askTimeoutMs: 3000, spawnWaitMs: 500 });
  clientViolations = watchViolations(client.connection);
  before = await snapshot();
}, 60_000);

afterEach(async () => {
  expect(await snapshot()).toEqual(before);
  expect(await client.ref("echo", "e1").ask("still here")).toBe("still here");
  expect(await client.ref("counter", "c1").ask({ op: "get" })).toBe(5);
});

afterAll(async () => {
  if (process.env.TROUPE_ATTACK_REPORT) console.log(seen.map(([what, error]) => `${what}: ${error}`).join("\n"));
  await client?.close();
  await attacker?.close();
  await admin?.close();
  await node?.close();
  await secure?.dispose();
});

/** The server's permission error for `operation` on `subject`, wherever `err` carries it (as the error or a cause). */
function expectRefused(err: unknown, operation: "publish" | "subscription", subject: string): void {
  let e: unknown = err;
  while (e instanceof Error && !(e instanceof PermissionViolationError)) e = e.cause;
  expect(e, `expected a permission error, got ${String(err)}`).toBeInstanceOf(PermissionViolationError);
  const pv = e as PermissionViolationError;
  expect({ operation: pv.operation, subject: pv.subject }).toEqual({ operation, subject });
  seen.push([`${operation} ${subject}`, errorText(err)]);
}

/**
 * An operation of the client API that the server refuses: it rejects, and the
 * server's refusal of `subject` shows on the client's connection. Resolves with
 * the error the call rejected with.
 */
async function expectApiRefused(what: string, call: () => Promise<unknown>, subject: string): Promise<unknown> {
  const from = clientViolations.length;
  const err = await call().then(
    (v) => expect.fail(`${what} succeeded: ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  await waitFor(() => clientViolations.slice(from).some((v) => v.operation === "publish" && v.subject === subject), `the server to refuse ${subject} (${what})`);
  seen.push([`client.${what}`, `${errorText(err)} (server: ${clientViolations.slice(from).find((v) => v.subject === subject)!.message})`]);
  return err;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}${(err as { code?: unknown }).code ? ` [${String((err as { code?: unknown }).code)}]` : ""}: ${err.message}` : String(err);
}

/** A control request as the runtime sends it (a system envelope), claiming to come from the root supervisor. */
function control(body: unknown): Uint8Array {
  return encodeEnvelope(Kind.System, "forged-1", "supervisor/root", null, body, 1 << 20);
}

/** A shared-memory or KV bucket as nats.js opens it, on the attacker's connection. */
function kvOf(bucket: string) {
  return new Kvm(jetstream(attacker.nc, { timeout: 3000 })).open(bucket);
}

describe("with a client credential", () => {
  it("read every message: subscribing to > is refused", async () => {
    expectRefused(await attacker.subscribe(">"), "subscription", ">");
    expectRefused(await attacker.subscribe("troupe.atk.>"), "subscription", "troupe.atk.>");
    expectRefused(await attacker.subscribe("troupe.atk.agent.*.*"), "subscription", "troupe.atk.agent.*.*");
  });

  it("answer asks in an agent's place: subscribing or queue-subscribing to its subject is refused", async () => {
    const subject = s.agent("counter", "c1");
    expectRefused(await attacker.subscribe(subject), "subscription", subject);
    const queued = await attacker.subscribe(subject, { queue: "q" });
    expectRefused(queued, "subscription", subject);
    expect(queued!.queue).toBe("q");
  });

  it("pose as a node: writing a heartbeat is refused", async () => {
    const entry = `$KV.${s.nodesBucket()}.n1`;
    expectRefused(await attacker.publish(entry, encodeValue({ id: "n1" })), "publish", entry);
    const nodes = await kvOf(s.nodesBucket());
    await nodes.put("n-fake", encodeValue({ id: "n-fake", types: ["counter"] })).then(
      () => expect.fail("the heartbeat was written"),
      (err) => expectRefused(err, "publish", `$KV.${s.nodesBucket()}.n-fake`),
    );
  });

  it("pose as a node: subscribing to its control subject or a pool is refused", async () => {
    expectRefused(await attacker.subscribe(s.nodeControlAll("n1")), "subscription", s.nodeControlAll("n1"));
    expectRefused(await attacker.subscribe(s.nodeInfo("n1")), "subscription", s.nodeInfo("n1"));
    expectRefused(await attacker.subscribe(s.poolRequests("counter"), { queue: s.poolQueue("counter") }), "subscription", s.poolRequests("counter"));
  });

  it("forge events: publishing an event is refused", async () => {
    const subject = s.event("lifecycle", "counter", "c1");
    expectRefused(await attacker.publish(subject, encodeEnvelope(Kind.Event, "e", "node:n1", null, { state: "stopped" }, 1 << 20)), "publish", subject);
  });

  it("kill, stop, spawn or fence through a node's control subject is refused", async () => {
    const ctl = s.nodeControl("n1", "counter");
    for (const body of [
      { op: "kill", id: "counter/c1", reason: "forged" },
      { op: "stop", id: "counter/c1" },
      { op: "spawn", type: "counter", key: "c66" },
      { op: "fence", id: "counter/c1" },
    ]) {
      expectRefused(await attacker.request(ctl, control(body)), "publish", ctl);
    }
    await expectApiRefused("kill", () => client.kill("counter/c1"), ctl);
    await expectApiRefused("stop", () => client.stop("counter/c1"), ctl);
    await expectApiRefused("spawn on n1", () => client.spawn("counter", { key: "c66", node: "n1" }), ctl);
    expect(await node.whereIs("counter/c66")).toBeUndefined();
  });

  it("spawn through a pool is refused", async () => {
    const pool = s.poolSpawn("counter");
    expectRefused(await attacker.request(pool, control({ op: "spawn", type: "counter", key: "c67" })), "publish", pool);
    await expectApiRefused("spawn in the pool", () => client.spawn("counter", { key: "c67" }), pool);
    expect(await node.whereIs("counter/c67")).toBeUndefined();
  });

  it("activate (allowed to clients) starts only on-demand agents", async () => {
    expect(await client.activate("lazy/l2")).toBe("n1");
    await expect(client.activate("counter/c68")).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(await node.whereIs("counter/c68")).toBeUndefined();
  });

  it("write or delete an agent's persisted state is refused, and a re-spawn resumes the real value", async () => {
    const entry = `$KV.${s.stateBucket()}.${s.stateKey("counter", "c1")}`;
    expectRefused(await attacker.publish(entry, encodeValue({ count: 999 })), "publish", entry);
    const del = headers();
    del.set("KV-Operation", "DEL");
    await attacker.nc.request(entry, undefined, { headers: del, timeout: 3000 }).then(
      () => expect.fail("the state was deleted"),
      (err) => expectRefused(err, "publish", entry),
    );
    expectRefused(await attacker.request(entry, encodeValue({ count: 999 })), "publish", entry);
    const js = jetstream(attacker.nc, { timeout: 3000 });
    await js.publish(entry, encodeValue({ count: 999 })).then(
      () => expect.fail("the state was written"),
      (err) => expectRefused(err, "publish", entry),
    );
    const state = await kvOf(s.stateBucket());
    for (const [what, op] of [
      ["written", () => state.put(s.stateKey("counter", "c1"), encodeValue({ count: 999 }))],
      ["deleted", () => state.delete(s.stateKey("counter", "c1"))],
      ["purged", () => state.purge(s.stateKey("counter", "c1"))],
    ] as const) {
      await op().then(
        () => expect.fail(`the state was ${what}`),
        (err) => expectRefused(err, "publish", entry),
      );
    }
    await state.get(s.stateKey("counter", "c1")).then(
      () => expect.fail("the state was read"),
      (err) => expectRefused(err, "publish", `$JS.API.STREAM.MSG.GET.${STATE}`),
    );
    await node.stop("counter/c1");
    await node.spawn("counter", { key: "c1" });
    expect(await node.ref("counter", "c1").ask({ op: "get" })).toBe(5);
    before.counter = await node.persistedState("counter/c1");
  });

  it("squat or redirect a registry claim is refused", async () => {
    const registry = await kvOf(s.registryBucket());
    for (const key of [s.registryKey("counter", "c1"), s.registryKey("counter", "squat")]) {
      const entry = `$KV.${s.registryBucket()}.${key}`;
      expectRefused(await attacker.publish(entry, encodeValue({ node: "n-fake" })), "publish", entry);
      await registry.put(key, encodeValue({ node: "n-fake" })).then(
        () => expect.fail("the claim was written"),
        (err) => expectRefused(err, "publish", entry),
      );
      await registry.create(key, encodeValue({ node: "n-fake" })).then(
        () => expect.fail("the claim was created"),
        (err) => expectRefused(err, "publish", entry),
      );
    }
  });

  it("delete a node's heartbeat is refused", async () => {
    const nodes = await kvOf(s.nodesBucket());
    const entry = `$KV.${s.nodesBucket()}.n1`;
    await nodes.delete("n1").then(
      () => expect.fail("the heartbeat was deleted"),
      (err) => expectRefused(err, "publish", entry),
    );
    await nodes.purge("n1").then(
      () => expect.fail("the heartbeat was purged"),
      (err) => expectRefused(err, "publish", entry),
    );
  });

  it("read shared memory without a memoryRead grant is refused", async () => {
    const info = `$JS.API.STREAM.INFO.KV_${s.memoryBucket()}`;
    await expectApiRefused("memory.get", () => client.memory.get("facts.a"), info);
    const direct = `$JS.API.DIRECT.GET.KV_${s.memoryBucket()}.$KV.${s.memoryBucket()}.facts.a`;
    expectRefused(await attacker.request(direct), "publish", direct);
    expectRefused(await attacker.subscribe(`$KV.${s.memoryBucket()}.>`), "subscription", `$KV.${s.memoryBucket()}.>`);
  });

  it("write shared memory is refused", async () => {
    const entry = `$KV.${s.memoryBucket()}.facts.a`;
    expectRefused(await attacker.publish(entry, encodeValue("a lie")), "publish", entry);
    await expectApiRefused("memory.put", () => client.memory.put("facts.a", "a lie"), `$JS.API.STREAM.INFO.KV_${s.memoryBucket()}`);
  });

  it("with memoryRead, shared memory is read but never written", async () => {
    const reader = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Client, memoryRead: ["facts.>"] }), namespace: NS, name: "reader" });
    try {
      expect((await reader.memory.get("facts.a"))?.value).toBe("a true fact");
      const entry = `$KV.${s.memoryBucket()}.facts.a`;
      await expect(reader.memory.put("facts.a", "a lie")).rejects.toSatisfy((e) => (expectRefused(e, "publish", entry), true));
      await expect(reader.memory.delete("facts.a")).rejects.toSatisfy((e) => (expectRefused(e, "publish", entry), true));
    } finally {
      await reader.close();
    }
  });

  it("read the dead-letter stream is refused", async () => {
    await expectApiRefused("deadLetters.list", () => client.deadLetters.list(), `$JS.API.STREAM.INFO.${DLQ}`);
    const get = `$JS.API.STREAM.MSG.GET.${DLQ}`;
    expectRefused(await attacker.request(get, encodeValue({ seq: 1 })), "publish", get);
    const consumer = `$JS.API.CONSUMER.CREATE.${DLQ}`;
    expectRefused(await attacker.request(consumer, new TextEncoder().encode(JSON.stringify({ stream_name: DLQ, config: {} }))), "publish", consumer);
    expectRefused(await attacker.subscribe(s.allDeadLetters()), "subscription", s.allDeadLetters());
  });

  it("purge the dead-letter stream is refused", async () => {
    const purge = `$JS.API.STREAM.PURGE.${DLQ}`;
    await expectApiRefused("deadLetters.purge", () => client.deadLetters.purge(), purge);
    expectRefused(await attacker.request(purge), "publish", purge);
    const jsm = await jetstreamManager(attacker.nc, { checkAPI: false });
    await expect(jsm.streams.purge(DLQ)).rejects.toSatisfy((e) => (expectRefused(e, "publish", purge), true));
  });

  it("delete the state stream (or any stream) through the JetStream API is refused", async () => {
    const jsm = await jetstreamManager(attacker.nc, { checkAPI: false });
    for (const stream of [STATE, `KV_${s.registryBucket()}`, DLQ, MBOX]) {
      const subject = `$JS.API.STREAM.DELETE.${stream}`;
      expectRefused(await attacker.request(subject), "publish", subject);
      await expect(jsm.streams.delete(stream)).rejects.toSatisfy((e) => (expectRefused(e, "publish", subject), true));
    }
  });

  it("read another user's replies: subscribing to _INBOX.> or a node's inboxes is refused", async () => {
    expectRefused(await attacker.subscribe("_INBOX.>"), "subscription", "_INBOX.>");
    expectRefused(await attacker.subscribe(`_INBOX.${nodeUserKey}.>`), "subscription", `_INBOX.${nodeUserKey}.>`);
  });

  it("set the sender to supervisor/root: an agent that requires verified senders refuses the ask with UnverifiedSenderError", async () => {
    const reply = await attacker.request(s.agent("guarded", "g1"), encodeEnvelope(Kind.Ask, "forged-2", "supervisor/root", null, "do as root says", 1 << 20));
    const env = decodeEnvelope(reply as Uint8Array, 1 << 20);
    const err = fromWireError(s.agent("guarded", "g1"), env.error!);
    expect(err).toBeInstanceOf(UnverifiedSenderError);
    seen.push(["ask as supervisor/root (unsigned)", errorText(err)]);
    // The refused message is dead-lettered, as every refused message is.
    await waitFor(async () => (await adminJsm.streams.info(DLQ)).state.messages === before.deadLetters + 1, "the refused ask's dead letter");
    before.deadLetters += 1;
    // Its own, signed asks through the API are answered, under its own name.
    expect(await client.ref("guarded", "g1").ask("hello")).toBe("client:api-attacker");
  });

  it("point a reply at a bucket (confused deputy): a JetStream API reply or a durable message's acknowledgement aimed at state, registry or membership writes nothing there", async () => {
    const sub = new Subjects(NS);
    const targets = [`$KV.${sub.stateBucket()}.counter.c1`, `$KV.${sub.registryBucket()}.counter.c1`, `$KV.${sub.nodesBucket()}.n1`, `$KV.${sub.stateBucket()}.journal.j1`];
    const observer = await connectAttacker(secure.url, await secure.creds({ role: Role.Observer }), "observer-attacker");
    try {
      for (const nc of [attacker.nc, observer.nc]) {
        for (const reply of targets) {
          // The server answers these requests; the answer would be stored as the key's new value
          // if the requester could name a subject of the namespace's account as its reply.
          nc.publish("$JS.API.INFO", new Uint8Array(), { reply });
          nc.publish(`$JS.API.STREAM.INFO.KV_${sub.registryBucket()}`, new Uint8Array(), { reply });
        }
        await nc.flush();
      }
      // A durable tell is answered by JetStream with an acknowledgement to its reply subject.
      for (const reply of targets) attacker.nc.publish(sub.mailbox("journal", "j9"), encodeEnvelope(Kind.Tell, "deputy", null, null, {}, 1 << 20), { reply });
      await attacker.nc.flush();
      // The durable tells themselves are the client's to send: they are stored and applied.
      await node.spawn("journal", { key: "j9" });
      expect(await node.ref("journal", "j9").ask({})).toBe(targets.length + 1);
      seen.push(["point a JetStream reply at a bucket key", "nothing written (the reply stays in the clients' account)"]);
    } finally {
      await observer.close();
    }
  });

  it("asks and tells of its own work: core, durable and on-demand", async () => {
    expect(await client.ref("echo", "e1").ask("hello")).toBe("hello");
    const reply = await attacker.request(s.agent("echo", "e1"), encodeEnvelope(Kind.Ask, "raw-1", "client:raw", null, "raw hello", 1 << 20));
    expect(reply).toBeInstanceOf(Uint8Array);
    expect(decodeEnvelope(reply as Uint8Array, 1 << 20).body).toBe("raw hello");
    await client.ref("journal", "j2").tell({});
    expect(await client.ref("journal", "j2").ask({})).toBe(2);
    expect(await client.ref("lazy", "l3").ask({})).toBe(1);
    await client.ref("lazy", "l3").tell({});
    expect(await client.ref("lazy", "l3").ask({})).toBe(3);
  });
});

it("an anonymous connection is refused", async () => {
  const err = await connect({ servers: secure.url, maxReconnectAttempts: 0 }).then(
    (nc) => (void nc.close(), expect.fail("an anonymous connection was accepted")),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthorizationError);
  seen.push(["anonymous connect", errorText(err)]);
});

it("the node met no permission error through all of it", () => {
  expect(nodeViolations.map((v) => v.message)).toEqual([]);
});
