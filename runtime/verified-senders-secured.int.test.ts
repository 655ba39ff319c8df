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
  client = await connectClient({ servers: secure.url, namespace: NS, name: "alice", credentials: await secure.creds({ role: "client" }) });
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
});
