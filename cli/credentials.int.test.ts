// agentctl with credentials, end to end: a secured server (operator mode,
// anonymous connections refused) that also requires TLS. `node start` runs
// with a node credential, the other commands with an admin one, given by
// --creds, by NATS_CREDS or by a NATS CLI context; without one the server
// refuses the connection.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { startSecureNatsServer, type SecureNatsServer } from "../runtime/testing/secure-server.js";
import { AgentctlProcess, agentctl } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;
const NS = "clicreds";

let secure: SecureNatsServer;
let adminCreds: string;
let node: AgentctlProcess | undefined;
let dir: string;

/** agentctl against the secured server, trusting its CA. */
const run = (args: string[], env?: Record<string, string>) =>
  agentctl([...args, "--server", secure.url, "--namespace", NS, "--tls-ca", secure.server.tls!.ca], env);

beforeAll(async () => {
  secure = await startSecureNatsServer({ namespaces: [NS], server: { tls: true } });
  adminCreds = await secure.creds({ role: "admin" });
  const nodeCreds = await secure.creds({ role: "node", node: "creds-node" });
  dir = mkdtempSync(join(tmpdir(), "troupe-cli-creds-"));
  node = new AgentctlProcess(["node", "start", "--name", "creds-node", "--server", secure.url, "--namespace", NS, "--creds", nodeCreds, "--tls-ca", secure.server.tls!.ca]);
  await node.waitFor(/ready/);
}, SLOW_MS);

afterAll(async () => {
  await node?.stop("SIGKILL");
  await secure?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("agentctl on a secured server", { timeout: SLOW_MS }, () => {
  it("node start says which credentials it runs with", () => {
    expect(node!.stdout).toMatch(/node creds-node ready in namespace clicreds at .* with credentials .*\.creds/);
  });

  it("--creds: spawn, ask and ps work with an admin credential", async () => {
    expect(await run(["spawn", "counter", "--key", "c1", "--creds", adminCreds])).toMatchObject({ code: 0, stdout: "counter/c1\n" });
    const asked = await run(["ask", "counter/c1", '{"op":"inc"}', "--creds", adminCreds]);
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.stdout)).toBe(1);
  });

  it("NATS_CREDS works as --creds does", async () => {
    const r = await run(["ps", "--json"], { NATS_CREDS: adminCreds });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as AgentInfo[]).map((a) => a.id)).toContain("counter/c1");
  });

  it("a NATS CLI context gives the URL, the credentials and the CA", async () => {
    const config = join(dir, "config");
    mkdirSync(join(config, "nats", "context"), { recursive: true });
    writeFileSync(join(config, "nats", "context", "troupe.json"), JSON.stringify({ url: secure.url, creds: adminCreds, ca: secure.server.tls!.ca }));
    const r = await agentctl(["ask", "counter/c1", '{"op":"get"}', "--context", "troupe", "--namespace", NS], { XDG_CONFIG_HOME: config });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(1);
  });

  it("with credentials, agentctl is the client its credential names (the only name it may sign as)", async () => {
    const ops = await secure.creds({ role: "admin", name: "ops" });
    expect((await run(["kv", "put", "team.plan", '"ship"', "--creds", ops])).code).toBe(0);
    const history = await run(["kv", "history", "team.plan", "--json", "--creds", ops]);
    expect(history.code).toBe(0);
    expect((JSON.parse(history.stdout) as { writer: string | null }[]).map((h) => h.writer)).toEqual(["client:ops"]);
  });

  it("without credentials the server refuses the connection: one sentence, exit 3", async () => {
    const r = await run(["ps"]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/authorization violation/i);
    expect(r.stderr).toMatch(/requires a credential it trusts/);
  });
});
