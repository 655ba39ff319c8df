// A node's options: plain data with defaults merged once and every field
// validated once; a bad field fails with InvalidConfigError naming it.

import { hostname } from "node:os";
import { getHeapStatistics } from "node:v8";
import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { AgentType } from "./define-agent.js";
import type { SupervisorType } from "./define-supervisor.js";
import type { RestartType } from "../supervisors/strategy.js";
import type { BackoffSpec } from "../supervisors/backoff.js";
import type { NormalizedSupervisorSpec } from "../supervisors/child-spec.js";
import { supervisorSpec } from "./specs.js";
import { systemClock, type Clock } from "./clock.js";
import { credentialsPath, tlsFiles } from "./auth/connect-options.js";
import type { TlsFiles } from "./connection.js";
import { InvalidConfigError } from "./errors.js";
import { eventHistoryLimits, type EventHistoryLimits } from "./events-stream.js";
import { DEFAULT_MAILBOX_STREAM, type MailboxStreamLimits } from "./durable/mailbox-stream.js";
import type { MemoryOptions } from "./memory/index.js";
import { Subjects, validateToken } from "./subjects.js";
import { validateTelemetry, type TelemetryOptions, type ValidTelemetry } from "./telemetry-options.js";

/** The root supervisor's per-child restart intensity when `root` is not given. */
export const ROOT_DEFAULTS = { intensity: 10, periodMs: 10_000 };

/** Options of {@link startNode}. Plain data, validated once. */
export interface NodeOptions {
  /** NATS server URL(s). Default: `NATS_URL`, else `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** A NATS credentials file (`.creds`, made by `agentctl auth`) to connect with. Default: `NATS_CREDS`, else none; `null`: none. */
  credentials?: string | null;
  /** TLS files (PEM paths): the server's CA, and a client certificate and key when the server asks for one. */
  tls?: TlsFiles;
  /** The isolation unit. Default: `TROUPE_NAMESPACE`, else `default`. */
  namespace?: string;
  /** Agent and supervisor types this node hosts (built-ins are not added implicitly). */
  agents?: ReadonlyArray<AgentType | SupervisorType>;
  /** This node's id (letters, digits, `_`, `-`). Default: host-pid-random. */
  name?: string;
  /** Use this connection instead of opening one; the node does not close it. */
  connection?: NatsConnection;
  /** Default ask timeout, ms. Default 5000. */
  askTimeoutMs?: number;
  /** Largest message, bytes. Default: 1 MiB or the server's max_payload, whichever is smaller. */
  maxMessageBytes?: number;
  /**
   * Bytes (encoded) that all mailboxes of this node may hold together; past it
   * tells are dead-lettered and asks get MailboxFullError. Default: an eighth
   * of the process's heap limit (`--max-old-space-size`).
   */
  mailboxBytes?: number;
  /** Membership heartbeat, ms. A node is gone after three missed beats. Default 1000. */
  heartbeatMs?: number;
  /** How long spawn waits for a node that hosts the type, ms. Default 3000. */
  spawnWaitMs?: number;
  /**
   * The root supervisor's per-child restart intensity and backoff, checked like
   * any supervisor's spec. Default 10 restarts in 10 000 ms, no backoff; a
   * `backoff` given (even `{}`) is completed from the same defaults as every supervisor's.
   */
  root?: { intensity?: number; periodMs?: number; backoff?: Partial<BackoffSpec> };
  /** Shared memory options (cache size, history, ...). */
  memory?: MemoryOptions;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
  /** Source of randomness for backoff jitter. Default Math.random. */
  random?: () => number;
  /** Make OpenTelemetry spans. Default: when an SDK is registered, or `telemetry` is given. */
  tracing?: boolean;
  /**
   * Export traces and metrics over OTLP/HTTP with the OpenTelemetry SDK, e.g.
   * `{ otlp: "http://localhost:4318" }`. Nodes in one process share the SDK
   * (same options required); refused when the process registered its own SDK.
   * With `tracing: false`, metrics only. Default: none.
   */
  telemetry?: TelemetryOptions;
  /** Adopt the root-supervised agents of nodes whose heartbeat lapsed. Default true. */
  failover?: boolean;
  /**
   * Limits of the namespace's durable mailboxes (the stream `TROUPE_<NS>_MBOX`),
   * applied by a node that hosts an agent type with `mailbox: "durable"`.
   * Defaults: 10 000 messages per agent, 1 GiB in all, kept 7 days, duplicate
   * ids recognised for 2 minutes, 1 replica (3 on a cluster for R3).
   */
  durableMailboxes?: Partial<MailboxStreamLimits>;
  /**
   * The namespace's replication: copies of each stream and bucket this node
   * creates (state, registry, membership, types, dead letters, and the durable
   * mailboxes unless `durableMailboxes.replicas` says otherwise). 1 (default)
   * to 5; use 3 on a NATS cluster. Streams and buckets that exist keep theirs.
   */
  replicas?: number;
  /**
   * How much event history the namespace keeps (the stream `TROUPE_<NS>_EVENTS`, made by
   * the first node; one that exists keeps its limits). Defaults: 24 hours, 100 000 events,
   * 64 MiB, on file, with `replicas` copies.
   */
  eventHistory?: Partial<EventHistoryLimits> | false;
}

