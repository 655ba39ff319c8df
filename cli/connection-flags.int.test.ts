// agentctl's connection flags against a server that requires TLS: --tls-ca,
// NATS_CA and a NATS CLI context (from a temporary XDG_CONFIG_HOME) reach it,
// `node start` hosts agents through it, and without the CA, with a missing
// file or an unknown context, the command fails with one sentence and its
// exit code.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { useNatsServer } from "../runtime/testing/server.js";
import { AgentctlProcess, agentctl, freePort } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer({ tls: true });
const namespace = `tls-${randomBytes(3).toString("hex")}`;
let dir: string;
let config: string;

const noStack = (text: string): void => {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/\.ts:\d+:\d+/);
};

/** The agent ids `ps --json` lists. */
const ids = (stdout: string): string[] => (JSON.parse(stdout) as AgentInfo[]).map((a) => a.id).sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "troupe-cli-tls-"));
  config = join(dir, "config");
  mkdirSync(join(config, "nats", "context"), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agentctl against a server that requires TLS", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;

  beforeAll(async () => {
    // The node finds the CA through the environment, as the nats CLI would.
    node = new AgentctlProcess(["node", "start", "--name", "tls-node", "--server", nats.url, "--namespace", namespace], { NATS_CA: nats.server.tls!.ca });
    await node.waitFor(/ready/);
    const spawned = await agentctl(["spawn", "counter", "--key", "c1", "--server", nats.url, "--namespace", namespace, "--tls-ca", nats.server.tls!.ca]);
    expect(spawned).toMatchObject({ code: 0, stdout: "counter/c1\n" });
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
  });

  it("--tls-ca reaches it: ps lists the agent the node hosts", async () => {
    const r = await agentctl(["--tls-ca", nats.server.tls!.ca, "ps", "--json", "--server", nats.url, "--namespace", namespace]);
    expect(r.code).toBe(0);
    expect(ids(r.stdout)).toEqual(["counter/c1"]);
  });

  it("without the CA, the command fails with one sentence about the certificate, exit 3", async () => {
    const r = await agentctl(["ps", "--server", nats.url, "--namespace", namespace]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach a NATS server at .* \(.*certificate.*\)/);
    noStack(r.stderr);
  });

  it("a NATS context gives the URL and the CA; the selected one is used without --context, and --server overrides its URL", async () => {
    writeFileSync(join(config, "nats", "context", "secure-dev.json"), JSON.stringify({ description: "", url: nats.url, creds: "", ca: nats.server.tls!.ca, cert: "", key: "" }));
    const env = { XDG_CONFIG_HOME: config };

    const named = await agentctl(["ask", "counter/c1", '{"op":"inc"}', "--context", "secure-dev", "--namespace", namespace], env);
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toBe(1);

    writeFileSync(join(config, "nats", "context.txt"), "secure-dev\n");
    const selected = await agentctl(["ps", "--json", "--namespace", namespace], env);
    expect(selected.code).toBe(0);
    expect(ids(selected.stdout)).toEqual(["counter/c1"]);

    const dead = `nats://127.0.0.1:${await freePort()}`;
    const overridden = await agentctl(["ps", "--server", dead, "--namespace", namespace], env);
    expect(overridden.code).toBe(3);
    expect(overridden.stderr).toContain(dead);
  });
});

describe("bad connection flags are one sentence and exit 2, before connecting", { timeout: SLOW_MS }, () => {
  it.for([
    ["a missing --creds file", ["--creds", "/nonexistent/me.creds"], {}, /^error: credentials \/nonexistent\/me\.creds: cannot read it \(ENOENT\); it was given by --creds$/m],
    ["a missing NATS_CREDS file", [], { NATS_CREDS: "/nonexistent/env.creds" }, /^error: credentials \/nonexistent\/env\.creds: cannot read it \(ENOENT\); it was given by NATS_CREDS$/m],
    ["a creds file that is not one", ["--creds", "package.json"], {}, /^error: credentials .*package\.json: not a NATS credentials file/m],
    ["a missing --tls-ca file", ["--tls-ca", "/nonexistent/ca.pem"], {}, /^error: cannot read the TLS file \/nonexistent\/ca\.pem \(ENOENT\), given by --tls-ca$/m],
    ["an unknown --context", ["--context", "nowhere"], { XDG_CONFIG_HOME: "CONFIG" }, /^error: unknown NATS context "nowhere": there is no .*nats\/context\/nowhere\.json$/m],
  ] as const)("%s", async ([, flags, env, message]) => {
    const e = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === "CONFIG" ? config : v]));
    const r = await agentctl(["ps", ...flags, "--server", nats.url], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain("cannot reach");
    noStack(r.stderr);
  });

  it("--help describes the connection flags and where each setting comes from", async () => {
    const r = await agentctl(["ps", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--creds <file>", "--context <name>", "--tls-ca <file>", "--tls-cert <file>", "--tls-key <file>"]) expect(r.stdout).toContain(flag);
    const top = await agentctl(["--help"]);
    expect(top.stdout).toContain("Connecting:");
    expect(top.stdout).toMatch(/agentctl dev --secure/);
  });
});
