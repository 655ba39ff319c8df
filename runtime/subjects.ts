// Every NATS subject, stream and bucket name Troupe uses is built and parsed
// here, and only here. Names carry the namespace, so namespaces never meet.
//
// Why names cannot collide: in subjects, "." separates the parts and no part may
// hold one. In bucket and stream names, "_" separates the parts
// (`troupe_<ns>_state`, `troupe_<ns>_mem_<bucket>`, `TROUPE_<NS>_DLQ`) and neither
// a namespace nor a bucket name may hold one, so every name splits back into
// exactly one (namespace, role, bucket) triple. Namespaces and bucket names are
// lowercase: uppercasing a namespace for a stream name stays one-to-one, and two
// names never differ only by case (JetStream keeps a stream in a directory named
// after it, and some file systems ignore case).
//
// Lengths: tokens are at most 128 characters and namespaces 64, so the longest
// subject built here is a few hundred characters, and the longest subject the KV
// client builds from a bucket name and a memory key (see MAX_SUBJECT_LENGTH)
// stays far below the server's control-line limit.

import { createHash } from "node:crypto";
import { InvalidArgumentError } from "./errors.js";

/** The longest consumer name JetStream takes. */
const MAX_CONSUMER_NAME = 255;

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const NAMESPACE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{0,127}$/;

/**
 * The longest subject Troupe lets anything build from its names, memory keys included.
 * The server refuses a protocol line longer than its `max_control_line` (4096 bytes by
 * default; INFO does not announce it) and closes the connection; a line holds the verb,
 * the subject, a reply inbox and sizes, so half of the default is kept for the subject.
 */
export const MAX_SUBJECT_LENGTH = 2048;

/** Check a namespace name: 1-64 lowercase letters, digits and `-`, starting with a letter or digit. */
export function validateNamespace(ns: string): string {
  if (typeof ns !== "string" || !NAMESPACE.test(ns)) {
    throw new InvalidArgumentError(
      "namespace",
      `invalid namespace ${JSON.stringify(ns)}: use 1-64 lowercase letters, digits or "-", starting with a letter or digit ("_" is reserved as the separator in bucket and stream names)`,
    );
  }
  return ns;
}

/** Check a shared-memory bucket name: 1-128 lowercase letters, digits and `-`, starting with a letter or digit. */
export function validateBucketName(name: string): string {
  if (typeof name !== "string" || !BUCKET_NAME.test(name)) {
    throw new InvalidArgumentError(
      "bucket name",
      `invalid bucket name ${JSON.stringify(name)}: use 1-128 lowercase letters, digits or "-", starting with a letter or digit ("_" is reserved as the separator in bucket names)`,
    );
  }
  return name;
}

/** Check one token of an address (an agent type, key, node id, topic or bucket name). */
export function validateToken(what: string, value: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new InvalidArgumentError(
      what,
      `invalid ${what} ${JSON.stringify(value)}: use 1-128 letters, digits, "_" or "-"`,
    );
  }
  return value;
}

/** An agent's address: `type/key`. */
export type AgentId = `${string}/${string}`;

/** Build an AgentId from its parts, validating both. */
export function agentId(type: string, key: string): AgentId {
  return formatAgentId(validateToken("agent type", type), validateToken("agent key", key));
}

/** Write an AgentId from parts already checked (a host's type and key, a registry entry's): `type/key`. */
export function formatAgentId(type: string, key: string): AgentId {
  return `${type}/${key}`;
}

/** Split and validate an AgentId (`type/key`). */
export function parseAgentId(id: string): { type: string; key: string } {
  const slash = typeof id === "string" ? id.indexOf("/") : -1;
  if (slash <= 0 || slash !== id.lastIndexOf("/")) {
    throw new InvalidArgumentError("agent id", `invalid agent id ${JSON.stringify(id)}: expected TYPE/KEY, like counter/c1`);
  }
  const type = id.slice(0, slash);
  const key = id.slice(slash + 1);
  validateToken("agent type", type);
  validateToken("agent key", key);
  return { type, key };
}

/** The names of one namespace. Build once per node; every method is cheap. */
export class Subjects {
  readonly ns: string;
  private readonly prefix: string;

  constructor(namespace: string) {
    this.ns = validateNamespace(namespace);
    this.prefix = `troupe.${namespace}`;
  }

  /** Agent inbox for tell and ask: `troupe.<ns>.agent.<type>.<key>`. */
  agent(type: string, key: string): string {
    return `${this.prefix}.agent.${type}.${key}`;
  }

