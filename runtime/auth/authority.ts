// The keys that vouch for every credential of a Troupe deployment, the NATS
// way: an operator signs accounts, two per namespace, and each account signs
// its users. The namespace's account (JetStream on) holds its nodes and
// admins, its streams and buckets; a namespace being an account, nothing of
// one namespace is visible from another. Clients and observers live in a
// second account that imports only what they may use: the agents' subjects,
// activation, node info, the JetStream API and events. A reply subject never
// leaves its account, so a client cannot point a reply of the JetStream API
// (or the acknowledgement of a durable message) at a key of the namespace's
// buckets: the confused deputy that would let any credential overwrite
// agent state needs the namespace's own account, which clients are not in. The server is given the operator and the account
// JWTs (a memory resolver, preloaded), so it accepts any user an account
// signs: new node or client credentials are issued without restarting it. A
// namespace added later needs the server's configuration reloaded
// (`nats-server --signal reload`), not a restart.
//
// On disk (`agentctl auth init`): `authority.json` holds the seeds (secret:
// it can issue any credential; mode 0600), `server.conf` the server's
// configuration, `<role>.creds` the standard credentials.

import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Export, type Import, type User } from "@nats-io/jwt";
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from "@nats-io/nkeys";
import { InvalidCredentialsError, InvalidConfigError } from "../errors.js";
import { agentProtocolSubjects, INBOX_PREFIX, Subjects, validateNamespace } from "../subjects.js";
import { permissionsFor, Role, type RoleScope } from "./roles.js";
import { CredentialTag } from "./tags.js";

/** The file of an auth directory that holds the seeds. */
export const AUTHORITY_FILE = "authority.json";
/** The server configuration file of an auth directory. */
export const SERVER_CONF_FILE = "server.conf";

/**
 * An account's limits, all lifted and JetStream on (a limit an account JWT leaves
 * out counts as 0 at the server); the server's own limits still apply.
 */
export const UNLIMITED_ACCOUNT = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, subs: -1, data: -1, payload: -1, conn: -1, leaf: -1, imports: -1, exports: -1, wildcards: true } as const;

/** A signed key: its seed and its JWT. */
interface SignedKey {
  seed: string;
  jwt: string;
}

/** A namespace's accounts: its own (nodes, admins) and its clients'. */
interface NamespaceAccounts extends SignedKey {
  clients: SignedKey;
}

/** What `authority.json` holds. */
interface AuthorityFile {
  version: 1;
  /** The namespace `auth init` was made for first: the default of `auth issue`. */
  namespace: string;
  operator: SignedKey;
  system: SignedKey;
  /** The accounts of each namespace. */
  accounts: Record<string, NamespaceAccounts>;
}

/** A credential issued: the `.creds` file's bytes, and who it is. */
export interface IssuedCredential {
  creds: Uint8Array;
  jwt: string;
  publicKey: string;
  role: Role;
}

/** What a user credential is issued for. */
export interface IssueOptions extends Partial<RoleScope> {
  role: Role;
  /** The JWT's name (shown by the server's monitoring). Default: the role. */
  name?: string;
  /** Expiry, seconds from now. Default: never. */
  expiresInSeconds?: number;
}

/** Options of a server configuration. */
export interface ServerConfigOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Client port. Default 4222 (`nats-server -p` overrides it). */
  port?: number;
  /** JetStream's store directory (else the server's default, or its `-sd` flag). */
  storeDir?: string;
  /** Monitoring port (loopback); omit for none. */
  httpPort?: number;
  /** Server name. */
  serverName?: string;
  /** Extra configuration lines (TLS, cluster, ...), appended as they are. */
  extra?: string;
}

/** The operator, the system account and the namespaces' accounts of a deployment, with their seeds. */
export class Authority {
  private constructor(private readonly file: AuthorityFile) {}

  /** New keys for a deployment, with an account for each of `namespaces` (the first is the default). */
  static async create(namespaces: string | readonly string[] = "default"): Promise<Authority> {
    const list = typeof namespaces === "string" ? [namespaces] : [...namespaces];
    if (list.length === 0) throw new InvalidConfigError("namespace", "give at least one namespace");
    list.forEach(validateNamespace);
    const operator = createOperator();
    const system = createAccount();
    const authority = new Authority({
      version: 1,
      namespace: list[0]!,
      operator: { seed: seedText(operator), jwt: await encodeOperator("troupe", operator, { system_account: system.getPublicKey() }) },
      system: { seed: seedText(system), jwt: await encodeAccount("SYS", system, {}, { signer: operator }) },
      accounts: {},
    });
    for (const ns of list) await authority.addNamespace(ns);
    return authority;
  }

