// Signing and checking senders' proofs without a server: interoperability
// with the nkeys package's own ed25519, what each role may claim, expiry, and
// the envelope's sender read without decoding its body.

import { describe, expect, it } from "vitest";
import { encodeUser, fmtCreds } from "@nats-io/jwt";
import { createAccount, createUser, fromSeed } from "@nats-io/nkeys";
import { FakeClock } from "../clock.js";
import { encodeValue } from "../codec.js";
import { encodeEnvelope, decodeEnvelope, Kind } from "../envelope.js";
import { envelopeSender } from "../envelope-sender.js";
import { InvalidMessageError } from "../errors.js";
import { createTestAuthority, type TestUser } from "../testing/test-authority.js";
import { credentialsFrom } from "./credentials.js";
import { SenderSigner, SenderVerifier } from "./sender-proof.js";

const NS = "proofs";
const SUBJECT = "troupe.proofs.agent.guarded.g1";
const MAX = 1024 * 1024;
const body = (sender: string | null, msg: unknown = { op: "x" }) => encodeEnvelope(Kind.Ask, "id1", sender, null, msg, MAX);
const signed = (subject: string, payload: Uint8Array) => {
  const out = new Uint8Array(Buffer.byteLength(subject) + 1 + payload.length);
  out.set(Buffer.from(`${subject}\n`), 0);
  out.set(payload, Buffer.byteLength(subject) + 1);
  return out;
};

async function setUp(now = Date.now()) {
  const authority = await createTestAuthority();
  const clock = new FakeClock(now);
  const verifier = new SenderVerifier({ account: authority.account, namespace: NS, clock });
  const signer = async (user: TestUser) => new SenderSigner(await credentialsFrom(await authority.issue(user)));
  return { authority, clock, verifier, signer };
}