  /** Durable mailbox subject: `troupe.<ns>.mbox.<type>.<key>`. */
  mailbox(type: string, key: string): string {
    return `${this.prefix}.mbox.${type}.${key}`;
  }

  /** Every durable mailbox of the namespace (the stream's subject filter). */
  allMailboxes(): string {
    return `${this.prefix}.mbox.>`;
  }

  /**
   * Spawn placement in the pool of a type: `troupe.<ns>.pool.<type>.spawn`, served by a
   * queue group of the nodes that host the type. Apart from activation, so a credential
   * may activate agents (every client may) without being able to start new ones.
   */
  poolSpawn(type: string): string {
    return `${this.prefix}.pool.${type}.spawn`;
  }

  /** On-demand activation in the pool of a type: `troupe.<ns>.pool.<type>.activate`. */
  poolActivate(type: string): string {
    return `${this.prefix}.pool.${type}.activate`;
  }

  /** What a hosting node subscribes to in a type's pool: `troupe.<ns>.pool.<type>.*`. */
  poolRequests(type: string): string {
    return `${this.prefix}.pool.${type}.*`;
  }

  /**
   * Load reports of the members of pool `name` of a type, published by the nodes that
   * host them: `troupe.<ns>.pool.<type>.<name>.load`. Six tokens, so the nodes' pool
   * lane subscription (`troupe.<ns>.pool.<type>.*`) never takes them.
   */
  poolLoad(type: string, name: string): string {
    return `${this.prefix}.pool.${type}.${name}.load`;
  }

  /** Queue group name for a pool. */
  poolQueue(type: string): string {
    return `troupe-pool-${type}`;
  }

  /** Pub/sub topic: `troupe.<ns>.topic.<name>`. */
  topic(name: string): string {
    return `${this.prefix}.topic.${name}`;
  }

  /** Every subject of the core topics of the namespace: `troupe.<ns>.topic.` followed by the name. */
  topicPrefix(): string {
    return `${this.prefix}.topic.`;
  }

  /** Durable topic: `troupe.<ns>.dtopic.<name>`, captured by stream `TROUPE_<NS>_TOPICS`. */
  durableTopic(name: string): string {
    return `${this.prefix}.dtopic.${name}`;
  }

  /** Every durable topic of the namespace (the topics stream's subject filter). */
  allDurableTopics(): string {
    return `${this.prefix}.dtopic.>`;
  }

  /** Stream capturing durable topics: `TROUPE_<NS>_TOPICS`. */
  topicsStream(): string {
    return `TROUPE_${this.ns.toUpperCase()}_TOPICS`;
  }

  /**
   * Durable consumer of one agent on the topics stream: `topics_<n>_<type>_<key>`, where
   * `<n>` is the type's length (types and keys may hold `_`: the length keeps two agents apart).
   */
  topicConsumer(type: string, key: string): string {
    const name = `topics_${type.length}_${type}_${key}`;
    // JetStream names are at most 255 characters; a longer one keeps its start and takes a digest of the whole.
    return name.length <= MAX_CONSUMER_NAME ? name : `${name.slice(0, MAX_CONSUMER_NAME - 65)}_${createHash("sha256").update(name).digest("hex")}`;
  }

  /** KV bucket of agents' run-time topic subscriptions: `troupe_<ns>_subs`, key `<type>.<key>`. */
  subsBucket(): string {
    return `troupe_${this.ns}_subs`;
  }

  /** Key of an agent's subscriptions in the subs bucket: `<type>.<key>`. */
  subsKey(type: string, key: string): string {
    return `${type}.${key}`;
  }

  /**
   * Node control (spawn, stop, kill, fence) of agents of one type:
   * `troupe.<ns>.node.<nodeId>.ctl.<type>`. The type is in the subject so that a
   * credential narrowed to types may control only agents of its types.
   */
  nodeControl(nodeId: string, type: string): string {
    return `${this.prefix}.node.${nodeId}.ctl.${type}`;
  }

  /** Every type's control subject of a node, `troupe.<ns>.node.<nodeId>.ctl.*`: what the node subscribes to. */
  nodeControlAll(nodeId: string): string {
    return this.nodeControl(nodeId, "*");
  }

  /** Read-only node requests (list, tree): `troupe.<ns>.node.<nodeId>.info`, which an observer may send. */
  nodeInfo(nodeId: string): string {
    return `${this.prefix}.node.${nodeId}.info`;
  }

  // ---- NATS micro services (runtime/interop/agent-services.ts) ----

  /** The NATS micro service of a type: `troupe-<ns>-<type>` (a valid service name: letters, digits, `-`, `_`). */
  serviceName(type: string): string {
    return `troupe-${this.ns}-${type}`;
  }

