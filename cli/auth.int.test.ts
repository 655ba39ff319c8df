// agentctl auth init / issue: a configuration nats-server runs as written,
// credentials for every role, and narrowed ones issued while it runs.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { counter, startNode, type TroupeNode } from "../actors/index.js";
import { inboxPrefixOf } from "../runtime/connection.js";
import { readCredentials } from "../runtime/auth/credentials.js";
import { startNatsServer, type NatsServer } from "../runtime/testing/nats-server.js";
import { reader } from "./fixtures/grant-agents.js";
import { agentctl } from "./testing/agentctl-process.js";

const NS = "shop";
const dir = mkdtempSync(join(tmpdir(), "troupe-auth-cli-"));
let server: NatsServer;
let node: TroupeNode;
let env: Record<string, string>;

beforeAll(async () => {
  const init = await agentctl(["auth", "init", "--out", dir, "-n", NS]);
  expect(init.code, init.stderr).toBe(0);
  // As written: nats-server -c DIR/server.conf, with the port given on the command line.
  server = await startNatsServer({ configFile: join(dir, "server.conf"), jetstream: false });
  env = { NATS_URL: server.url };
  node = await startNode({ servers: server.url, namespace: NS, name: "n1", credentials: join(dir, "node.creds"), agents: [counter] });
  await node.spawn("counter", { key: "c1" });
  await node.spawn("counter", { key: "c2" });
}, 60_000);

afterAll(async () => {
  await node?.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("agentctl auth init", () => {
  it("writes a server configuration that refuses anonymous connections, and a credential per role", async () => {
    expect(readFileSync(join(dir, "server.conf"), "utf8")).toContain("resolver: MEMORY");
    await expect(connect({ servers: server.url, timeout: 3000, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    for (const role of ["admin", "node", "client", "observer"]) {
      const creds = await readCredentials(join(dir, `${role}.creds`));
      expect(creds.tags).toContain(`troupe-role:${role}`);
      expect(creds.tags).toContain(`troupe-ns:${NS}`);
    }
    const asAdmin = await agentctl(["ps", "-n", NS, "--creds", join(dir, "admin.creds")], env);
    expect(asAdmin.stdout).toContain("counter/c1");
  });

  it("refuses to overwrite an authority without --force", async () => {
    const again = await agentctl(["auth", "init", "--out", dir, "-n", NS]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("holds an authority already");
  });
});

describe("agentctl auth issue", () => {
  it("issues a client credential for one agent, accepted without a restart: it reaches that agent and no other", async () => {
    const file = join(dir, "c1.creds");
    const issued = await agentctl(["auth", "issue", "--role", "client", "--agent", "counter/c1", "--dir", dir, "--out", file]);
    expect(issued.code, issued.stderr).toBe(0);
    const asIt = { ...env, NATS_CREDS: file };
    const ok = await agentctl(["ask", "-n", NS, "counter/c1", '{"op":"inc"}'], asIt);
    expect(ok.stdout.trim()).toBe("1");
    const other = await agentctl(["ask", "-n", NS, "counter/c2", '{"op":"inc"}'], asIt);
    expect(other.code).toBe(6);
    expect(other.stderr).toMatch(/permission denied: .*troupe\.shop\.agent\.counter\.c2/);
    expect(await node.ref("counter", "c2").ask({ op: "get" })).toBe(0);
  });

  it("narrows a node credential to what its types' `can` declare, at the server", async () => {
    const file = join(dir, "reader-node.creds");
    const issued = await agentctl(["auth", "issue", "--role", "node", "--types", "reader", "--agents", "cli/fixtures/grant-agents.ts", "--dir", dir, "--out", file]);
    expect(issued.code, issued.stderr).toBe(0);
    const readerNode = await startNode({ servers: server.url, namespace: NS, name: "rn", credentials: file, agents: [reader] });
    try {
      await readerNode.spawn("reader", { key: "r1" });
      expect(await readerNode.ref("reader", "r1").ask({ counter: "c1" })).toBeGreaterThanOrEqual(1);
      // The same credential from a raw connection: outside `can`, the server says no.
      const creds = await readCredentials(file);
      const raw = await connect({ servers: server.url, authenticator: credsAuthenticator(creds.bytes), inboxPrefix: inboxPrefixOf(creds) });
      try {
        await expect(raw.request(`troupe.${NS}.agent.echo.e1`, new Uint8Array(), { timeout: 2000 })).rejects.toThrow(/Permissions Violation for Publish to "troupe\.shop\.agent\.echo\.e1"/);
        const mem = await new Kvm(raw).open(`troupe_${NS}_mem`);
        await expect(mem.put("facts.x", "forged")).rejects.toThrow(/Permissions Violation/);
        expect(await mem.put("notes.r9", "allowed")).toBeGreaterThan(0);
        await expect(raw.request(`$KV.troupe_${NS}_state.counter.c1`, new Uint8Array(), { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      } finally {
        await raw.close();
      }
    } finally {
      await readerNode.close();
    }
  });

  it("says what is wrong with a bad request", async () => {
    const both = await agentctl(["auth", "issue", "--role", "client", "--types", "a", "--agent", "a/b", "--dir", dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--types or --agent");
    const noDir = await agentctl(["auth", "issue", "--role", "client", "--dir", join(dir, "nowhere")]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain("auth init");
    const otherNs = await agentctl(["auth", "issue", "--role", "client", "-n", "elsewhere", "--dir", dir]);
    expect(otherNs.code).toBe(2);
    expect(otherNs.stderr).toContain('namespace "elsewhere" has no account');
  });
});
