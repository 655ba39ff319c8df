// Namespace isolation on a secured server: each namespace is an account of
// its own, so a credential of namespace `a` reaches nothing of namespace `b`.
// Its role's permissions name only `a`'s subjects, and where they allow a
// JetStream API subject by wildcard, the API answers from `a`'s account, in
// which `b`'s streams do not exist. Meanwhile `b`'s node serves on.

import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, NoRespondersError, PermissionViolationError, RequestError, type NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter } from "../../actors/builtins.js";
import { connectClient, type TroupeClient } from "../client.js";
import { encodeValue } from "../codec.js";
import { encodeEnvelope, Kind } from "../envelope.js";
import { InvalidCredentialsError } from "../errors.js";
import { startNode, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { connectAttacker, type Attacker } from "../testing/hostile/attacker.js";
import { startSecureNatsServer, type SecureNatsServer } from "../testing/secure-server.js";
import { Role } from "./roles.js";

const a = new Subjects("a");
const b = new Subjects("b");

let secure: SecureNatsServer;
let nodeB: TroupeNode;
let clientB: TroupeClient;
let nodeA: Attacker;
let adminA: NatsConnection;

beforeAll(async () => {
  secure = await startSecureNatsServer({ namespaces: ["a", "b"] });
  nodeB = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node, namespace: "b" }), namespace: "b", name: "nb", agents: [counter] });
  await nodeB.spawn("counter", { key: "c1" });
  await nodeB.ref("counter", "c1").ask({ op: "inc", by: 7 });
  await nodeB.memory.put("facts.b", "b's fact");
  clientB = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Client, namespace: "b" }), namespace: "b" });
  nodeA = await connectAttacker(secure.url, await secure.creds({ role: Role.Node, namespace: "a" }), "node-of-a");
  adminA = await connect({ servers: secure.url, authenticator: credsAuthenticator(readFileSync(await secure.creds({ role: Role.Admin, namespace: "a" }))), maxReconnectAttempts: 0 });
}, 60_000);

afterAll(async () => {
  await nodeA?.close();
  await adminA?.close();
  await clientB?.close();
  await nodeB?.close();
  await secure?.dispose();
});

/** b is as it was, and serves. */
async function expectBUnchanged(): Promise<void> {
  expect((await nodeB.persistedState("counter/c1"))?.value).toEqual({ count: 7 });
  expect(await nodeB.whereIs("counter/c1")).toBe("nb");
  expect((await nodeB.nodes()).map((n) => n.id)).toEqual(["nb"]);
  expect((await nodeB.memory.get("facts.b"))?.value).toBe("b's fact");
  expect(await clientB.ref("counter", "c1").ask({ op: "get" })).toBe(7);
}

describe("a node credential of namespace a", () => {
  it("cannot subscribe to b's subjects", async () => {
    for (const subject of ["troupe.b.>", b.agent("counter", "c1"), b.allEvents(), b.nodeControlAll("nb"), b.poolRequests("counter")]) {
      const err = await nodeA.subscribe(subject);
      expect({ operation: err.operation, subject: err.subject }).toEqual({ operation: "subscription", subject });
    }
    await expectBUnchanged();
  });

  it("cannot publish to b's agents, control subjects, events or buckets", async () => {
    for (const subject of [
      b.agent("counter", "c1"),
      b.mailbox("counter", "c1"),
      b.nodeControl("nb", "counter"),
      b.poolSpawn("counter"),
      b.event("lifecycle", "counter", "c1"),
      `$KV.${b.stateBucket()}.counter.c1`,
      `$KV.${b.registryBucket()}.counter.c1`,
      `$KV.${b.nodesBucket()}.nb`,
      `$KV.${b.memoryBucket()}.facts.b`,
    ]) {
      const err = await nodeA.publish(subject, encodeValue({ count: 999 }));
      expect({ operation: err.operation, subject: err.subject }).toEqual({ operation: "publish", subject });
    }
    await expectBUnchanged();
  });

  it("cannot delete or purge b's streams", async () => {
    for (const subject of [`$JS.API.STREAM.DELETE.KV_${b.stateBucket()}`, `$JS.API.STREAM.PURGE.${b.deadLetterStream()}`]) {
      const err = await nodeA.request(subject);
      expect(err).toBeInstanceOf(RequestError);
      expect((err as Error).cause).toMatchObject({ name: "PermissionViolationError", operation: "publish", subject });
    }
    await expectBUnchanged();
  });

  it("where its permissions name JetStream API subjects by wildcard, finds none of b's streams: they are in another account", async () => {
    const jsm = await jetstreamManager(nodeA.nc, { checkAPI: false });
    for (const stream of [`KV_${b.stateBucket()}`, `KV_${b.registryBucket()}`, `KV_${b.nodesBucket()}`, b.deadLetterStream()]) {
      await expect(jsm.streams.info(stream)).rejects.toThrow("stream not found");
    }
    await expectBUnchanged();
  });
});

describe("even an admin credential of namespace a", () => {
  it("sees nothing of b and reaches none of its agents", async () => {
    const err = await adminA
      .request(b.agent("counter", "c1"), encodeEnvelope(Kind.Ask, "x", "supervisor/root", null, { op: "inc" }, 1 << 20), { timeout: 3000 })
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).cause).toBeInstanceOf(NoRespondersError);
    const seen: string[] = [];
    const sub = adminA.subscribe(">", { callback: (_e, m) => void seen.push(m.subject) });
    await adminA.flush();
    await clientB.ref("counter", "c1").ask({ op: "get" });
    const jsm = await jetstreamManager(adminA, { checkAPI: false });
    await expect(jsm.streams.delete(`KV_${b.stateBucket()}`)).rejects.toThrow("stream not found");
    await adminA.flush();
    sub.unsubscribe();
    expect(seen.filter((subject) => subject.startsWith("troupe.b."))).toEqual([]);
    await expectBUnchanged();
  });
});

it("startNode in namespace b with a's node credential fails", async () => {
  const err = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node, namespace: "a" }), namespace: "b", name: "intruder", agents: [counter] }).then(
    (n) => (void n.close(), expect.fail("a node of a started in b")),
    (e: unknown) => e,
  );
  // The runtime checks the credential's namespace before it sends anything, so nothing is left behind.
  if (process.env.TROUPE_ATTACK_REPORT) console.log("startNode in b with a's credential:", String(err));
  expect(err).toBeInstanceOf(InvalidCredentialsError);
  expect((err as Error).message).toMatch(/credential for namespace "a", not "b"/);
  const names: string[] = [];
  for await (const list of (await jetstreamManager(adminA, { checkAPI: false })).streams.names()) names.push(...list);
  expect(names.filter((name) => /troupe_b_|TROUPE_B_/.test(name))).toEqual([]);
  await expectBUnchanged();
});