  /** The `ask` endpoint of a type's micro service, the agent key last: `troupe.<ns>.svc.<type>.<key>` (`*` for the key: its subscription). */
  serviceAsk(type: string, key = "*"): string {
    return `${this.prefix}.svc.${type}.${key}`;
  }

  /** The `tell` endpoint of a type's micro service: `troupe.<ns>.svc-tell.<type>.<key>`. */
  serviceTell(type: string, key = "*"): string {
    return `${this.prefix}.svc-tell.${type}.${key}`;
  }

  /** The agent key a micro-service request names (its subject's last token), unchecked; undefined for a subject of another shape. */
  serviceKey(subject: string): string | undefined {
    const dot = subject.lastIndexOf(".");
    return dot < 0 ? undefined : subject.slice(dot + 1);
  }

  /** The queue group of the micro-service endpoints (one node answers each request). */
  serviceQueue(): string {
    return "troupe-svc";
  }

  /**
   * A micro-service discovery subject (ADR-32): `$SRV.<VERB>`, `$SRV.<VERB>.<name>`,
   * `$SRV.<VERB>.<name>.<id>`; `*` for the verb gives what a service subscribes to.
   * Not namespaced: each namespace is a NATS account of its own when credentials are on.
   */
  serviceDiscovery(verb: "PING" | "INFO" | "STATS" | "*", name?: string, id?: string): string {
    return name === undefined ? `$SRV.${verb}` : id === undefined ? `$SRV.${verb}.${name}` : `$SRV.${verb}.${name}.${id}`;
  }

  /**
   * Parse a subject a node takes requests on into its lane (the token that says
   * which requests it takes: `ctl`, `info`, `spawn`, `activate`) and, for the
   * subjects that name one, the agent type: `node.<id>.ctl.<type>`,
   * `node.<id>.info`, `pool.<type>.spawn`, `pool.<type>.activate`. Undefined for
   * any other subject, or one of another namespace.
   */
  parseNodeRequest(subject: string): { lane: string; type?: string } | undefined {
    const parts = subject.split(".");
    if (parts[0] !== "troupe" || parts[1] !== this.ns) return undefined;
    if (parts[2] === "node" && parts.length === 5 && parts[4] === "info") return { lane: "info" };
    if (parts[2] === "node" && parts.length === 6 && parts[4] === "ctl") return { lane: "ctl", type: parts[5]! };
    if (parts[2] === "pool" && parts.length === 5) return { lane: parts[4]!, type: parts[3]! };
    return undefined;
  }

  /** A lifecycle or supervision event: `troupe.<ns>.events.<kind>.<type>.<key>`. */
  event(kind: string, type: string, key: string): string {
    return `${this.prefix}.events.${kind}.${type}.${key}`;
  }

  /** Subscription pattern for events; omitted parts match anything. */
  events(kind = "*", type = "*", key = "*"): string {
    return `${this.prefix}.events.${kind}.${type}.${key}`;
  }

  /**
   * Where the answer to an agent-protocol query goes (§7: a fresh subject per query):
   * `troupe.<ns>.query.<type>.<id>`, `id` unguessable. In the namespace, so a node
   * credential subscribes to its types' and a client's publishes to the types it reaches.
   */
  agentQuery(type: string, id: string): string {
    return `${this.prefix}.query.${type}.${id}`;
  }

  /** Every event of the namespace: `troupe.<ns>.events.>`. */
  allEvents(): string {
    return `${this.prefix}.events.>`;
  }

  /** Parse an event subject back into its parts, or undefined if it is not one. */
  parseEvent(subject: string): { kind: string; type: string; key: string } | undefined {
    const parts = subject.split(".");
    if (parts.length !== 6 || parts[0] !== "troupe" || parts[1] !== this.ns || parts[2] !== "events") return undefined;
    return { kind: parts[3]!, type: parts[4]!, key: parts[5]! };
  }

  /** Dead letters of an agent: `troupe.<ns>.dlq.<type>.<key>`. */
  deadLetter(type: string, key: string): string {
    return `${this.prefix}.dlq.${type}.${key}`;
  }

  /** Parse a dead-letter subject back into the agent's parts, or undefined if it is not one of this namespace. */
  parseDeadLetter(subject: string): { type: string; key: string } | undefined {
    const parts = subject.split(".");
    if (parts.length !== 5 || parts[0] !== "troupe" || parts[1] !== this.ns || parts[2] !== "dlq") return undefined;
    const [type, key] = [parts[3]!, parts[4]!];
    return TOKEN.test(type) && TOKEN.test(key) ? { type, key } : undefined;
  }

