// What each role may do, as NATS subject permissions: the server enforces
// them, so a credential can do only what its role needs whatever code holds
// it. Pure: a role and a scope in, allow lists out. Every name comes from
// Subjects; the JetStream API subjects are the ones nats.js sends for the
// operations each role performs (stream info and create, direct and stream
// gets, consumers for watches and durable mailboxes, acks, flow control).
//
// A role's lists allow; anything not allowed is refused by the server
// (`Permissions Violation`). Wildcards are whole tokens in NATS, so a stream
// name cannot be matched by prefix: each stream of the namespace is named.

import { keyGrant } from "../agent-grant.js";
import { inboxPrefixOf } from "../connection.js";
import { agentProtocolDiscovery, agentProtocolSubjects, bucketStream, INBOX_PREFIX, SERVICE_REPLY_PREFIX, Subjects } from "../subjects.js";

/** The standard roles. */
export const Role = {
  /** Everything in the account: every namespace, deleting streams, purging. */
  Admin: "admin",
  /** Hosts agents: its types' subjects, their state and registry entries, membership, events. */
  Node: "node",
  /** Calls agents and reads its replies; reads routes, the registry and shared memory. */
  Client: "client",
  /** Reads events and lists agents. */
  Observer: "observer",
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Every role, in the order `agentctl auth init` writes their credentials. */
export const ROLES: readonly Role[] = [Role.Admin, Role.Node, Role.Client, Role.Observer];

/** What an agent type may reach, as its `can` declaration grants it (see defineAgent). */
export interface TypeReach {
  /** Agents it may message: a type (any key) or one agent; `"*"`: every agent. */
  message: "*" | ReadonlyArray<{ type: string; key?: string }>;
  /** Shared-memory keys it may read, as key patterns, per bucket (undefined: the namespace's default bucket). */
  memoryRead: ReadonlyArray<{ bucket?: string; pattern: string }>;
  /** Shared-memory keys it may write. */
  memoryWrite: ReadonlyArray<{ bucket?: string; pattern: string }>;
}

/** What a credential is narrowed to. */
export interface RoleScope {
  namespace: string;
  /** Only these agent types (a node hosts only them; a client messages only them). */
  types?: readonly string[];
  /** Only this agent (`type/key`). */
  agent?: { type: string; key: string };
  /** Named shared-memory buckets the credential may use besides the default one (bucket names are not matched by wildcards). */
  buckets?: readonly string[];
  /**
   * Shared memory a client may read, as key patterns (`facts.>`; a named bucket's as
   * `<bucket>:<pattern>`). The server grants reads per bucket (a bucket's cache is kept
   * coherent by a watch of all of it), so a pattern opens its whole bucket to reading.
   * Without it a client reads no shared memory.
   */
  memoryRead?: readonly string[];
  /** A node credential bound to one node name: only its own membership entry and control subjects. */
  node?: string;
  /**
   * For a node credential narrowed to types: what those types may reach, from their `can`
   * declarations. With it, the node's agents may message and touch memory only within it;
   * a type missing here (declared without `can`) may reach every agent and key.
   */
  reach?: ReadonlyMap<string, TypeReach>;
}

/** NATS subject permissions, as a user JWT carries them. */
export interface SubjectPermissions {
  pub: { allow: string[] };
  sub: { allow: string[] };
}

/**
 * The permissions of `role` in `scope`, for the user whose public key is
 * `userKey`: its replies come to `_INBOX.<userKey>.>` and it may subscribe to
 * no other inbox.
 *
 * @example
 * permissionsFor(Role.Client, { namespace: "shop", types: ["orders"] }, user.getPublicKey())
 */
export function permissionsFor(role: Role, scope: RoleScope, userKey: string): SubjectPermissions {
  const s = new Subjects(scope.namespace);
  const ownInbox = `${inboxPrefixOf({ publicKey: userKey })}.>`;
  switch (role) {
    case Role.Admin:
      return { pub: { allow: [">"] }, sub: { allow: [">"] } };
    case Role.Node:
      return nodePermissions(s, scope, ownInbox);
    case Role.Client:
      return clientPermissions(s, scope, ownInbox);
    case Role.Observer:
      return observerPermissions(s, ownInbox);
  }
}

/** The streams of a namespace (KV buckets are streams named `KV_<bucket>`). */
function streams(s: Subjects) {
  const kv = (bucket: string) => ({ bucket, stream: bucketStream(bucket).name });
  return {
    state: kv(s.stateBucket()),
    registry: kv(s.registryBucket()),
    types: kv(s.typesBucket()),
    nodes: kv(s.nodesBucket()),
    memory: kv(s.memoryBucket()),
    timers: kv(s.timersBucket()),
    mailbox: s.mailboxStream(),
    deadLetters: s.deadLetterStream(),
    subs: kv(s.subsBucket()),
    topics: s.topicsStream(),
    events: s.eventsStream(),
  };
}

/** Reading a KV bucket: its info, gets, and watches (consumers with flow control). */
function readBucket(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
  ];
}

