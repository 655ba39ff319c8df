// Verified senders: a message to an agent type that accepts only verified
// senders carries proof of who sent it, in two NATS headers: `Troupe-Signer`,
// the sender's user JWT, and `Troupe-Sig`, an ed25519 signature (base64url)
// by that user's nkey over the subject, a newline and the envelope's bytes.
// The receiving node checks that the JWT was issued by its own account for
// its namespace and has not expired, then the signature against the JWT's
// key, then that the JWT may speak as the envelope's `sender`: a client only
// as `client:<the JWT's name>`, a node credential bound to a node name only as
// that node (and, either way, as the agents of its types).
//
// Signing and checking use node:crypto's native ed25519 (the nkeys package's
// pure-JS one is many times slower); a JWT, once checked, is remembered by
// its text in a bounded cache, so a steady sender costs one signature check
// per message.

import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from "node:crypto";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { fromPublic, fromSeed } from "@nats-io/nkeys";
import { LRUCache } from "lru-cache";
import type { Clock } from "../clock.js";
import { parseAgentId } from "../subjects.js";
import { tagValue, type Credentials } from "./credentials.js";
import { Role } from "./roles.js";
import { CredentialTag } from "./tags.js";

/** The NATS headers that prove who sent a message. */
export const ProofHeader = {
  /** The sender's user JWT. */
  Signer: "Troupe-Signer",
  /** The signature (base64url) by the JWT's key over `subject + "\n" + envelope`. */
  Signature: "Troupe-Sig",
} as const;


/** Signers remembered by a verifier (each one checked JWT). */
const DEFAULT_SIGNER_CACHE = 4096;

const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const NEWLINE = 0x0a;