  /** Every dead-letter subject of the namespace (the stream's subject filter). */
  allDeadLetters(): string {
    return `${this.prefix}.dlq.>`;
  }

  /** Stream capturing durable mailboxes: `TROUPE_<NS>_MBOX`. */
  mailboxStream(): string {
    return `TROUPE_${this.ns.toUpperCase()}_MBOX`;
  }

  /** Stream keeping recent events (bounded by age, count and bytes): `TROUPE_<NS>_EVENTS`, capturing {@link allEvents}. */
  eventsStream(): string {
    return `TROUPE_${this.ns.toUpperCase()}_EVENTS`;
  }

  /** Stream capturing dead letters: `TROUPE_<NS>_DLQ`. */
  deadLetterStream(): string {
    return `TROUPE_${this.ns.toUpperCase()}_DLQ`;
  }

  /** KV bucket of persisted agent state: `troupe_<ns>_state`. */
  stateBucket(): string {
    return `troupe_${this.ns}_state`;
  }

  /** Key of an agent's state in the state bucket: `<type>.<key>`. */
  stateKey(type: string, key: string): string {
    return `${type}.${key}`;
  }

  /** KV bucket mapping AgentIds to the node running them: `troupe_<ns>_registry`. */
  registryBucket(): string {
    return `troupe_${this.ns}_registry`;
  }

  /** Key of an agent in the registry: `<type>.<key>`. */
  registryKey(type: string, key: string): string {
    return `${type}.${key}`;
  }

  /** Parse a registry or state key (`<type>.<key>`) back into an AgentId's parts; undefined when a part is no valid token (`counter.a=b`). */
  parseAgentKey(k: string): { type: string; key: string } | undefined {
    const dot = k.indexOf(".");
    if (dot <= 0 || dot !== k.lastIndexOf(".")) return undefined;
    const [type, key] = [k.slice(0, dot), k.slice(dot + 1)];
    return TOKEN.test(type) && TOKEN.test(key) ? { type, key } : undefined;
  }

  /** KV bucket saying which mailbox each agent type takes: `troupe_<ns>_types`, key `<type>`. */
  typesBucket(): string {
    return `troupe_${this.ns}_types`;
  }

  /** KV bucket of the timer wake index (when each passivated on-demand agent's earliest timer is due): `troupe_<ns>_timers`. */
  timersBucket(): string {
    return `troupe_${this.ns}_timers`;
  }

  /** Key of an agent in the timer wake index: `<type>.<key>`. */
  timerKey(type: string, key: string): string {
    return `${type}.${key}`;
  }

  /** KV bucket of cluster membership (node heartbeats): `troupe_<ns>_nodes`. */
  nodesBucket(): string {
    return `troupe_${this.ns}_nodes`;
  }

  /**
   * The namespace's streams, each with the subjects Troupe gives it: the KV buckets
   * of state, registry, types, membership and the default shared memory (see
   * {@link bucketStream}), the durable mailboxes, the dead letters, the durable topics and the recent events.
   */
  streams(): OwnedStream[] {
    return [
      ...[this.stateBucket(), this.registryBucket(), this.typesBucket(), this.nodesBucket(), this.memoryBucket(), this.timersBucket(), this.subsBucket()].map(bucketStream),
      { name: this.mailboxStream(), subjects: [this.allMailboxes()] },
      { name: this.deadLetterStream(), subjects: [this.allDeadLetters()] },
      { name: this.topicsStream(), subjects: [this.allDurableTopics()] },
      { name: this.eventsStream(), subjects: [this.allEvents()] },
    ];
  }

  /**
   * Whether stream `name` belongs to this namespace: one of {@link Subjects.streams}, or the
   * stream of a named shared-memory bucket (`KV_troupe_<ns>_mem_<name>`). What `agentctl ns rm` deletes.
   */
  ownsStream(name: string): boolean {
    if (this.streams().some((o) => o.name === name)) return true;
    const named = bucketStream(`${this.memoryBucket()}_`).name;
    return name.startsWith(named) && BUCKET_NAME.test(name.slice(named.length));
  }

  /**
   * KV bucket of shared memory: `troupe_<ns>_mem`, or `troupe_<ns>_mem_<name>` for a named
   * bucket ({@link validateBucketName}: no `_`, so no two (namespace, name) pairs share a bucket).
   */
  memoryBucket(name?: string): string {
    return name === undefined ? `troupe_${this.ns}_mem` : `troupe_${this.ns}_mem_${validateBucketName(name)}`;
  }
}