  /** Read an auth directory written by {@link Authority.save}. */
  static async load(dir: string): Promise<Authority> {
    const path = join(dir, AUTHORITY_FILE);
    let file: AuthorityFile;
    try {
      file = JSON.parse(await readFile(path, "utf8")) as AuthorityFile;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InvalidCredentialsError(path, code === "ENOENT" ? "no such file: run `agentctl auth init` first (or give --dir)" : "not a Troupe authority file", { cause: err });
    }
    if (file?.version !== 1 || typeof file.operator?.seed !== "string" || typeof file.accounts !== "object" || typeof file.namespace !== "string") {
      throw new InvalidCredentialsError(path, "not a Troupe authority file (version 1 with operator, system and namespace accounts)");
    }
    try {
      for (const k of [file.operator, file.system, ...Object.values(file.accounts).flatMap((a) => [a, a.clients])]) fromSeed(new TextEncoder().encode(k.seed));
    } catch (err) {
      throw new InvalidCredentialsError(path, "a seed in it is not valid", { cause: err });
    }
    return new Authority(file);
  }

  /** The default namespace of this deployment. */
  get namespace(): string {
    return this.file.namespace;
  }

  /** The namespaces this deployment has accounts for. */
  get namespaces(): string[] {
    return Object.keys(this.file.accounts);
  }

  /** The public key of a namespace's account: the issuer of its node and admin credentials. */
  account(namespace = this.file.namespace): string {
    return this.accountKey(namespace, Role.Node).getPublicKey();
  }

  /** The public key of a namespace's clients' account: the issuer of its client and observer credentials. */
  clientsAccount(namespace = this.file.namespace): string {
    return this.accountKey(namespace, Role.Client).getPublicKey();
  }

  /**
   * Give `namespace` its accounts: its own (JetStream on, no limits beyond the
   * server's), exporting what clients may use, and the clients' account,
   * importing it. The server learns of them when its configuration is written
   * again and reloaded. A namespace that has them already keeps them.
   */
  async addNamespace(namespace: string): Promise<void> {
    validateNamespace(namespace);
    if (this.file.accounts[namespace]) return;
    const s = new Subjects(namespace);
    const operator = fromSeed(new TextEncoder().encode(this.file.operator.seed));
    const own = createAccount();
    const clients = createAccount();
    // What clients and observers reach, all of it still narrowed per user by subject permissions.
    // Asks and tells cross as a stream the namespace imports from the clients (no per-request
    // work in the server, and no server-side responder listens there: agents answer only to
    // inboxes). What the server itself answers crosses as services, so that the answer goes back
    // to the requester's own account whatever reply subject it named: durable tells (JetStream's
    // acknowledgement), activation, node info, the JetStream API (reads; watches deliver to
    // inboxes, exported as a stream, and flow control answers come back). Events, for observers.
    // Core topics cross from the clients as a stream, like tells; durable topics as a service
    // (JetStream acknowledges the publish), like durable tells.
    const fromClients = [s.agent("*", "*"), s.topic(">")];
    const services = [s.mailbox("*", "*"), s.durableTopic(">"), s.poolActivate("*"), s.nodeInfo("*"), "$JS.API.>", "$JS.FC.>"];
    const streams = [s.allEvents(), `${INBOX_PREFIX}>`];
    const stream = (subject: string): Export => ({ name: subject, subject, type: "stream" });
    const service = (subject: string): Export => ({ name: subject, subject, type: "service" });
    const from = (account: KeyPair, e: Export): Import => ({ name: e.name ?? e.subject, subject: e.subject, account: account.getPublicKey(), type: e.type });
    // The NATS agent protocol: prompts answer with a stream of messages; status answers once;
    // heartbeats are a stream; query answers come from the clients like tells. Its discovery
    // ($SRV.*.agents[.<id>]) is inside the micro services' $SRV export below.
    const agentProtocol = agentProtocolSubjects("*", "*", "*");
    const streamed = (subject: string): Export => ({ ...service(subject), response_type: "Stream" });
    const protocolExports = [streamed(agentProtocol.prompt), service(agentProtocol.status), stream(agentProtocol.heartbeat)];
    // NATS micro services: their endpoints (one answer) and $SRV discovery (an answer per
    // service instance, so a stream of responses).
    const microServices: Export[] = [
      service(s.serviceAsk("*")),
      service(s.serviceTell("*")),
      { name: "$SRV.>", subject: "$SRV.>", type: "service", response_type: "Stream" },
    ];
    const exports = [...services.map(service), ...microServices, ...streams.map(stream), ...protocolExports];
    const clientExports = [...fromClients, s.agentQuery("*", "*")].map(stream);
    const jwt = await encodeAccount(namespace, own, { limits: UNLIMITED_ACCOUNT, exports, imports: clientExports.map((e) => from(clients, e)) }, { signer: operator });
    const clientsJwt = await encodeAccount(
      `${namespace} clients`,
      clients,
      { limits: { ...UNLIMITED_ACCOUNT, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 }, exports: clientExports, imports: exports.map((e) => from(own, e)) },
      { signer: operator },
    );
    this.file.accounts[namespace] = { seed: seedText(own), jwt, clients: { seed: seedText(clients), jwt: clientsJwt } };
  }

