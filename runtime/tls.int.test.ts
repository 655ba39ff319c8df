// TLS end to end: a server that requires TLS, with certificates made in the
// test. A node and a light client that trust its CA connect, spawn and ask;
// one that does not trust it gets a NotConnectedError naming the cause; a
// server that verifies clients needs a client certificate as well.

import { describe, expect, it } from "vitest";
import { counter, echo } from "../actors/builtins.js";
import { connectClient } from "./client.js";
import { NotConnectedError } from "./errors.js";
import { startNode } from "./node.js";
import { useNatsServer } from "./testing/server.js";

const NS = "tls";

describe("a server that requires TLS", () => {
  const nats = useNatsServer({ tls: true });

  it("serves a node and a client that trust its CA: spawn and ask work", async () => {
    const ca = nats.server.tls!.ca;
    const node = await startNode({ servers: nats.url, namespace: NS, name: "tls-node", agents: [echo, counter], tls: { ca } });
    try {
      const client = await connectClient({ servers: nats.url, namespace: NS, tls: { ca } });
      try {
        const ref = await client.spawn("counter", { key: "c1" });
        await ref.ask({ op: "inc" });
        expect(await ref.ask({ op: "get" })).toBe(1);
        const e1 = await client.spawn("echo", { key: "e1" });
        expect(await e1.ask("over tls")).toBe("over tls");
      } finally {
        await client.close();
      }
    } finally {
      await node.close();
    }
  });

  it("refuses a client that does not trust its CA, with a NotConnectedError naming the certificate problem", async () => {
    const err = await connectClient({ servers: nats.url, namespace: NS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotConnectedError);
    expect((err as Error).message).toMatch(/certificate/i);
    expect((err as Error).message).toContain(nats.url);
  });

  it("refuses a node whose CA file is missing, naming the file", async () => {
    const err = await startNode({ servers: nats.url, namespace: NS, agents: [], tls: { ca: "/nonexistent/ca.pem" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotConnectedError);
    expect((err as Error).message).toContain("/nonexistent/ca.pem");
  });
});

describe("a server that verifies client certificates", () => {
  const nats = useNatsServer({ tls: { verify: true } });

  it("refuses a client with the CA but no certificate of its own", async () => {
    const err = await connectClient({ servers: nats.url, namespace: NS, tls: { ca: nats.server.tls!.ca } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotConnectedError);
  });

  it("accepts a node and a client with a certificate signed by its CA", async () => {
    const { ca, client: mine } = nats.server.tls!;
    const tls = { ca, cert: mine.cert, key: mine.key };
    const node = await startNode({ servers: nats.url, namespace: NS, name: "mtls-node", agents: [echo], tls });
    try {
      const client = await connectClient({ servers: nats.url, namespace: NS, tls });
      try {
        const e2 = await client.spawn("echo", { key: "e2" });
        expect(await e2.ask("mutual")).toBe("mutual");
      } finally {
        await client.close();
      }
    } finally {
      await node.close();
    }
  });
});