/**
 * The namespace a stream name belongs to, or undefined for a stream that is no
 * namespace's (see {@link Subjects.ownsStream}): `KV_troupe_shop_state` -> `shop`, `TROUPE_SHOP_DLQ` -> `shop`.
 */
export function namespaceOfStream(name: string): string | undefined {
  const m = /^KV_troupe_([a-z0-9][a-z0-9-]{0,63})_/.exec(name) ?? /^TROUPE_([A-Z0-9][A-Z0-9-]{0,63})_/.exec(name);
  if (m === null) return undefined;
  const ns = m[1]!.toLowerCase();
  return new Subjects(ns).ownsStream(name) ? ns : undefined;
}

/** A stream Troupe makes, and the subjects it captures. */
export interface OwnedStream {
  readonly name: string;
  readonly subjects: readonly string[];
}

/** The stream of KV bucket `bucket` as the KV client makes it: `KV_<bucket>`, capturing `$KV.<bucket>.>`. */
export function bucketStream(bucket: string): OwnedStream {
  return { name: `KV_${bucket}`, subjects: [`$KV.${bucket}.>`] };
}

/** The prefix every reply subject the runtime answers on starts with. */
export const INBOX_PREFIX = "_INBOX.";

/**
 * The prefix of the reply subjects the server makes for a request that crossed
 * from another account (a client's, through its account's imports): the
 * server routes the answer back to the requester's own inbox.
 */
export const SERVICE_REPLY_PREFIX = "_R_.";

/** Longest reply subject the runtime answers on (a client's inbox is under 60 characters). */
export const MAX_REPLY_SUBJECT = 256;

/**
 * Whether the runtime may answer on `subject`. A reply subject comes from the
 * sender and is as hostile as the rest of the message: an ask whose reply
 * subject names a key of the state bucket or an event subject would make an
 * agent write there. So replies go only to inbox subjects: `_INBOX.` (or the
 * server's `_R_.` for a request from another account) and one or more tokens,
 * without wildcards, spaces or empty tokens, as every NATS client makes them
 * by default. A scan of the characters, no regex: this runs
 * on every ask.
 */
export function isReplySubject(subject: string): boolean {
  const n = subject.length;
  const start = subject.startsWith(INBOX_PREFIX) ? INBOX_PREFIX.length : subject.startsWith(SERVICE_REPLY_PREFIX) ? SERVICE_REPLY_PREFIX.length : 0;
  if (start === 0 || n <= start || n > MAX_REPLY_SUBJECT) return false;
  let tokenLength = 0;
  for (let i = start; i < n; i++) {
    const c = subject.charCodeAt(i);
    if (c === 46 /* . */) {
      if (tokenLength === 0) return false;
      tokenLength = 0;
    } else if (c <= 32 /* space and controls */ || c === 42 /* * */ || c === 62 /* > */ || c === 127) {
      return false;
    } else {
      tokenLength++;
    }
  }
  return tokenLength > 0;
}

/** Why a reply subject is refused, for the dead letter and the event. */
export function replySubjectProblem(subject: string): string {
  const shown = subject.length > 80 ? `${subject.slice(0, 80)}…` : subject;
  return `reply subject ${JSON.stringify(shown)} is not an inbox (replies go only to ${INBOX_PREFIX}… and ${SERVICE_REPLY_PREFIX}… subjects)`;
}

// ---- the NATS agent protocol (0.3): `agents.<verb>.<agent>.<owner>.<name>` ----
// Outside the namespace's `troupe.<ns>.` tree: the protocol fixes the root. The
// agent token is the Troupe type, the owner `expose.owner` or the namespace.

/** The micro-service name every agent-protocol registration uses. */
export const AGENT_PROTOCOL_SERVICE = "agents";

/** The subjects of one agent-protocol registration (`name` may be `*`: every key of an on-demand type). */
export function agentProtocolSubjects(agent: string, owner: string, name: string): { prompt: string; status: string; heartbeat: string } {
  return { prompt: `agents.prompt.${agent}.${owner}.${name}`, status: `agents.status.${agent}.${owner}.${name}`, heartbeat: `agents.hb.${agent}.${owner}.${name}` };
}

/** The $SRV discovery subjects an agent-protocol node answers: `$SRV.<verb>`, `$SRV.<verb>.agents`, `$SRV.<verb>.agents.<id>`. */
export function agentProtocolDiscovery(): { all: string; service: string; instance: string } {
  return { all: "$SRV.*", service: `$SRV.*.${AGENT_PROTOCOL_SERVICE}`, instance: `$SRV.*.${AGENT_PROTOCOL_SERVICE}.*` };
}
