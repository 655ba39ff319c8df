// Which URL, credentials file and TLS files agentctl connects with: flags over
// the environment over a NATS CLI context over the development credentials,
// and one clear error for a file or context that is not there. Files live in
// a temporary directory; nothing reads the real ~/.config/nats.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidCredentialsError } from "../runtime/errors.js";
import { DEFAULT_SERVER, resolveConnection, Source, type ConnectionFlags } from "./connection-flags.js";
import { DevRole } from "./dev-credentials.js";
import { UsageError } from "./exit-code.js";

let dir: string;
let config: string;
let devDir: string;
let emptyDevDir: string;
const file = (name: string): string => join(dir, name);

/** Write `<config>/nats/context/<name>.json`. */
function context(name: string, body: Record<string, unknown>): void {
  mkdirSync(join(config, "nats", "context"), { recursive: true });
  writeFileSync(join(config, "nats", "context", `${name}.json`), JSON.stringify(body));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "troupe-conn-flags-"));
  config = join(dir, "config");
  devDir = join(dir, "dev-auth");
  emptyDevDir = join(dir, "no-dev-auth");
  mkdirSync(devDir);
  for (const f of ["flag.creds", "env.creds", "ctx.creds", "flag-ca.pem", "env-ca.pem", "ctx-ca.pem", "ctx-cert.pem", "ctx-key.pem"]) writeFileSync(file(f), f);
  for (const f of ["admin.creds", "node.creds"]) writeFileSync(join(devDir, f), f);
  context("full", { description: "", url: "nats://ctx.example:4333", creds: file("ctx.creds"), ca: file("ctx-ca.pem"), cert: file("ctx-cert.pem"), key: file("ctx-key.pem") });
  // As `nats context save` writes it: every field, unused ones empty.
  context("saved", {
    description: "local", url: "nats://127.0.0.1:4999", token: "", user: "", password: "", creds: file("ctx.creds"), nkey: "", cert: "", key: "", ca: "",
    nsc: "", jetstream_domain: "", jetstream_api_prefix: "", jetstream_event_prefix: "", inbox_prefix: "", user_jwt: "", tls_first: false,
  });
  context("userpass", { url: "nats://ctx.example:4222", user: "me", password: "secret" });
  context("token", { token: "s3cret" });
  context("missing-creds", { creds: file("nope.creds") });
  context("vault", { creds: "op://vault/item/creds" });
  context("home", { creds: "$TROUPE_TEST_DIR/ctx.creds" });
  writeFileSync(join(config, "nats", "context", "broken.json"), "{ not json");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolve with only the given environment (no process env), the config dir, and the empty dev directory by default. */
function resolveWith(flags: ConnectionFlags, env: Record<string, string> = {}, opts: { role?: DevRole; dev?: string } = {}) {
  return resolveConnection(flags, { env: { XDG_CONFIG_HOME: config, ...env }, role: opts.role ?? DevRole.Admin, devAuthDir: opts.dev ?? emptyDevDir });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected it to throw");
}

describe("nothing given", () => {
  it("connects to the local development server without credentials or TLS", () => {
    const c = resolveWith({});
    expect(c).toMatchObject({ server: DEFAULT_SERVER, servers: [DEFAULT_SERVER], credentials: undefined, tls: undefined, context: undefined });
    expect(c.from).toEqual({ server: Source.Default, credentials: undefined });
  });

  it("splits a comma-separated URL list", () => {
    expect(resolveWith({ server: "nats://a:1, nats://b:2" }).servers).toEqual(["nats://a:1", "nats://b:2"]);
  });
});

describe("precedence: flag over environment over context", () => {
  it.for([
    // [case, flags, env, expected server, expected creds file, expected ca file]
    ["context only", { context: "full" }, {}, "nats://ctx.example:4333", "ctx.creds", "ctx-ca.pem"],
    ["env over context", { context: "full" }, { NATS_URL: "nats://env.example:1", NATS_CREDS: "ENV", NATS_CA: "ENVCA" }, "nats://env.example:1", "env.creds", "env-ca.pem"],
    ["flag over env and context", { context: "full", server: "nats://flag.example:2", creds: "FLAG", tlsCa: "FLAGCA" }, { NATS_URL: "nats://env.example:1", NATS_CREDS: "ENV", NATS_CA: "ENVCA" }, "nats://flag.example:2", "flag.creds", "flag-ca.pem"],
    ["flag over env, no context", { server: "nats://flag.example:2", creds: "FLAG" }, { NATS_URL: "nats://env.example:1", NATS_CREDS: "ENV" }, "nats://flag.example:2", "flag.creds", undefined],
    ["env alone", {}, { NATS_URL: "nats://env.example:1", NATS_CREDS: "ENV" }, "nats://env.example:1", "env.creds", undefined],
  ] as const)("%s", ([, flags, env, server, creds, ca]) => {
    const sub = (v: string): string => (v === "FLAG" ? file("flag.creds") : v === "ENV" ? file("env.creds") : v === "FLAGCA" ? file("flag-ca.pem") : v === "ENVCA" ? file("env-ca.pem") : v);
    const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, sub(v)]));
    const e = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, sub(v)]));
    const c = resolveWith(f, e);
    expect(c.server).toBe(server);
    expect(c.credentials).toBe(file(creds));
    expect(c.tls?.ca).toBe(ca === undefined ? undefined : file(ca));
  });

  it("takes each part where it is given: the URL from the flag, the credentials and TLS files from the context", () => {
    const c = resolveWith({ context: "full", server: "nats://flag.example:2" });
    expect(c.from).toEqual({ server: Source.Flag, credentials: Source.Context });
    expect(c.tls).toEqual({ ca: file("ctx-ca.pem"), cert: file("ctx-cert.pem"), key: file("ctx-key.pem") });
  });
});