/** Options of {@link TroupeNode.spawn}. */
export interface SpawnOptions {
  /** The agent's key. Default: a fresh unique key. */
  key?: string;
  /** Passed to the type's `state(args)` (or the machine's input). */
  args?: unknown;
  /** Run under this supervisor agent (`type/key`) instead of the node's root. */
  supervisor?: string;
  /** Restart type under its supervisor. Default `permanent`. */
  restart?: RestartType;
  /** Time it gets to stop before being killed, ms. Default 5000. */
  shutdownMs?: number;
  /** Start it on this node. Default: here if this node hosts the type, else any node that does. */
  node?: string;
}

/** NodeOptions with every default filled in. */
export interface ValidOptions {
  servers: string | string[];
  credentials: string | undefined;
  tls: TlsFiles | undefined;
  namespace: string;
  name: string;
  agents: ReadonlyArray<AgentType | SupervisorType>;
  askTimeoutMs: number;
  maxMessageBytes: number | undefined;
  mailboxBytes: number;
  heartbeatMs: number;
  spawnWaitMs: number;
  /** The root supervisor's spec, checked. */
  root: NormalizedSupervisorSpec;
  memory: MemoryOptions | undefined;
  clock: Clock;
  random: () => number;
  tracing: boolean | undefined;
  telemetry: ValidTelemetry | undefined;
  failover: boolean;
  durableMailboxes: MailboxStreamLimits;
  replicas: number;
  eventHistory: EventHistoryLimits | null;
}