describe("sender proofs", () => {
  it("interoperate with nkeys: its signature verifies here, and this one verifies with nkeys", async () => {
    const { authority, verifier } = await setUp();
    const creds = await credentialsFrom(await authority.issue({ role: "client", namespace: NS }));
    const kp = fromSeed(creds.seed);
    const data = body("client:client");
    const theirs = Buffer.from(kp.sign(signed(SUBJECT, data))).toString("base64url");
    expect(verifier.problem(SUBJECT, data, creds.jwt, theirs, "client:client")).toBeUndefined();
    const ours = new SenderSigner(creds).sign(SUBJECT, data);
    expect(kp.verify(signed(SUBJECT, data), Buffer.from(ours, "base64url"))).toBe(true);
    expect(ours).toBe(theirs); // ed25519 is deterministic
  });

  it.each([
    // role, types, sender, allowed
    ["admin", undefined, "supervisor/root", true],
    ["admin", undefined, "client:ops", true],
    ["node", undefined, "node:n1", true],
    ["node", undefined, "counter/c1", true],
    ["node", undefined, "supervisor/root", true],
    ["node", undefined, "client:alice", false],
    ["node", ["counter"], "counter/c1", true],
    ["node", ["counter"], "node:n1", true],
    ["node", ["counter"], "supervisor/root", false],
    ["node", "counter/c1", "counter/c1", true],
    ["node", "counter/c1", "node:n1", true],
    ["node", "counter/c2", "counter/c1", false],
    // A client credential's JWT name is "client" here: it speaks as client:client only.
    ["client", undefined, "client:client", true],
    ["client", undefined, "client:alice", false],
    ["client", undefined, "client:admin", false],
    ["client", undefined, "client:", false],
    ["client", undefined, "supervisor/root", false],
    ["client", undefined, "node:n1", false],
    ["observer", undefined, "client:alice", false],
  ] as const)("a %s credential (narrowed to %s) speaking as %s: allowed %s", async (role, narrowed, sender, allowed) => {
    const { verifier, signer } = await setUp();
    const tags = [`troupe-role:${role}`, `troupe-ns:${NS}`];
    if (Array.isArray(narrowed)) tags.push(`troupe-types:${narrowed.join(",")}`);
    else if (typeof narrowed === "string") tags.push(`troupe-agent:${narrowed}`);
    const s = await signer({ role, namespace: NS, tags });
    const data = body(sender);
    const problem = verifier.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), sender);
    expect(problem === undefined).toBe(allowed);
  });

  it.each([
    // JWT name, tags besides role and namespace, sender, allowed
    ["client", "client", [], "client:client", true],
    ["client", "client", [], "client:admin", false],
    ["client", "alice", [], "client:alice", true],
    ["client", "alice", [], "client:bob", false],
    ["node", "node", ["troupe-node:n9"], "node:n9", true],
    ["node", "node", ["troupe-node:n9"], "node:n1", false],
    ["node", "node", ["troupe-node:n9"], "counter/c1", true],
    ["node", "node", [], "node:n1", true],
    ["node", "node", ["troupe-node:n9", "troupe-node:n1"], "node:n1", false],
  ] as const)("a %s credential named %s with tags %j speaking as %s: allowed %s", async (role, name, extra, sender, allowed) => {
    const { verifier, signer } = await setUp();
    const s = await signer({ role, namespace: NS, name, tags: [`troupe-role:${role}`, `troupe-ns:${NS}`, ...extra] });
    const data = body(sender);
    const problem = verifier.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), sender);
    expect(problem === undefined, problem).toBe(allowed);
  });

  it("says which name a client or a bound node may speak as", async () => {
    const { verifier, signer } = await setUp();
    const client = await signer({ role: "client", namespace: NS });
    const asAdmin = body("client:admin");
    expect(verifier.problem(SUBJECT, asAdmin, client.jwt, client.sign(SUBJECT, asAdmin), "client:admin")).toBe('a client credential named "client" speaks as client:client only, not as "client:admin"');
    const n9 = await signer({ role: "node", namespace: NS, tags: ["troupe-role:node", `troupe-ns:${NS}`, "troupe-node:n9"] });
    const asN1 = body("node:n1");
    expect(verifier.problem(SUBJECT, asN1, n9.jwt, n9.sign(SUBJECT, asN1), "node:n1")).toBe('a node credential bound to node "n9" speaks as node:n9 only, not as "node:n1"');
  });

  it("refuses a message naming no sender, whatever the role", async () => {
    const { verifier, signer } = await setUp();
    const s = await signer({ role: "admin", namespace: NS });
    const data = body(null);
    expect(verifier.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), null)).toContain("names no sender");
  });

  it("refuses a JWT once it expired on the verifier's clock, though it was checked and cached before", async () => {
    const now = Date.UTC(2030, 0, 1);
    const { verifier, signer, clock } = await setUp(now);
    const s = await signer({ role: "client", namespace: NS, name: "a", expires: now / 1000 + 60 });
    const data = body("client:a");
    const sig = s.sign(SUBJECT, data);
    expect(verifier.problem(SUBJECT, data, s.jwt, sig, "client:a")).toBeUndefined();
    await clock.advance(61_000);
    expect(verifier.problem(SUBJECT, data, s.jwt, sig, "client:a")).toContain("expired");
  });

  it("refuses JWTs without a role, with two roles, or for another namespace", async () => {
    const { verifier, signer } = await setUp();
    for (const [tags, why] of [
      [[`troupe-ns:${NS}`], "no role"],
      [[`troupe-ns:${NS}`, "troupe-role:client", "troupe-role:admin"], "more than one role"],
      [["troupe-ns:other", "troupe-role:admin"], "not for namespace"],
      [[`troupe-ns:${NS}`, "troupe-role:root"], "unknown role"],
    ] as const) {
      const s = await signer({ role: "client", namespace: NS, tags });
      const data = body("client:a");
      expect(verifier.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), "client:a")).toContain(why);
    }
  });

  it("trusts a signing key of its account only when told to (a node's own credentials were issued by it)", async () => {
    const account = createAccount();
    const signingKey = createAccount();
    const user = createUser();
    const jwt = await encodeUser("a", user, account, { tags: ["troupe-role:client", `troupe-ns:${NS}`] }, { signer: signingKey });
    const s = new SenderSigner(await credentialsFrom(fmtCreds(jwt, user)));
    const data = body("client:a");
    const clock = new FakeClock(Date.now());
    const plain = new SenderVerifier({ account: account.getPublicKey(), namespace: NS, clock });
    expect(plain.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), "client:a")).toContain("was not issued by this node's account");
    const withKey = new SenderVerifier({ account: account.getPublicKey(), signingKeys: [signingKey.getPublicKey()], namespace: NS, clock });
    expect(withKey.problem(SUBJECT, data, s.jwt, s.sign(SUBJECT, data), "client:a")).toBeUndefined();
  });

  it("trusts the clients' account for client and observer credentials only", async () => {
    const clock = new FakeClock(Date.now());
    const own = createAccount();
    const clients = createAccount();
    const verifier = new SenderVerifier({ account: own.getPublicKey(), clientsAccount: clients.getPublicKey(), namespace: NS, clock });
    const issued = async (role: string, name: string) => {
      const user = createUser();
      const jwt = await encodeUser(name, user, clients, { tags: [`troupe-role:${role}`, `troupe-ns:${NS}`] });
      return new SenderSigner(await credentialsFrom(fmtCreds(jwt, user)));
    };
    const client = await issued("client", "web");
    const data = body("client:web");
    expect(verifier.problem(SUBJECT, data, client.jwt, client.sign(SUBJECT, data), "client:web")).toBeUndefined();
    // A node or admin credential from the clients' account would let a client account holder speak for agents.
    for (const role of ["node", "admin"]) {
      const forged = await issued(role, "n1");
      const claim = body("supervisor/root");
      expect(verifier.problem(SUBJECT, claim, forged.jwt, forged.sign(SUBJECT, claim), "supervisor/root")).toMatch(/clients' account, which issues no (node|admin) credentials/);
    }
  });

  it("refuses a malformed signature or JWT without throwing", async () => {
    const { verifier, signer } = await setUp();
    const s = await signer({ role: "client", namespace: NS });
    const data = body("client:a");
    expect(verifier.problem(SUBJECT, data, s.jwt, "@@not-base64@@", "client:a")).toContain("signature does not match");
    expect(verifier.problem(SUBJECT, data, "a.b", "x", "client:a")).toContain("is not a JWT");
    expect(verifier.problem(SUBJECT, data, "e30.e30.e30", "x", "client:a")).toContain("not a NATS v2 JWT");
    expect(verifier.problem(SUBJECT, data, undefined, undefined, "client:a")).toContain("no proof");
  });
});

