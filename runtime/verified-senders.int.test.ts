// Agent types that accept only verified senders, against a nats-server in
// operator mode that trusts a test authority: clients and nodes holding its
// credentials reach them (core, durable and on-demand mailboxes); unsigned
// messages, forged senders, replayed or altered signatures, credentials of
// another authority and roles that may not speak as the sender are refused
// (an ask with UnverifiedSenderError, a tell dead-lettered), and the agent
// keeps running.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { credentialsFrom } from "./auth/credentials.js";
import { ProofHeader, SenderSigner } from "./auth/sender-proof.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { decodeEnvelope, encodeEnvelope, Kind, nextMessageId } from "./envelope.js";
import { InvalidConfigError, UnverifiedSenderError } from "./errors.js";
import { EventKind } from "./events.js";
import { MailboxKind } from "./mailbox-kind.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { recordEvents } from "./testing/events.js";
import { startNatsServer, type NatsServer } from "./testing/nats-server.js";
import { createTestAuthority, type TestAuthority, type TestUser } from "./testing/test-authority.js";
import { waitFor } from "./testing/wait.js";
import { fromWireError } from "./wire-error.js";

const NS = "vsend";
const MAX = 1024 * 1024;

/** Remembers who sent each message it handled; `{ op: "log" }` answers the list. */
const guarded = defineAgent<{ log: string[] }, { op: string }, unknown>({
  type: "guarded",
  requireVerifiedSender: true,
  state: () => ({ log: [] }),
  receive(msg, ctx) {
    if (msg.op === "log") return ctx.state.log;
    ctx.state.log.push(`${msg.op}:${ctx.sender}`);
    return ctx.sender;
  },
});

const durableGuarded = defineAgent<{ n: number }, { op: string }, unknown>({
  type: "guarded-durable",
  requireVerifiedSender: true,
  mailbox: MailboxKind.Durable,
  state: () => ({ n: 0 }),
  receive(_msg, ctx) {
    ctx.state.n++;
    return { n: ctx.state.n, sender: ctx.sender };
  },
});

const onDemandGuarded = defineAgent<unknown, { op: string }, unknown>({
  type: "guarded-lazy",
  requireVerifiedSender: true,
  activation: "on-demand",
  persist: false,
  receive: (_msg, ctx) => ctx.sender,
});

/** Asks `guarded/<key>` from its own node, as itself; answers what it got, or the refusal. */
const relay = defineAgent<unknown, { key: string }, unknown>({
  type: "relay",
  persist: false,
  receive: (msg, ctx) =>
    ctx
      .ref("guarded", msg.key)
      .ask({ op: "from-relay" })
      .catch((err: unknown) => (err instanceof UnverifiedSenderError ? { refused: err.sender, reason: err.reason } : Promise.reject(err))),
});

let server: NatsServer;
let dir: string;
let authority: TestAuthority;
let stranger: TestAuthority;
const creds: Record<string, string> = {};
let host: TroupeNode;
let client: TroupeClient;
let raw: NatsConnection;
const subjects = new Subjects(NS);

async function rawConnection(path: string): Promise<NatsConnection> {
  const { readFile } = await import("node:fs/promises");
  return connect({ servers: server.url, authenticator: credsAuthenticator(await readFile(path)) });
}

/** An envelope as a Troupe sender writes it. */
function envelope(kind: Kind, sender: string | null, body: unknown): Uint8Array {
  return encodeEnvelope(kind, nextMessageId(), sender, null, body, MAX);
}

/** A raw request; resolves with the reply's body or rejects with the typed error it carries. */
async function rawAsk(subject: string, data: Uint8Array, hdrs?: ReturnType<typeof natsHeaders>): Promise<unknown> {
  const reply = await raw.request(subject, data, { timeout: 5000, headers: hdrs });
  const env = decodeEnvelope(reply.data, MAX);
  if (env.error) throw fromWireError(subject, env.error);
  return env.body;
}

async function signerFor(user: TestUser, from: TestAuthority = authority): Promise<SenderSigner> {
  return new SenderSigner(await credentialsFrom(await from.issue(user)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "troupe-vsend-"));
  authority = await createTestAuthority();
  stranger = await createTestAuthority();
  await writeFile(join(dir, "server.conf"), authority.serverConfig());
  server = await startNatsServer({ configFile: join(dir, "server.conf") });
  creds.node = await authority.writeCreds(dir, "node.creds", { role: "node", namespace: NS });
  creds.client = await authority.writeCreds(dir, "client.creds", { role: "client", namespace: NS, name: "alice" });
  creds.narrow = await authority.writeCreds(dir, "narrow.creds", { role: "node", namespace: NS, types: ["other"] });
  creds.observer = await authority.writeCreds(dir, "observer.creds", { role: "observer", namespace: NS });
  creds.otherNs = await authority.writeCreds(dir, "other-ns.creds", { role: "client", namespace: "elsewhere" });
  host = await startNode({ servers: server.url, namespace: NS, name: "host", credentials: creds.node, agents: [guarded, durableGuarded, onDemandGuarded] });
  await host.spawn("guarded", { key: "g1" });
  await host.spawn("guarded", { key: "g2" });
  await host.spawn("guarded-durable", { key: "d1" });
  client = await connectClient({ servers: server.url, namespace: NS, name: "alice", credentials: creds.client });
  raw = await rawConnection(creds.client);
}, 60_000);