/** The agents a scope lets a credential reach: `troupe.<ns>.<kind>.<type>.<key>` patterns. */
function agentSubjects(s: Subjects, scope: RoleScope, kind: "agent" | "mbox"): string[] {
  const at = kind === "agent" ? s.agent.bind(s) : s.mailbox.bind(s);
  if (scope.agent) return [at(scope.agent.type, scope.agent.key)];
  if (scope.types) return scope.types.map((t) => at(t, "*"));
  return [at("*", "*")];
}

// Each namespace is an account of its own (authority.ts), so everything a
// credential reaches with `>` inside it belongs to its namespace: another
// namespace's subjects, streams and buckets are in another account, out of reach.

function nodePermissions(s: Subjects, scope: RoleScope, ownInbox: string): SubjectPermissions {
  const st = streams(s);
  const types = scope.agent ? [scope.agent.type] : scope.types;
  const node = scope.node ?? "*";
  const key = scope.agent?.key ?? "*";
  const perType = (f: (type: string) => string[]): string[] => (types ? types.flatMap(f) : f("*"));
  const reach = reachOf(s, scope);
  const pub = [
    // Replies go to inboxes only; a node answers any requester (a client's requests arrive
    // through its account's imports, with a reply subject the server made: `_R_.…`).
    `${INBOX_PREFIX}>`,
    `${SERVICE_REPLY_PREFIX}>`,
    // Messages to agents (asks, tells, durable tells), within what its types may reach.
    ...reach.message,
    // Activation of any type (an agent's message activates), spawn placement and peers' control
    // (spawn under a supervisor elsewhere, handover, fence) of its own types only, peers' info
    // (list), events.
    ...perType((t) => [s.poolSpawn(t), s.nodeControl("*", t)]),
    s.poolActivate("*"),
    // Load reports of the pool members of its types (least-loaded routing).
    ...perType((t) => [s.poolLoad(t, "*")]),
    s.nodeInfo("*"),
    s.allEvents(),
    // Topics, core and durable: its agents publish on any (topics are not per type).
    s.topic(">"),
    s.durableTopic(">"),
    // Dead letters, agent state, registry claims and routes of its types; its membership entry.
    ...perType((t) => [
      s.deadLetter(t, key),
      `$KV.${st.state.bucket}.${s.stateKey(t, key)}`,
      `$KV.${st.registry.bucket}.${s.registryKey(t, key)}`,
      `$KV.${st.types.bucket}.${t}`,
      `$KV.${st.subs.bucket}.${s.subsKey(t, key)}`,
    ]),
    `$KV.${st.nodes.bucket}.${node}`,
    // The timer wake index of its types' agents (durable timers of passivated on-demand agents).
    ...perType((t) => [`$KV.${st.timers.bucket}.${s.timerKey(t, key)}`]),
    // Shared memory, within what its types may write.
    ...reach.memoryWrite,
    // JetStream: make the namespace's streams exist and read them; consume and acknowledge
    // durable mailboxes. No stream is deleted, and the only purge is the mailbox stream's:
    // applied durable messages are removed from it by subject.
    "$JS.API.INFO",
    // Only the namespace's own streams may be created (a stream capturing agent subjects would
    // answer asks with JetStream acknowledgements in the agents' place); named memory buckets
    // only when the credential names them.
    ...[st.state, st.registry, st.types, st.nodes, st.memory, st.timers, st.subs].map((b) => `$JS.API.STREAM.CREATE.${b.stream}`),
    ...(scope.buckets ?? []).map((b) => `$JS.API.STREAM.CREATE.${bucketStream(s.memoryBucket(b)).name}`),
    `$JS.API.STREAM.CREATE.${st.mailbox}`,
    `$JS.API.STREAM.CREATE.${st.deadLetters}`,
    `$JS.API.STREAM.CREATE.${st.topics}`,
    `$JS.API.STREAM.CREATE.${st.events}`,
    // The only stream the runtime updates is the mailbox stream (to the limits a node is started
    // with). Any other update is refused: shrinking a stream's limits purges it in effect (the
    // state, registry or dead letters), and widening its subjects makes it capture messages.
    // A credential narrowed to types or one agent may not update even the mailbox stream: with
    // its subjects widened to every agent's, its consumers would read other types' messages.
    ...(types ? [] : [`$JS.API.STREAM.UPDATE.${st.mailbox}`]),
    "$JS.API.STREAM.INFO.*",
    `$JS.API.STREAM.PURGE.${st.mailbox}`,
    ...reach.streamReads,
    "$JS.ACK.>",
    "$JS.FC.>",
    // The agent protocol: its types' heartbeats.
    ...perType((t) => [agentProtocolSubjects(t, "*", "*").heartbeat]),
  ];
  const sub = [
    ownInbox,
    // The agent protocol: its types' prompt and status endpoints, query answers, and $SRV discovery of `agents`.
    ...perType((t) => [agentProtocolSubjects(t, "*", "*").prompt, agentProtocolSubjects(t, "*", "*").status, s.agentQuery(t, "*")]),
    ...agentProtocolDiscoveryList(),
    // Its types' agents and pools (queue groups), its own control and info subjects, and events.
    ...perType((t) => [s.agent(t, key), s.poolRequests(t)]),
    // Load reports of any pool its agents send to (ctx.pool).
    s.poolLoad("*", "*"),
    // Core topics its agents subscribe to (one subscription per pattern).
    s.topic(">"),
    s.nodeControlAll(node),
    s.nodeInfo(node),
    s.allEvents(),
    // Its types' NATS micro services: their endpoints and discovery ($SRV; replies go to inboxes).
    ...serviceSubscriptions(s, types),
  ];
  return { pub: { allow: unique(pub) }, sub: { allow: unique(sub) } };
}

