// Credentials for tests and benchmarks, made in memory with the official
// `@nats-io/jwt` and `@nats-io/nkeys`: an operator, a system account, one
// account, and user credentials tagged the way Troupe's roles are
// (`troupe-role:<role>`, `troupe-ns:<namespace>`, `troupe-types:<t1,t2>`).
// `serverConfig()` runs a nats-server in operator mode that trusts them
// (memory resolver, JetStream enabled for the account). Not a way to secure
// a deployment: no permissions are set, every user may do anything.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { UNLIMITED_ACCOUNT } from "../auth/authority.js";
import type { Role } from "../auth/roles.js";
import { CredentialTag } from "../auth/tags.js";

/** The role tag a test credential carries. */
export type TestRole = Role;

/** What a test credential says about its holder. */
export interface TestUser {
  role: TestRole;
  namespace: string;
  /** A node credential narrowed to these agent types. */
  types?: readonly string[];
  /** The JWT's name; default the role. */
  name?: string;
  /** Seconds since the epoch after which it is expired. */
  expires?: number;
  /** Tags instead of the ones made from role, namespace and types. */
  tags?: readonly string[];
}

/** An operator and an account that issue test credentials. */
export interface TestAuthority {
  /** The account's public key (`A...`): what a node's verifier trusts. */
  readonly account: string;
  /** A nats-server configuration (operator mode, memory resolver) that accepts this authority's users. */
  serverConfig(): string;
  /** A `.creds` file's bytes for a new user. */
  issue(user: TestUser): Promise<Uint8Array>;
  /** {@link issue}, written to `dir/<file>`; returns the path. */
  writeCreds(dir: string, file: string, user: TestUser): Promise<string>;
}

/** A new operator with a system account and one account (JetStream enabled). */
export async function createTestAuthority(): Promise<TestAuthority> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const operatorJwt = await encodeOperator("troupe-test", operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
  const accountJwt = await encodeAccount("troupe", account, { limits: UNLIMITED_ACCOUNT }, { signer: operator });
  const issue = async (user: TestUser): Promise<Uint8Array> => {
    const kp: KeyPair = createUser();
    const tags = user.tags ?? [
      `${CredentialTag.Role}${user.role}`,
      `${CredentialTag.Namespace}${user.namespace}`,
      ...(user.types && user.types.length > 0 ? [`${CredentialTag.Types}${user.types.join(",")}`] : []),
    ];
    const jwt = await encodeUser(user.name ?? user.role, kp, account, { tags: [...tags] }, user.expires === undefined ? {} : { exp: user.expires });
    return fmtCreds(jwt, kp);
  };
  return {
    account: account.getPublicKey(),
    serverConfig: () =>
      [
        `operator: ${operatorJwt}`,
        `system_account: ${system.getPublicKey()}`,
        "resolver: MEMORY",
        "resolver_preload: {",
        `  ${system.getPublicKey()}: ${systemJwt}`,
        `  ${account.getPublicKey()}: ${accountJwt}`,
        "}",
        "",
      ].join("\n"),
    issue,
    async writeCreds(dir, file, user) {
      const path = join(dir, file);
      await writeFile(path, await issue(user), { mode: 0o600 });
      return path;
    },
  };
}