/** The bytes a proof signs: the subject, a newline, the envelope. */
function signedBytes(subject: string, payload: Uint8Array): Buffer {
  const n = Buffer.byteLength(subject);
  const out = Buffer.allocUnsafe(n + 1 + payload.length);
  out.write(subject, 0, "utf8");
  out[n] = NEWLINE;
  out.set(payload, n + 1);
  return out;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding, as nkeys writes keys and seeds. */
function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let i = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out[i++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** The native key of an nkey seed (`SU...`, checked by nkeys first). */
function privateKeyOf(seed: Uint8Array): KeyObject {
  fromSeed(seed); // checks the prefix and checksum
  // Two prefix bytes, the 32-byte ed25519 seed, two checksum bytes.
  const raw = base32Decode(new TextDecoder().decode(seed)).subarray(2, 34);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
}

/** The native key of a public nkey (`U...`, `A...`), checked by nkeys first. */
function publicKeyOf(key: string): KeyObject {
  fromPublic(key); // checks the prefix and checksum
  // One prefix byte, the 32-byte ed25519 public key, two checksum bytes.
  const raw = base32Decode(key).subarray(1, 33);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** Signs what a sender sends to agents that accept only verified senders. */
export class SenderSigner {
  /** The JWT sent with every signed message. */
  readonly jwt: string;
  private readonly key: KeyObject;

  constructor(credentials: Pick<Credentials, "jwt" | "seed">) {
    this.jwt = credentials.jwt;
    this.key = privateKeyOf(credentials.seed);
  }

  /** The signature (base64url) of `payload` sent to `subject`. */
  sign(subject: string, payload: Uint8Array): string {
    return edSign(null, signedBytes(subject, payload), this.key).toString("base64url");
  }

  /** The headers that prove this signer sent `payload` to `subject`. */
  headers(subject: string, payload: Uint8Array): MsgHdrs {
    const h = natsHeaders();
    h.set(ProofHeader.Signer, this.jwt);
    h.set(ProofHeader.Signature, this.sign(subject, payload));
    return h;
  }
}

/** A checked JWT: who signs with it, and what it may claim. */
interface Signer {
  readonly publicKey: string;
  readonly key: KeyObject;
  readonly role: Role;
  /** A node credential narrowed to these agent types; undefined: not narrowed. */
  readonly types: ReadonlySet<string> | undefined;
  /** A credential narrowed to this one agent (`type/key`); undefined: not narrowed. */
  readonly agent: string | undefined;
  /** The JWT's name: a client credential speaks as `client:<name>` only. */
  readonly name: string | undefined;
  /** A node credential bound to this node name; undefined: not bound. */
  readonly node: string | undefined;
  /** Not valid before / after, in ms on the clock (0 / Infinity when unbounded). */
  readonly notBefore: number;
  readonly expires: number;
}

/** What a verifier trusts. */
export interface VerifierTrust {
  /** The account (`A...`) every signer's JWT must be issued by. */
  account: string;
  /** Signing keys of that account also trusted to issue user JWTs (with `issuer_account` set to it). */
  signingKeys?: readonly string[];
  /** The account of the namespace's clients (`A...`): trusted to issue client and observer JWTs only. */
  clientsAccount?: string;
  /** The namespace a signer's JWT must be tagged with (`troupe-ns:<namespace>`). */
  namespace: string;
  clock: Clock;
  /** Checked JWTs remembered; default {@link DEFAULT_SIGNER_CACHE}. */
  cacheSize?: number;
}

/** Checks the proofs of messages to agents that accept only verified senders. */
export class SenderVerifier {
  private readonly signers: LRUCache<string, Signer>;
  private readonly issuers: ReadonlyMap<string, KeyObject>;

  constructor(private readonly trust: VerifierTrust) {
    this.signers = new LRUCache({ max: trust.cacheSize ?? DEFAULT_SIGNER_CACHE });
    const issuers = new Map<string, KeyObject>([[trust.account, publicKeyOf(trust.account)]]);
    for (const k of trust.signingKeys ?? []) issuers.set(k, publicKeyOf(k));
    if (trust.clientsAccount !== undefined) issuers.set(trust.clientsAccount, publicKeyOf(trust.clientsAccount));
    this.issuers = issuers;
  }

  /**
   * A node's verifier: it trusts the account of its own credentials (and the
   * signing key that issued them, when that was one of the account's), for
   * its namespace.
   */
  static forCredentials(credentials: Credentials, namespace: string, clock: Clock): SenderVerifier {
    const iss = credentials.claims.iss;
    const signingKeys = iss !== credentials.account && credentials.claims.nats.issuer_account === credentials.account ? [iss] : [];
    const clients = tagValue(credentials, CredentialTag.Clients);
    return new SenderVerifier({ account: credentials.account, signingKeys, namespace, clock, clientsAccount: clients || undefined });
  }

  /**
   * Why `data` sent to `subject` as `sender` is not proven by the headers
   * `signerJwt` and `signature`; undefined when it is. Never throws.
   */
  problem(subject: string, data: Uint8Array, signerJwt: string | undefined, signature: string | undefined, sender: string | null): string | undefined {
    if (!signerJwt || !signature) return `it carries no proof of its sender (the ${ProofHeader.Signer} and ${ProofHeader.Signature} headers; a sender without credentials cannot sign)`;
    let signer = this.signers.get(signerJwt);
    if (signer === undefined) {
      const checked = this.checkJwt(signerJwt);
      if (typeof checked === "string") return `its signer's JWT ${checked}`;
      signer = checked;
      this.signers.set(signerJwt, signer);
    }
    const now = this.trust.clock.now();
    if (now >= signer.expires) return `its signer's JWT expired on ${new Date(signer.expires).toISOString()}`;
    if (now < signer.notBefore) return `its signer's JWT is not valid before ${new Date(signer.notBefore).toISOString()}`;
    let ok: boolean;
    try {
      ok = edVerify(null, signedBytes(subject, data), signer.key, Buffer.from(signature, "base64url"));
    } catch {
      ok = false;
    }
    if (!ok) return `its signature does not match the message and subject (signed by ${signer.publicKey})`;
    return mayClaim(signer, sender);
  }

  /** Check a JWT (its issuer's signature, issuer, type, namespace, role): the signer, or why not. */
  private checkJwt(jwt: string): Signer | string {
    const parts = jwt.split(".");
    if (parts.length !== 3) return "is not a JWT";
    let header: { typ?: unknown; alg?: unknown };
    let claims: {
      iss?: unknown;
      sub?: unknown;
      name?: unknown;
      exp?: unknown;
      nbf?: unknown;
      nats?: { type?: unknown; tags?: unknown; issuer_account?: unknown };
    };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as typeof claims;
    } catch {
      return "does not decode";
    }
    if (header === null || typeof header !== "object" || (header.typ !== "JWT" && header.typ !== "jwt") || header.alg !== "ed25519-nkey") {
      return 'is not a NATS v2 JWT (typ "JWT", alg "ed25519-nkey")';
    }
    if (claims === null || typeof claims !== "object" || claims.nats === null || typeof claims.nats !== "object") return "has no NATS claims";
    const issuerKey = typeof claims.iss === "string" ? this.issuers.get(claims.iss) : undefined;
    if (issuerKey === undefined) return `was not issued by this node's account ${this.trust.account} (issuer ${JSON.stringify(claims.iss)})`;
    const issuerAccount = claims.nats.issuer_account;
    // Issued by the clients' account: a client or an observer, nothing more (checked with the role below).
    const byClients = claims.iss === this.trust.clientsAccount && issuerAccount === undefined;
    if (!byClients && claims.iss !== this.trust.account && issuerAccount !== this.trust.account) return `was issued by a signing key for another account (${JSON.stringify(issuerAccount)})`;
    if (!byClients && issuerAccount !== undefined && issuerAccount !== this.trust.account) return `names another issuer account (${JSON.stringify(issuerAccount)})`;
    let signatureOk: boolean;
    try {
      signatureOk = edVerify(null, Buffer.from(`${parts[0]}.${parts[1]}`, "ascii"), issuerKey, Buffer.from(parts[2]!, "base64url"));
    } catch {
      signatureOk = false;
    }
    if (!signatureOk) return "is not signed by its issuer";
    if (claims.nats.type !== "user") return `is a ${JSON.stringify(claims.nats.type)} JWT, not a user's`;
    if (typeof claims.sub !== "string" || !claims.sub.startsWith("U")) return "names no user key";
    let key: KeyObject;
    try {
      key = publicKeyOf(claims.sub);
    } catch {
      return "names a user key that is not valid";
    }
    const tags = Array.isArray(claims.nats.tags) ? claims.nats.tags.filter((t): t is string => typeof t === "string") : [];
    if (!tags.includes(`${CredentialTag.Namespace}${this.trust.namespace}`)) return `is not for namespace ${JSON.stringify(this.trust.namespace)} (no ${CredentialTag.Namespace}${this.trust.namespace} tag)`;
    const roles = tags.filter((t) => t.startsWith(CredentialTag.Role)).map((t) => t.slice(CredentialTag.Role.length));
    if (roles.length !== 1) return `names ${roles.length === 0 ? "no role" : "more than one role"} (one ${CredentialTag.Role}<admin|node|client|observer> tag)`;
    const role = roles[0] as Role;
    if (!Object.values(Role).includes(role)) return `names an unknown role ${JSON.stringify(role)}`;
    if (byClients && role !== Role.Client && role !== Role.Observer) return `was issued by the clients' account, which issues no ${role} credentials`;
    const typeTags = tags.filter((t) => t.startsWith(CredentialTag.Types));
    const types = typeTags.length === 0 ? undefined : new Set(typeTags.flatMap((t) => t.slice(CredentialTag.Types.length).split(",")).filter((t) => t.length > 0));
    const agents = tags.filter((t) => t.startsWith(CredentialTag.Agent)).map((t) => t.slice(CredentialTag.Agent.length));
    if (agents.length > 1) return `names more than one agent (${CredentialTag.Agent} tags)`;
    const nodes = tags.filter((t) => t.startsWith(CredentialTag.Node)).map((t) => t.slice(CredentialTag.Node.length));
    if (nodes.length > 1) return `names more than one node (${CredentialTag.Node} tags)`;
    const name = typeof claims.name === "string" && claims.name.length > 0 ? claims.name : undefined;
    const seconds = (v: unknown, dflt: number): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v * 1000 : dflt);
    return { publicKey: claims.sub, key, role, types, agent: agents[0], name, node: nodes[0], notBefore: seconds(claims.nbf, 0), expires: seconds(claims.exp, Infinity) };
  }
}

/** Why `signer` may not send as `sender`; undefined when it may. */
function mayClaim(signer: Signer, sender: string | null): string | undefined {
  if (sender === null) return "it names no sender";
  switch (signer.role) {
    case Role.Admin:
      return undefined;
    case Role.Node: {
      if (sender.startsWith("node:") && sender.length > 5) {
        // A credential bound to a node name speaks for that node only: one node cannot pass for another.
        if (signer.node === undefined || sender === `node:${signer.node}`) return undefined;
        return `a node credential bound to node ${JSON.stringify(signer.node)} speaks as node:${signer.node} only, not as ${JSON.stringify(sender)}`;
      }
      let type: string;
      try {
        type = parseAgentId(sender).type;
      } catch {
        return `a node credential speaks for its nodes and agents only, not as ${JSON.stringify(sender)}`;
      }
      if (signer.types !== undefined && !signer.types.has(type)) {
        return `a node credential for agent types ${[...signer.types].join(", ")} cannot speak for ${sender}`;
      }
      if (signer.agent !== undefined && signer.agent !== sender) return `a node credential for agent ${signer.agent} cannot speak for ${sender}`;
      return undefined;
    }
    case Role.Client:
      // The name is the credential's, not the sender's choice: one client cannot pass for another.
      if (signer.name === undefined) return `a client credential speaks as client:<the name in its JWT> only, and this one names none`;
      return sender === `client:${signer.name}` ? undefined : `a client credential named ${JSON.stringify(signer.name)} speaks as client:${signer.name} only, not as ${JSON.stringify(sender)}`;
    case Role.Observer:
      return "an observer credential sends no messages";
  }
}