describe("envelopeSender", () => {
  it.each([
    ["a short sender", "client:a"],
    ["no sender", null],
    ["a 40-character sender (str8)", `client:${"x".repeat(33)}`],
    ["a 300-character sender (str16)", `t/${"k".repeat(298)}`],
    ["a sender with non-ASCII characters", "client:zoë"],
  ])("reads %s as the full decode does", (_what, sender) => {
    for (const id of ["i", "i".repeat(40), "i".repeat(128)]) {
      const bytes = encodeEnvelope(Kind.Tell, id, sender, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", { big: "x".repeat(70_000) }, MAX);
      expect(envelopeSender(bytes, MAX)).toBe(decodeEnvelope(bytes, MAX).sender);
    }
  });

  it("refuses a sender over the envelope's bound, as the full decode does", () => {
    const bytes = encodeValue([1, Kind.Tell, "i", `t/${"k".repeat(5_000)}`, null, 1]);
    expect(() => decodeEnvelope(bytes, MAX)).toThrow(InvalidMessageError);
    expect(() => envelopeSender(bytes, MAX)).toThrow(InvalidMessageError);
  });

  it("refuses what is no envelope, or a sender that is not UTF-8", () => {
    expect(() => envelopeSender(new Uint8Array([0xc1]), MAX)).toThrow(InvalidMessageError);
    const bytes = encodeEnvelope(Kind.Tell, "i", "client:ab", null, 1, MAX);
    const at = bytes.indexOf(0x61, 10); // the "a" of "ab"
    bytes[at] = 0xff;
    expect(() => envelopeSender(bytes, MAX)).toThrow(InvalidMessageError);
  });
});