afterAll(async () => {
  await raw?.close();
  await client?.close();
  await host?.close();
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("requireVerifiedSender", () => {
  it("is recorded in the type's route, so senders know to sign", async () => {
    const route = await (client as unknown as { messenger: { lookupRoute(t: string): Promise<{ verified: boolean }> } }).messenger.lookupRoute("guarded");
    expect(route.verified).toBe(true);
  });

  it("accepts asks and tells from a client credential, with the client's name as sender", async () => {
    expect(await client.ref("guarded", "g1").ask({ op: "hello" })).toBe("client:alice");
    await client.ref("guarded", "g1").tell({ op: "told" });
    await waitFor(async () => ((await client.ref("guarded", "g1").ask({ op: "log" })) as string[]).includes("told:client:alice"), "the tell");
  });

  it("accepts a node credential speaking as its node and as its agents", async () => {
    const peer = await startNode({ servers: server.url, namespace: NS, name: "peer", credentials: creds.node, agents: [relay] });
    try {
      expect(await peer.ref("guarded", "g1").ask({ op: "hi" })).toBe("node:peer");
      await peer.spawn("relay", { key: "r1" });
      expect(await peer.ref("relay", "r1").ask({ key: "g1" })).toBe("relay/r1");
    } finally {
      await peer.close();
    }
  });

  it("refuses a node credential narrowed to other types speaking for an agent of a type not in it", async () => {
    const narrow = await startNode({ servers: server.url, namespace: NS, name: "narrow", credentials: creds.narrow, agents: [relay] });
    try {
      // As its node it may speak.
      expect(await narrow.ref("guarded", "g1").ask({ op: "hi" })).toBe("node:narrow");
      await narrow.spawn("relay", { key: "r2" });
      const answer = (await narrow.ref("relay", "r2").ask({ key: "g1" })) as { refused: string; reason: string };
      expect(answer.refused).toBe("relay/r2");
      expect(answer.reason).toContain("agent types other");
    } finally {
      await narrow.close();
    }
  });

  it("refuses an unsigned ask (a sender without credentials) with UnverifiedSenderError, and dead-letters an unsigned tell", async () => {
    const nc = await rawConnection(creds.client);
    const bare = await connectClient({ connection: nc, namespace: NS, name: "bare" });
    const events = recordEvents(host, { kind: EventKind.InvalidMessage, type: "guarded", key: "g2" });
    try {
      const err = await bare.ref("guarded", "g2").ask({ op: "unsigned" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnverifiedSenderError);
      expect((err as UnverifiedSenderError).sender).toBe("client:bare");
      expect((err as UnverifiedSenderError).reason).toContain("no proof");

      raw.publish(subjects.agent("guarded", "g2"), envelope(Kind.Tell, "client:mallory", { op: "unsigned-tell" }));
      await waitFor(async () => {
        const { letters } = await client.deadLetters.list({ agent: "guarded/g2" });
        return letters.some((l) => l.kind === "letter" && l.sender === "client:mallory" && l.reason.includes("no proof"));
      }, "the unsigned tell's dead letter");
      await waitFor(() => events.events.length >= 2, "an invalid_message event for each");
      expect(await client.ref("guarded", "g2").ask({ op: "log" })).toEqual([]);
    } finally {
      events.stop();
      await bare.close();
      await nc.close();
    }
  });

  it("refuses a client credential claiming to be supervisor/root", async () => {
    const signer = await signerFor({ role: "client", namespace: NS, name: "carol" });
    const subject = subjects.agent("guarded", "g2");
    const data = envelope(Kind.Ask, "supervisor/root", { op: "forged" });
    const err = await rawAsk(subject, data, signer.headers(subject, data)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnverifiedSenderError);
    expect((err as UnverifiedSenderError).reason).toContain('a client credential named "carol" speaks as client:carol only');
    // Nor as another client.
    const other = envelope(Kind.Ask, "client:alice", { op: "forged" });
    const otherErr = await rawAsk(subject, other, signer.headers(subject, other)).catch((e: unknown) => e);
    expect(otherErr).toBeInstanceOf(UnverifiedSenderError);
    expect((otherErr as UnverifiedSenderError).reason).toContain("speaks as client:carol only");
    // The same credential speaking as a client is accepted.
    const ok = envelope(Kind.Ask, "client:carol", { op: "honest" });
    expect(await rawAsk(subject, ok, signer.headers(subject, ok))).toBe("client:carol");
  });

  it("refuses an observer credential and a credential for another namespace", async () => {
    const subject = subjects.agent("guarded", "g2");
    for (const [signer, why] of [
      [await signerFor({ role: "observer", namespace: NS }), "observer"],
      [await signerFor({ role: "client", namespace: "elsewhere" }), `not for namespace "${NS}"`],
    ] as const) {
      const data = envelope(Kind.Ask, "client:x", { op: "nope" });
      const err = await rawAsk(subject, data, signer.headers(subject, data)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnverifiedSenderError);
      expect((err as UnverifiedSenderError).reason).toContain(why);
    }
  });

  it("refuses a signature replayed on another subject, and one over a changed body", async () => {
    const signer = await signerFor({ role: "client", namespace: NS, name: "carol" });
    const g1 = subjects.agent("guarded", "g1");
    const g2 = subjects.agent("guarded", "g2");
    const data = envelope(Kind.Ask, "client:carol", { op: "for-g1" });
    const proof = signer.headers(g1, data);
    const moved = await rawAsk(g2, data, proof).catch((e: unknown) => e);
    expect(moved).toBeInstanceOf(UnverifiedSenderError);
    expect((moved as UnverifiedSenderError).reason).toContain("signature does not match");
    const changed = envelope(Kind.Ask, "client:carol", { op: "for-g1-changed" });
    const altered = await rawAsk(g1, changed, proof).catch((e: unknown) => e);
    expect(altered).toBeInstanceOf(UnverifiedSenderError);
    expect((altered as UnverifiedSenderError).reason).toContain("signature does not match");
  });

  it("refuses a JWT issued by another operator's account, and a JWT with a forged issuer signature", async () => {
    const subject = subjects.agent("guarded", "g2");
    const foreign = await signerFor({ role: "admin", namespace: NS }, stranger);
    const data = envelope(Kind.Ask, "client:x", { op: "foreign" });
    const err = await rawAsk(subject, data, foreign.headers(subject, data)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnverifiedSenderError);
    expect((err as UnverifiedSenderError).reason).toContain("was not issued by this node's account");

    // A JWT whose claims say our account issued it, signed by another key.
    const [h, , sig] = foreign.jwt.split(".");
    const claims = JSON.parse(Buffer.from(foreign.jwt.split(".")[1]!, "base64url").toString()) as { iss: string };
    claims.iss = authority.account;
    const forgedJwt = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}`;
    const hdrs = natsHeaders();
    hdrs.set(ProofHeader.Signer, forgedJwt);
    hdrs.set(ProofHeader.Signature, foreign.sign(subject, data));
    const forged = await rawAsk(subject, data, hdrs).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(UnverifiedSenderError);
    expect((forged as UnverifiedSenderError).reason).toContain("not signed by its issuer");
  });

  it("keeps the agent running through every refusal: only proven messages reached it", async () => {
    const log = (await client.ref("guarded", "g2").ask({ op: "log" })) as string[];
    expect(log).toEqual(["honest:client:carol"]);
  });

  it("checks durable mailbox messages when the feed delivers them: signed ones are applied, unsigned ones refused and passed", async () => {
    expect(await client.ref("guarded-durable", "d1").ask({ op: "a" })).toEqual({ n: 1, sender: "client:alice" });
    const nc = await rawConnection(creds.client);
    const bare = await connectClient({ connection: nc, namespace: NS, name: "bare" });
    try {
      const err = await bare.ref("guarded-durable", "d1").ask({ op: "unsigned" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnverifiedSenderError);
      await bare.ref("guarded-durable", "d1").tell({ op: "unsigned-tell" });
    } finally {
      await bare.close();
      await nc.close();
    }
    await client.ref("guarded-durable", "d1").tell({ op: "b" });
    expect(await client.ref("guarded-durable", "d1").ask({ op: "c" })).toEqual({ n: 3, sender: "client:alice" });
  });

  it("signs again what it sends again: an ask that activates an on-demand agent reaches it", async () => {
    expect(await client.ref("guarded-lazy", "z1").ask({ op: "wake" })).toBe("client:alice");
  });

  it("cannot be hosted by a node without credentials", async () => {
    const prior = process.env.NATS_CREDS;
    delete process.env.NATS_CREDS;
    try {
      const err = await startNode({ servers: server.url, namespace: NS, name: "nocreds", agents: [guarded] }).catch((e: unknown) => e);
      if (err && typeof (err as TroupeNode).close === "function") await (err as TroupeNode).close();
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as InvalidConfigError).message).toContain("guarded");
    } finally {
      if (prior !== undefined) process.env.NATS_CREDS = prior;
    }
  });
});
