// A NATS credentials file (`.creds`: a user JWT and its nkey seed), read and
// checked once. The runtime connects with it, answers on inboxes under the
// user's own prefix, and signs what it sends to agents that accept only
// verified senders with its seed.

import { readFile } from "node:fs/promises";
import { parseCreds, type ClaimsData, type User } from "@nats-io/jwt";
import { fromSeed } from "@nats-io/nkeys";
import { InvalidCredentialsError } from "../errors.js";
import { CredentialTag } from "./tags.js";

/** A credential: the user JWT, its seed, and what the JWT says. */
export interface Credentials {
  /** Where it was read from (for messages). */
  readonly path: string;
  /** The creds file's bytes, as the NATS client's authenticator takes them. */
  readonly bytes: Uint8Array;
  /** The user JWT. */
  readonly jwt: string;
  /** The user's nkey seed (`SU...`): private; signs. */
  readonly seed: Uint8Array;
  /** The user's public key (`U...`). */
  readonly publicKey: string;
  /** The account that issued it (`A...`). */
  readonly account: string;
  /** The JWT's name (`node`, `client`, ...). */
  readonly name: string;
  /** The JWT's tags (`troupe-role:node`, `troupe-ns:default`, ...). */
  readonly tags: readonly string[];
  /** The JWT's claims, decoded (not verified: the server verifies them). */
  readonly claims: ClaimsData<User>;
}

/** Read and check a `.creds` file; InvalidCredentialsError says what is wrong with it. */
export async function readCredentials(path: string): Promise<Credentials> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InvalidCredentialsError(path, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return credentialsFrom(bytes, path);
}

/** Check the bytes of a `.creds` file (as {@link readCredentials}, for credentials already in memory). */
export async function credentialsFrom(bytes: Uint8Array, path = "(in memory)"): Promise<Credentials> {
  let parsed: Awaited<ReturnType<typeof parseCreds>>;
  try {
    parsed = await parseCreds(bytes);
  } catch (err) {
    throw new InvalidCredentialsError(path, "not a NATS credentials file (a user JWT and an nkey seed between ----- lines)", { cause: err });
  }
  let publicKey: string;
  try {
    publicKey = fromSeed(new TextEncoder().encode(parsed.key)).getPublicKey();
  } catch (err) {
    throw new InvalidCredentialsError(path, "its nkey seed is not a valid user seed", { cause: err });
  }
  const claims = parsed.uc;
  if (claims.sub !== publicKey) {
    throw new InvalidCredentialsError(path, "its JWT was issued for another key than its seed");
  }
  if (claims.exp !== undefined && claims.exp > 0 && claims.exp * 1000 < Date.now()) {
    throw new InvalidCredentialsError(path, `it expired on ${new Date(claims.exp * 1000).toISOString()}`);
  }
  return {
    path,
    bytes,
    jwt: parsed.jwt,
    seed: new TextEncoder().encode(parsed.key),
    publicKey,
    account: parsed.aid,
    name: claims.name,
    tags: claims.nats.tags ?? [],
    claims,
  };
}

/** The value of a credential's tag `<prefix><value>` (`troupe-ns:shop` → `shop`), if it has one. */
export function tagValue(credentials: Pick<Credentials, "tags">, prefix: string): string | undefined {
  const tag = credentials.tags.find((t) => t.startsWith(prefix));
  return tag === undefined ? undefined : tag.slice(prefix.length);
}

/**
 * Check that a credential is for `namespace` (and, when it is bound to a node
 * name, for `node`) before anything is sent with it: the server would refuse
 * every subject of another namespace, one at a time, with less telling errors.
 * An admin credential may use any namespace of its account. Returns the node
 * name the credential is bound to, if any.
 */
export function checkCredentialsFor(credentials: Credentials, namespace: string, node?: string): string | undefined {
  const role = tagValue(credentials, CredentialTag.Role);
  const ns = tagValue(credentials, CredentialTag.Namespace);
  if (ns !== undefined && ns !== namespace && role !== "admin") {
    throw new InvalidCredentialsError(
      credentials.path,
      `it is a ${role ?? "Troupe"} credential for namespace "${ns}", not "${namespace}": use that namespace, or issue one for "${namespace}" (agentctl auth issue -n ${namespace})`,
    );
  }
  const pinned = tagValue(credentials, CredentialTag.Node);
  if (pinned !== undefined && node !== undefined && pinned !== node) {
    throw new InvalidCredentialsError(credentials.path, `it is bound to node "${pinned}", so a node started with it is named "${pinned}", not "${node}"`);
  }
  return pinned;
}
