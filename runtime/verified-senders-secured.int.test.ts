// Verified senders on a secured server (the kit's startSecureNatsServer: the
// server enforces each role's permissions): proofs pass through what a client
// and a node may publish, the credentials' tags are what the verifier reads,
// and a client credential that forges its sender is still refused.

import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { credentialsFrom } from "./auth/credentials.js";
import { SenderSigner } from "./auth/sender-proof.js";
import { connectClient, type TroupeClient } from "./client.js";
import { inboxPrefixOf } from "./connection.js";
import { defineAgent } from "./define-agent.js";
import { decodeEnvelope, encodeEnvelope, Kind, nextMessageId } from "./envelope.js";
import { UnverifiedSenderError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { startSecureNatsServer, type SecureNatsServer } from "./testing/secure-server.js";
import { fromWireError } from "./wire-error.js";

const NS = "default";
const MAX = 1024 * 1024;

const guarded = defineAgent({
  type: "guarded",
  requireVerifiedSender: true,
  persist: false,
  receive: (_msg: unknown, ctx) => ctx.sender,
});

let secure: SecureNatsServer;
let host: TroupeNode;
let client: TroupeClient;

beforeAll(async () => {
  secure = await startSecureNatsServer();
  host = await startNode({ servers: secure.url, namespace: NS, name: "host", credentials: await secure.creds({ role: "node" }), agents: [guarded] });
  await host.spawn("guarded", { key: "g1" });
  // No name given: the client takes its credential's, the only one it may sign as.
  client = await connectClient({ servers: secure.url, namespace: NS, credentials: await secure.creds({ role: "client", name: "alice" }) });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await host?.close();
  await secure?.dispose();
});

describe("requireVerifiedSender on a secured server", () => {
  it("accepts a client credential's signed asks and tells", async () => {
    expect(await client.ref("guarded", "g1").ask({ op: "hi" })).toBe("client:alice");
    await client.ref("guarded", "g1").tell({ op: "told" });
    expect(await client.ref("guarded", "g1").ask({ op: "again" })).toBe("client:alice");
  });

  it("refuses a client credential that signs as supervisor/root, though the server let it publish", async () => {
    const path = await secure.creds({ role: "client", name: "mallory" });
    const creds = await credentialsFrom(await readFile(path));
    const nc: NatsConnection = await connect({ servers: secure.url, authenticator: credsAuthenticator(creds.bytes), inboxPrefix: inboxPrefixOf(creds) });
    try {
      const subject = new Subjects(NS).agent("guarded", "g1");
      const data = encodeEnvelope(Kind.Ask, nextMessageId(), "supervisor/root", null, { op: "forged" }, MAX);
      const reply = await nc.request(subject, data, { timeout: 5000, headers: new SenderSigner(creds).headers(subject, data) });
      const env = decodeEnvelope(reply.data, MAX);
      const err = env.error ? fromWireError(subject, env.error) : undefined;
      expect(err).toBeInstanceOf(UnverifiedSenderError);
      expect((err as UnverifiedSenderError).sender).toBe("supervisor/root");
    } finally {
      await nc.close();
    }
  });

  it("ties the name a sender gives to its credential: a client speaks only as client:<its JWT's name>, a node credential bound to a name only as that node", async () => {
    const subject = new Subjects(NS).agent("guarded", "g1");
    const signerOf = async (path: string) => new SenderSigner(await credentialsFrom(await readFile(path)));
    const ask = async (signer: SenderSigner, sender: string): Promise<unknown> => {
      const data = encodeEnvelope(Kind.Ask, nextMessageId(), sender, null, { op: "who" }, MAX);
      const reply = await client.connection.request(subject, data, { timeout: 5000, headers: signer.headers(subject, data) });
      const env = decodeEnvelope(reply.data, MAX);
      return env.error ? fromWireError(subject, env.error) : env.body;
    };
    const refused = (err: unknown, sender: string, reason: string) => {
      expect(err).toBeInstanceOf(UnverifiedSenderError);
      expect({ sender: (err as UnverifiedSenderError).sender, reason: (err as UnverifiedSenderError).reason }).toMatchObject({ sender, reason: expect.stringContaining(reason) });
    };

    // The standard client credential is named "client": it may not pass for an admin's client, or alice.
    const plain = await signerOf(await secure.creds({ role: "client" }));
    refused(await ask(plain, "client:admin"), "client:admin", 'a client credential named "client" speaks as client:client only');
    refused(await ask(plain, "client:alice"), "client:alice", "speaks as client:client only");
    expect(await ask(plain, "client:client")).toBe("client:client");

    // A node credential bound to n9 may not sign as node n1; as n9, and for agents, it may.
    const n9 = await signerOf(await secure.creds({ role: "node", node: "n9" }));
    refused(await ask(n9, "node:n1"), "node:n1", 'a node credential bound to node "n9" speaks as node:n9 only');
    expect(await ask(n9, "node:n9")).toBe("node:n9");
    expect(await ask(n9, "guarded/g1")).toBe("guarded/g1");
  });

  it("names a client after its credential when no name is given", () => {
    expect(client.name).toBe("alice");
  });
});
