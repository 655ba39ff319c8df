// Durable mailboxes against a real server, at their edges: a light client in a
// namespace whose type directory does not exist yet (nodes of an older
// version) sends to the core mailbox instead of looking the type up forever.

import { afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, useNatsServer } from "./testing/server.js";
import { connectClient, type TroupeClient } from "./client.js";
import { startNode, type TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { decodeEnvelope } from "./envelope.js";

const nats = useNatsServer();
const open: Array<TroupeNode | TroupeClient> = [];
afterEach(async () => {
  for (const n of open.splice(0).reverse()) await n.close().catch(() => {});
});

describe("durable mailboxes at their edges", () => {
  it("a client in a namespace without a type directory sends to the core mailbox", async () => {
    const ns = "rev-notypes";
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n", agents: [] });
    await node.close();
    // The namespace as nodes before durable mailboxes left it: no type directory.
    const nc = await connectTo(nats.url);
    await (await jetstreamManager(nc)).streams.delete(`KV_${new Subjects(ns).typesBucket()}`);
    await nc.close();
    const client = await connectClient({ servers: nats.url, namespace: ns, name: "c" });
    open.push(client);
    const sub = client.connection.subscribe(new Subjects(ns).agent("echo", "e1"), { max: 1 });
    const got = (async () => {
      for await (const m of sub) return decodeEnvelope(m.data, 1 << 20).body;
    })();
    await client.ref("echo", "e1").tell("hello");
    expect(await got).toBe("hello");
  });
});