/** What a node subscribes to for the micro services of its types (runtime/interop/agent-services.ts). */
function serviceSubscriptions(s: Subjects, types: readonly string[] | undefined): string[] {
  const discovery = (["PING", "INFO", "STATS"] as const).map((verb) => s.serviceDiscovery(verb));
  if (!types) return [s.serviceAsk("*"), s.serviceTell("*"), "$SRV.>"];
  return [
    ...discovery,
    ...types.flatMap((t) => [s.serviceAsk(t), s.serviceTell(t), s.serviceDiscovery("*", s.serviceName(t)), s.serviceDiscovery("*", s.serviceName(t), "*")]),
  ];
}

/** The micro-service endpoints of the agents a scope lets a client reach, and discovery. */
function serviceRequests(s: Subjects, scope: RoleScope): string[] {
  const types = scope.agent ? [scope.agent.type] : scope.types;
  const key = scope.agent?.key ?? "*";
  const endpoints = types ? types.flatMap((t) => [s.serviceAsk(t, key), s.serviceTell(t, key)]) : [s.serviceAsk("*"), s.serviceTell("*")];
  return [...endpoints, "$SRV.>"];
}

/**
 * What a node's agents may reach: every agent and every memory key, unless the
 * credential is narrowed to types whose `can` declarations all are known.
 */
function reachOf(s: Subjects, scope: RoleScope): { message: string[]; memoryWrite: string[]; streamReads: string[] } {
  const st = streams(s);
  const types = scope.agent ? [scope.agent.type] : scope.types;
  if (!types || !scope.reach || types.some((t) => !scope.reach!.has(t))) {
    return {
      message: [s.agent("*", "*"), s.mailbox("*", "*")],
      memoryWrite: [s.memoryBucket(), ...(scope.buckets ?? []).map((b) => s.memoryBucket(b))].map((b) => `$KV.${b}.>`),
      streamReads: ["$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>", "$JS.API.CONSUMER.>"],
    };
  }
  // An agent may always message itself (and the node its own agents): the credential's own types are reachable.
  const message: string[] = types.flatMap((t) => [s.agent(t, scope.agent?.key ?? "*"), s.mailbox(t, scope.agent?.key ?? "*")]);
  const memoryWrite: string[] = [];
  // The runtime's own buckets and the mailbox stream, read whole; shared memory only where granted.
  const streamReads = [
    ...[st.state, st.registry, st.types, st.nodes, st.timers, st.subs].flatMap((b) => readBucket(b.stream)),
    // Its durable subscribers' consumers on the topics stream (made, changed, read, acked).
    `$JS.API.CONSUMER.CREATE.${st.topics}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${st.topics}.>`,
    `$JS.API.CONSUMER.INFO.${st.topics}.>`,
    `$JS.API.CONSUMER.DELETE.${st.topics}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${st.topics}.>`,
    `$JS.API.CONSUMER.CREATE.${st.mailbox}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${st.mailbox}.>`,
    `$JS.API.CONSUMER.INFO.${st.mailbox}.>`,
    `$JS.API.CONSUMER.DELETE.${st.mailbox}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${st.mailbox}.>`,
    `$JS.API.STREAM.MSG.GET.${st.mailbox}`,
  ];
  for (const t of types) {
    const r = scope.reach.get(t)!;
    if (r.message === "*") message.push(s.agent("*", "*"), s.mailbox("*", "*"));
    else for (const m of r.message) message.push(s.agent(m.type, m.key ?? "*"), s.mailbox(m.type, m.key ?? "*"));
    // Reads are granted per bucket: a bucket's cache is kept by a watch of all of it (the runtime narrows reads by key).
    for (const g of r.memoryRead) streamReads.push(...readBucket(bucketStream(s.memoryBucket(g.bucket)).name));
    for (const g of r.memoryWrite) memoryWrite.push(`$KV.${s.memoryBucket(g.bucket)}.${g.pattern}`);
  }
  return { message, memoryWrite, streamReads };
}