/** Merge defaults into `options` and check every field. */
export function validateNodeOptions(options: NodeOptions): ValidOptions {
  if (options === null || typeof options !== "object") throw new InvalidConfigError("options", "startNode takes an options object");
  const namespace = options.namespace ?? process.env.TROUPE_NAMESPACE ?? "default";
  try {
    new Subjects(namespace);
  } catch (err) {
    throw new InvalidConfigError("namespace", (err as Error).message);
  }
  const name = options.name ?? defaultNodeName();
  try {
    validateToken("node name", name);
  } catch (err) {
    throw new InvalidConfigError("name", (err as Error).message);
  }
  const agents = options.agents ?? [];
  if (!Array.isArray(agents)) throw new InvalidConfigError("agents", "must be an array of defineAgent/defineSupervisor results");
  const seen = new Set<string>();
  agents.forEach((a, i) => {
    if (!a || (a.kind !== "agent" && a.kind !== "supervisor")) {
      throw new InvalidConfigError(`agents[${i}]`, "is not an agent type: make it with defineAgent or defineSupervisor");
    }
    if (seen.has(a.type)) throw new InvalidConfigError(`agents[${i}]`, `agent type "${a.type}" is given twice`);
    seen.add(a.type);
  });
  return {
    servers: options.servers ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    credentials: credentialsPath(options.credentials),
    tls: tlsFiles(options.tls),
    namespace,
    name,
    agents,
    askTimeoutMs: positive("askTimeoutMs", options.askTimeoutMs, 5000),
    maxMessageBytes: options.maxMessageBytes === undefined ? undefined : positive("maxMessageBytes", options.maxMessageBytes, 0),
    mailboxBytes: positive("mailboxBytes", options.mailboxBytes, Math.floor(getHeapStatistics().heap_size_limit / 8)),
    heartbeatMs: positive("heartbeatMs", options.heartbeatMs, 1000),
    spawnWaitMs: positive("spawnWaitMs", options.spawnWaitMs, 3000),
    root: rootSpec(options.root),
    memory: options.memory,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    tracing: options.tracing,
    telemetry: validateTelemetry(options.telemetry),
    failover: options.failover ?? true,
    replicas: replicasOf(options.replicas),
    durableMailboxes: mailboxLimits(options.durableMailboxes, replicasOf(options.replicas)),
    eventHistory: eventHistoryLimits(options.eventHistory),
  };
}

/** The durable mailboxes' limits, defaults filled in; a bad field is named `durableMailboxes.<field>`. */
function replicasOf(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 5) {
    throw new InvalidConfigError("replicas", `must be a whole number from 1 to 5 (3 on a NATS cluster), got ${JSON.stringify(value)}`);
  }
  return value;
}

function mailboxLimits(given: NodeOptions["durableMailboxes"], replicas: number): MailboxStreamLimits {
  if (given === undefined) return { ...DEFAULT_MAILBOX_STREAM, replicas };
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new InvalidConfigError("durableMailboxes", `must be an object, got ${JSON.stringify(given)}`);
  }
  const limits: MailboxStreamLimits = { ...DEFAULT_MAILBOX_STREAM, replicas };
  for (const [field, value] of Object.entries(given)) {
    if (!(field in DEFAULT_MAILBOX_STREAM)) {
      throw new InvalidConfigError(`durableMailboxes.${field}`, `unknown field (known: ${Object.keys(DEFAULT_MAILBOX_STREAM).join(", ")})`);
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || (field === "replicas" && value > 5)) {
      throw new InvalidConfigError(`durableMailboxes.${field}`, `must be a whole number from 1${field === "replicas" ? " to 5" : ""}, got ${JSON.stringify(value)}`);
    }
    limits[field as keyof MailboxStreamLimits] = value;
  }
  return limits;
}

function positive(field: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigError(field, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function defaultNodeName(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40) || "node";
  return `${host}-${process.pid}-${nuid.next().slice(-4).toLowerCase()}`;
}

/** The root supervisor's spec: `one_for_one`, no static children, intensity per child; a bad field is named `root.<field>`. */
function rootSpec(root: NodeOptions["root"]): NormalizedSupervisorSpec {
  if (root !== undefined && (root === null || typeof root !== "object" || Array.isArray(root))) {
    throw new InvalidConfigError("root", `must be an object, got ${JSON.stringify(root)}`);
  }
  const { intensity = ROOT_DEFAULTS.intensity, periodMs = ROOT_DEFAULTS.periodMs, backoff, ...unknown } = root ?? {};
  const stray = Object.keys(unknown)[0];
  if (stray !== undefined) throw new InvalidConfigError(`root.${stray}`, "unknown field (known: intensity, periodMs, backoff)");
  try {
    return supervisorSpec({ type: "root", strategy: "one_for_one", intensity, periodMs, ...(backoff === undefined ? {} : { backoff }) });
  } catch (err) {
    if (err instanceof InvalidConfigError) throw new InvalidConfigError(`root.${err.field}`, err.message.replace(/^invalid [^:]+: /, ""));
    throw err;
  }
}