  /** The key of the account that issues `role`'s credentials in `namespace`. */
  private accountKey(namespace: string, role: Role): KeyPair {
    const accounts = this.file.accounts[validateNamespace(namespace)];
    if (!accounts) {
      throw new InvalidConfigError(
        "namespace",
        `namespace "${namespace}" has no account here (it has ${this.namespaces.join(", ")}): add one with \`agentctl auth init --add --namespace ${namespace}\`, then reload the server`,
      );
    }
    const account = role === Role.Client || role === Role.Observer ? accounts.clients : accounts;
    return fromSeed(new TextEncoder().encode(account.seed));
  }

  /** Write `authority.json` (mode 0600) into `dir`, creating it. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, AUTHORITY_FILE);
    await writeFile(path, `${JSON.stringify(this.file, null, 2)}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
  }

  /**
   * A server configuration that trusts this operator and knows its accounts
   * (a memory resolver, preloaded): anonymous connections are refused, and
   * every user the account signs is accepted without a restart.
   */
  serverConfig(o: ServerConfigOptions): string {
    const q = (v: string) => JSON.stringify(v);
    const lines = [
      "# Troupe, secured: the server trusts this operator and its accounts only.",
      "# Made by `agentctl auth init`; keep authority.json (next to this file) secret.",
      `server_name: ${q(o.serverName ?? "troupe")}`,
      `host: ${q(o.host ?? "127.0.0.1")}`,
      `port: ${o.port ?? 4222}`,
      "max_payload: 1MB",
      "# A connection sends its user JWT in its CONNECT line; a credential narrowed to types and",
      "# their grants carries long permission lists, past the default 4 KB line.",
      "max_control_line: 32KB",
      ...(o.httpPort === undefined ? [] : [`http: ${q(`127.0.0.1:${o.httpPort}`)}`]),
      o.storeDir === undefined ? "jetstream: enabled" : `jetstream { store_dir: ${q(resolve(o.storeDir))} }`,
      `operator: ${q(this.file.operator.jwt)}`,
      `system_account: ${q(fromSeedPublic(this.file.system.seed))}`,
      "resolver: MEMORY",
      "resolver_preload: {",
      ...Object.entries(this.file.accounts).map(
        ([ns, a]) => `  # namespace ${ns}: its nodes, then its clients\n  ${fromSeedPublic(a.seed)}: ${q(a.jwt)}\n  ${fromSeedPublic(a.clients.seed)}: ${q(a.clients.jwt)}`,
      ),
      `  ${fromSeedPublic(this.file.system.seed)}: ${q(this.file.system.jwt)}`,
      "}",
      ...(o.extra ? [o.extra] : []),
      "",
    ];
    return lines.join("\n");
  }

  /**
   * Issue a user credential for `role`, narrowed to `opts`' scope (types, one
   * agent, a node name, named buckets, the `can` reach of its types).
   *
   * @example
   * const { creds } = await authority.issue({ role: Role.Client, types: ["orders"] });
   */
  async issue(opts: IssueOptions): Promise<IssuedCredential> {
    if (!Object.values(Role).includes(opts.role)) {
      throw new InvalidConfigError("role", `must be one of ${Object.values(Role).join(", ")}, got ${JSON.stringify(opts.role)}`);
    }
    const namespace = validateNamespace(opts.namespace ?? this.file.namespace);
    const issuer = this.accountKey(namespace, opts.role);
    const user = createUser();
    const scope: RoleScope = { namespace, types: opts.types, agent: opts.agent, buckets: opts.buckets, node: opts.node, reach: opts.reach, memoryRead: opts.memoryRead };
    const permissions = permissionsFor(opts.role, scope, user.getPublicKey());
    const tags = [`${CredentialTag.Role}${opts.role}`, `${CredentialTag.Namespace}${namespace}`];
    if (opts.types?.length) tags.push(`${CredentialTag.Types}${opts.types.join(",")}`);
    if (opts.agent) tags.push(`${CredentialTag.Agent}${opts.agent.type}/${opts.agent.key}`);
    if (opts.node) tags.push(`${CredentialTag.Node}${opts.node}`);
    // A node checks verified senders' credentials: it learns here which account issues the clients'.
    if (opts.role === Role.Node || opts.role === Role.Admin) tags.push(`${CredentialTag.Clients}${this.clientsAccount(namespace)}`);
    const claims: Partial<User> = { pub: permissions.pub, sub: permissions.sub, tags, bearer_token: false };
    const exp = opts.expiresInSeconds === undefined ? undefined : Math.floor(Date.now() / 1000) + opts.expiresInSeconds;
    const jwt = await encodeUser(opts.name ?? opts.role, user, issuer, claims, exp === undefined ? {} : { exp });
    return { creds: fmtCreds(jwt, user), jwt, publicKey: user.getPublicKey(), role: opts.role };
  }
}

function seedText(k: KeyPair): string {
  return new TextDecoder().decode(k.getSeed());
}

function fromSeedPublic(seed: string): string {
  return fromSeed(new TextEncoder().encode(seed)).getPublicKey();
}