describe("choosing the context", () => {
  it("uses NATS_CONTEXT when --context is not given, and --context over it", () => {
    expect(resolveWith({}, { NATS_CONTEXT: "saved" }).context?.name).toBe("saved");
    expect(resolveWith({ context: "full" }, { NATS_CONTEXT: "saved" }).context?.name).toBe("full");
  });

  it("uses the context selected in context.txt when nothing names one", () => {
    const selectedConfig = join(dir, "selected-config");
    mkdirSync(join(selectedConfig, "nats", "context"), { recursive: true });
    writeFileSync(join(selectedConfig, "nats", "context", "picked.json"), JSON.stringify({ url: "nats://picked.example:4222" }));
    writeFileSync(join(selectedConfig, "nats", "context.txt"), "picked\n");
    const c = resolveConnection({}, { env: { XDG_CONFIG_HOME: selectedConfig }, role: DevRole.Admin, devAuthDir: emptyDevDir });
    expect(c.context?.name).toBe("picked");
    expect(c.server).toBe("nats://picked.example:4222");
  });

  it("reads a context as `nats context save` writes it (every field, unused ones empty)", () => {
    const c = resolveWith({ context: "saved" });
    expect(c.server).toBe("nats://127.0.0.1:4999");
    expect(c.credentials).toBe(file("ctx.creds"));
    expect(c.tls).toBeUndefined();
  });

  it("expands $VARIABLES in a context's paths", () => {
    expect(resolveWith({ context: "home" }, { TROUPE_TEST_DIR: dir }).credentials).toBe(file("ctx.creds"));
  });
});

describe("the development credentials of agentctl dev --secure", () => {
  it("are used for a server on this machine when nothing else gives credentials: admin.creds, node.creds for a node", () => {
    const admin = resolveWith({}, {}, { dev: devDir });
    expect(admin.credentials).toBe(join(devDir, "admin.creds"));
    expect(admin.from.credentials).toBe(Source.Dev);
    expect(resolveWith({ server: "nats://localhost:4333" }, {}, { dev: devDir, role: DevRole.Node }).credentials).toBe(join(devDir, "node.creds"));
  });

  it("give way to credentials from a flag, the environment or a context", () => {
    expect(resolveWith({ creds: file("flag.creds") }, {}, { dev: devDir }).credentials).toBe(file("flag.creds"));
    expect(resolveWith({}, { NATS_CREDS: file("env.creds") }, { dev: devDir }).credentials).toBe(file("env.creds"));
    expect(resolveWith({ context: "saved" }, {}, { dev: devDir }).credentials).toBe(file("ctx.creds"));
  });

  it("are never sent to a server elsewhere", () => {
    expect(resolveWith({ server: "nats://nats.example:4222" }, {}, { dev: devDir }).credentials).toBeUndefined();
  });
});

describe("one clear error for what is not there or not supported", () => {
  it("a --creds file that cannot be read is an InvalidCredentialsError naming it and the flag", () => {
    const err = thrown(() => resolveWith({ creds: file("nope.creds") }));
    expect(err).toBeInstanceOf(InvalidCredentialsError);
    expect((err as Error).message).toBe(`credentials ${file("nope.creds")}: cannot read it (ENOENT); it was given by --creds`);
  });

  it.for([
    ["NATS_CREDS", {}, { NATS_CREDS: "/nonexistent/env.creds" }, /\/nonexistent\/env\.creds: cannot read it \(ENOENT\); it was given by NATS_CREDS/],
    ["a context's creds", { context: "missing-creds" }, {}, /cannot read it \(ENOENT\); it was given by creds of NATS context "missing-creds"/],
  ] as const)("so is one from %s", ([, flags, env, message]) => {
    const err = thrown(() => resolveWith(flags, env));
    expect(err).toBeInstanceOf(InvalidCredentialsError);
    expect((err as Error).message).toMatch(message);
  });

  it.for([
    ["an unknown context", { context: "nope" }, {}, /unknown NATS context "nope": there is no .*nats\/context\/nope\.json/],
    ["an unknown NATS_CONTEXT", {}, { NATS_CONTEXT: "nope" }, /unknown NATS context "nope"/],
    ["a context name that is a path", { context: "../evil" }, {}, /invalid NATS context name "..\/evil"/],
    ["a context that is not JSON", { context: "broken" }, {}, /NATS context "broken" .* is not valid JSON/],
    ["a context with a user and password", { context: "userpass" }, {}, /NATS context "userpass" sets user \(a user and password\), which agentctl does not support; it connects with a creds file/],
    ["a context with a token", { context: "token" }, {}, /sets token \(a token\), which agentctl does not support/],
    ["a context whose creds are not a file", { context: "vault" }, {}, /gives creds as "op:\/\/vault\/item\/creds", which agentctl does not support: give the path of a file/],
    ["a missing --tls-ca", { tlsCa: "/nonexistent/ca.pem" }, {}, /cannot read the TLS file \/nonexistent\/ca\.pem \(ENOENT\), given by --tls-ca/],
    ["a missing NATS_CA", {}, { NATS_CA: "/nonexistent/ca.pem" }, /given by NATS_CA/],
    ["a certificate without its key", { tlsCert: "CERT" }, {}, /a client certificate \(--tls-cert\) and its key \(--tls-key\) go together/],
    ["an empty --creds", { creds: " " }, {}, /--creds needs a value/],
    ["a bad --server", { server: "nats://[::" }, {}, /--server: invalid server URL/],
  ] as const)("%s is a usage error", ([, flags, env, message]) => {
    const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, v === "CERT" ? file("ctx-cert.pem") : v]));
    const err = thrown(() => resolveWith(f, env));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });
});