function clientPermissions(s: Subjects, scope: RoleScope, ownInbox: string): SubjectPermissions {
  const st = streams(s);
  const types = scope.agent ? [scope.agent.type] : scope.types;
  const pub = [
    // Asks and tells (core and durable) to the agents it is granted, and their activation.
    ...agentSubjects(s, scope, "agent"),
    ...agentSubjects(s, scope, "mbox"),
    ...(types ? types.map((t) => s.poolActivate(t)) : [s.poolActivate("*")]),
    // The micro-service endpoints of those agents (JSON or MessagePack, no Troupe envelope) and $SRV discovery.
    ...serviceRequests(s, scope),
    // Publishing on topics, core and durable (a durable publish is acknowledged to its own inbox).
    s.topic(">"),
    s.durableTopic(">"),
    // Reading routes, the registry and membership (how to reach a type, where an agent runs, whether its node lives), and the shared memory it is granted.
    "$JS.API.INFO",
    ...[st.types, st.registry, st.nodes].flatMap((b) => readBucket(b.stream)),
    ...(scope.memoryRead ?? []).flatMap((grant, i) => readBucket(bucketStream(s.memoryBucket(keyGrant(`memoryRead[${i}]`, grant).bucket)).name)),
    "$JS.FC.>",
    // The agent protocol: prompt and status endpoints and query answers of the types it may reach, and discovery.
    // A credential for one agent reaches only that key (`agents.prompt.<type>.<owner>.<key>`).
    ...(types ?? ["*"]).flatMap((t) => {
      const p = agentProtocolSubjects(t, "*", scope.agent?.key ?? "*");
      return [p.prompt, p.status, s.agentQuery(t, "*")];
    }),
    ...agentProtocolDiscoveryList(),
  ];
  // Load reports of the pools of the types it may reach (client.pool); their agent-protocol heartbeats.
  const sub = [
    ownInbox,
    ...(types ? types.map((t) => s.poolLoad(t, "*")) : [s.poolLoad("*", "*")]),
    ...(types ?? ["*"]).map((t) => agentProtocolSubjects(t, "*", "*").heartbeat),
  ];
  return { pub: { allow: unique(pub) }, sub: { allow: sub } };
}

function observerPermissions(s: Subjects, ownInbox: string): SubjectPermissions {
  const st = streams(s);
  // $SRV discovery (PING, INFO, STATS) is read-only, as `nats micro ls|info|stats` and the agent
  // protocol's discovery use it; agent protocol heartbeats (liveness) may be heard, prompts not sent.
  // Of the events stream only its info (whether the namespace keeps events): no consumer of it. Subject
  // permissions cannot limit a consumer's config, so a consumer made by an observer could be durable
  // (kept forever) or deliver to an agent's inbox (stored events pushed at the agent, each rejection a
  // new stored event: a loop). The kept history (`agentctl events --since`) needs an admin credential.
  const pub = [
    s.nodeInfo("*"),
    "$SRV.>",
    "$JS.API.INFO",
    ...[st.registry, st.nodes, st.types].flatMap((b) => readBucket(b.stream)),
    `$JS.API.STREAM.INFO.${st.events}`,
    "$JS.FC.>",
  ];
  return { pub: { allow: unique(pub) }, sub: { allow: [ownInbox, s.allEvents(), agentProtocolSubjects("*", "*", "*").heartbeat] } };
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** The $SRV subjects of the agent protocol's discovery (`$SRV.<verb>`, `.agents`, `.agents.<id>`). */
function agentProtocolDiscoveryList(): string[] {
  const d = agentProtocolDiscovery();
  return [d.all, d.service, d.instance];
}
