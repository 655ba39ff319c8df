// defineAgent: what an agent type is. A type has a name and either a `receive`
// function over mutable state, an XState machine, or a `model` with tools (the
// built-in model loop); everything else is optional and validated once, here,
// with errors that name the field.

import type { AnyStateMachine } from "xstate";
import { compileGrant, type AgentCan, type AgentGrant } from "./agent-grant.js";
import type { AgentContext } from "./agent-context.js";

export type { AgentContext };
import { InvalidConfigError } from "./errors.js";
import { validateToken } from "./subjects.js";
import { MailboxKind } from "./mailbox-kind.js";
import { checkExpose, type ExposeOptions, type Exposure } from "./expose-options.js";
import { checkModelOptions, type ModelOptions } from "./model/model-client.js";
import { checkModelAgent, type ModelAgentConfig } from "./model/model-config.js";
import type { Budget } from "./model/budget.js";
import type { ToolDefinition } from "./model/tool.js";
import { parseModelInput, type ModelInput } from "./model/model-input.js";
import { checkSubscribe, type Topic, type TopicSubscription } from "./define-topic.js";


/** Something that checks a message: a zod-like schema (`parse` throws) or a function that throws or returns the message. */
export type MessageSchema<M> = { parse(msg: unknown): M } | ((msg: unknown) => M);

interface AgentOptions<M> {
  /** The agent type's name: letters, digits, `_`, `-`. */
  type: string;
  /** Checks every incoming message; a rejected message answers the ask with InvalidMessageError and goes to the dead letters. */
  schema?: MessageSchema<M>;
  /** Persist state in the namespace's state bucket after each change, and resume from it. Default true. */
  persist?: boolean;
  /** A `receive` running longer than this counts as a failure (a hung agent). Default: none. */
  receiveTimeoutMs?: number;
  /** Messages that may wait in the mailbox; past it tells are dead-lettered and asks get MailboxFullError. Default 65536. */
  mailboxCapacity?: number;
  /** Bytes (encoded size) that may wait in the mailbox; past it, as for `mailboxCapacity`. Default 16 MiB. */
  mailboxBytes?: number;
  /**
   * `"core"` (default): messages travel on core NATS, at most once. `"durable"`:
   * the agent's mailbox is a JetStream stream; `tell` resolves once the message
   * is stored, and each stored message is applied exactly once to the persisted
   * state, across crashes, restarts, failover and server restarts. Needs `persist`.
   */
  mailbox?: MailboxKind;
  /**
   * Durable mailbox only: how often a message whose `receive` fails (throws,
   * times out, is killed) is tried before it goes to the dead letters and the
   * agent moves on. Default 5.
   */
  maxDeliver?: number;
  /**
   * `"spawn"` (default): an agent runs once spawned, until stopped. `"on-demand"`:
   * a virtual agent. Every id of the type is addressable: an ask or tell to one
   * that runs nowhere activates it on a node that hosts the type, resuming from
   * its persisted state, and it is passivated (state committed, removed from
   * memory, claim released) after `idleTimeoutMs` without messages. `spawn`
   * still works for it.
   */
  activation?: ActivationMode;
  /** On-demand agents: passivate an agent after this long without a message. Default 5 minutes. */
  idleTimeoutMs?: number;
  /**
   * Least privilege: what the agents of this type may reach through `ctx`.
   * Without `can`, everything (and the check costs nothing). With it, only what
   * is listed; a missing `message`, `memory.read` or `memory.write` list means
   * none of that kind.
   *
   * - `message`: whom `ctx.ref(...)` may ask or tell (core and durable):
   *   `"summarizer"` or `"summarizer/*"` (every agent of a type), `"search/s1"`
   *   (one agent), `"*"` (every agent). An agent may always message itself
   *   (`ctx.self`), and answering an ask needs no grant.
   * - `publish`: topics `ctx.publish` may publish on, names or patterns (`"audit.>"`).
   * - `memory.read`: keys `ctx.memory` may get, list (keys), watch and read the
   *   history of; `memory.write`: keys it may put, create, update, delete, and
   *   modify (modify reads too, so it needs both). NATS-style patterns over the
   *   shared bucket (`facts.>`, `notes.*`, `config`), or `"<bucket>:<pattern>"`
   *   for `ctx.memory.bucket("<bucket>")`. keys(), watch() and history() over a
   *   pattern wider than the grant return only granted keys; over a pattern the
   *   grant does not touch at all they are refused.
   *
   * A refused send or memory operation throws (rejects with)
   * PermissionDeniedError (`operation` "message", "memory.read",
   * "memory.write" or "publish"; `target` the agent id, the topic, or `bucket:key` with the KV bucket's
   * name), counted in `node.stats().permissionDenied` and published as a
   * `permission_denied` event about the agent. Entries are checked here: a bad
   * one is an InvalidConfigError naming it (`can.message[1]`).
   *
   * @example
   * can: { message: ["summarizer", "search/*"], memory: { read: ["facts.>"], write: ["notes.>", "team:plans.*"] } }
   */
  can?: AgentCan;
  /**
   * Accept only messages whose sender is proven: each carries its sender's
   * credential (user JWT) and a signature by it over the message. The node
   * hosting the type checks that the credential was issued by the node's own
   * account for its namespace, that the signature matches, and that the
   * credential's role may speak as the message's `sender` (a client as
   * `client:<name>`, a node as its agents, `node:<id>`, and, when narrowed to
   * types, only agents of those). Others are refused with
   * UnverifiedSenderError (an ask) or dead-lettered (a tell). Senders sign
   * only for types that ask for it. The node needs credentials. Default false.
   */
  requireVerifiedSender?: boolean;
  /**
   * Topics every running agent of the type takes: names or NATS-style patterns
   * (`"orders.*"`, `"orders.>"`), or topics from `defineTopic` (a durable one
   * needs `mailbox: "durable"`). A topic message arrives in the mailbox like a
   * tell; `ctx.topic` names its topic. `ctx.subscribe` adds more at run time.
   */
  subscribe?: Topic[];
  /**
   * Reachable from outside Troupe with no Troupe code on the other side:
   * marked exposed in the type's NATS micro service (`$SRV.INFO`), served as an
   * MCP tool by `agentctl mcp`, and with `protocol: "nats-agents"` through the
   * NATS agent protocol. `true` exposes it with the defaults.
   *
   * @example
   * expose: { protocol: "nats-agents", description: "Answers questions about orders" }
   */
  expose?: ExposeOptions | boolean;
  /** Register the type as a NATS micro service on each node hosting it (`$SRV.PING`, `$SRV.INFO`, `$SRV.STATS`). Default true. */
  service?: boolean;
}

/** How the agents of a type come to run (defineAgent's `activation`). */
export const ActivationMode = {
  /** Started by `spawn`, runs until stopped. */
  Spawn: "spawn",
  /** Virtual: started by the first message, passivated when idle. */
  OnDemand: "on-demand",
} as const;
export type ActivationMode = (typeof ActivationMode)[keyof typeof ActivationMode];

/** Default idle time before an on-demand agent is passivated. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

/** An agent written as a function over state. */
export interface FunctionAgentOptions<S, M, R> extends AgentOptions<M> {
  /** The initial state; `args` come from spawn. */
  state?: (args: unknown) => S;
  /** Handle one message; the return value answers an ask. May be async. */
  receive(msg: M, ctx: AgentContext<S>): R | Promise<R>;
  /** Called when an activation starts (after its state is loaded). */
  onStart?(ctx: AgentContext<S>): void | Promise<void>;
  /** Called when an activation stops, fails or restarts. */
  onStop?(ctx: AgentContext<S>): void | Promise<void>;
  machine?: undefined;
}

/** An agent written as an XState machine: each message (an object with a `type`) is sent to it as an event. */
export interface MachineAgentOptions<M> extends AgentOptions<M> {
  machine: AnyStateMachine;
  /** Version of the persisted snapshot's shape; a stored snapshot of another version is not resumed. Default 1. */
  snapshotVersion?: number;
  receive?: undefined;
  state?: undefined;
}

/**
 * An agent whose behaviour is a language-model loop with tools: it takes a
 * prompt (`"..."` or `{ prompt }`) and answers `{ text, usage, steps }`. The
 * conversation is its persisted state, journaled step by step.
 */
export interface ModelAgentOptions extends Omit<AgentOptions<ModelInput>, "schema"> {
  // `activation` defaults to "on-demand" here: each agent id is a conversation, started by its first prompt.
  /** Any OpenAI-compatible chat completions endpoint: `{ baseURL, model, apiKey }`, plus timeouts and retries. */
  model: ModelOptions;
  /** The system message of every conversation. */
  instructions?: string;
  /** What the model may call: `tool({ ... })` for a local function, `{ agent, ... }` to ask another agent. */
  tools?: Record<string, ToolDefinition>;
  /** Limits per request and (`conversation`) per conversation: tokens, model calls, wall time. */
  budget?: Budget;
  /** A tool call that waits for approval longer than this is denied. Default 24 hours. */
  approvalTimeoutMs?: number;
  /** Model calls per request when `budget.modelCalls` is not set. Default 32. */
  maxSteps?: number;
  /** A keep-alive chunk goes to the asker this often while the model thinks or an approval waits. Default 1000. */
  keepAliveMs?: number;
  receive?: undefined;
  machine?: undefined;
  state?: undefined;
  schema?: undefined;
}

/** A validated agent type, ready to be hosted by a node. */
export interface AgentType {
  readonly kind: "agent";
  readonly type: string;
  readonly initialState: (args: unknown) => unknown;
  readonly receive?: (msg: unknown, ctx: AgentContext<unknown>) => unknown;
  readonly machine?: AnyStateMachine;
  /** A model agent's configuration (its loop is runtime/model/model-behavior.ts). */
  readonly model?: ModelAgentConfig<ModelOptions>;
  readonly snapshotVersion: number;
  readonly onStart?: (ctx: AgentContext<unknown>) => void | Promise<void>;
  readonly onStop?: (ctx: AgentContext<unknown>) => void | Promise<void>;
  readonly parse?: (msg: unknown) => unknown;
  readonly persist: boolean;
  readonly receiveTimeoutMs?: number;
  readonly mailboxCapacity: number;
  readonly mailboxBytes: number;
  readonly mailbox: MailboxKind;
  readonly maxDeliver: number;
  /** Activated by spawn, or on demand by the first message. */
  readonly activation: ActivationMode;
  /** On-demand agents: passivated after this long without a message (undefined for spawned types). */
  readonly idleTimeoutMs?: number;
  /** The type's `can` declaration as given (undefined: it may reach everything). */
  readonly can?: AgentCan;
  /** The same, checked and compiled (undefined without `can`). */
  readonly grant?: AgentGrant;
  /** Accepts only messages whose sender is proven (see defineAgent's `requireVerifiedSender`). */
  readonly requireVerifiedSender: boolean;
  /** The topics every agent of the type takes (undefined: none). */
  readonly subscribe?: readonly TopicSubscription[];
  /** Reachable from outside Troupe (undefined: not exposed). */
  readonly expose?: Exposure;
  /** Registered as a NATS micro service. */
  readonly service: boolean;
}

/** Default tries of a durable message before it is dead-lettered. */
export const DEFAULT_MAX_DELIVER = 5;

/** Default mailbox capacity of an agent, in messages. */
export const DEFAULT_MAILBOX_CAPACITY = 65_536;

/** Default mailbox bound of an agent, in bytes of encoded messages. */
export const DEFAULT_MAILBOX_BYTES = 16 * 1024 * 1024;

/**
 * Define an agent type.
 *
 * @example
 * const counter = defineAgent({
 *   type: "counter",
 *   state: () => ({ count: 0 }),
 *   receive(msg: { op: "inc" } | { op: "get" }, ctx) {
 *     if (msg.op === "inc") ctx.state.count += 1;
 *     return ctx.state.count;
 *   },
 * });
 */
export function defineAgent<S = unknown, M = any, R = unknown>(options: FunctionAgentOptions<S, M, R>): AgentType;
export function defineAgent<M = any>(options: MachineAgentOptions<M>): AgentType;
export function defineAgent(options: ModelAgentOptions): AgentType;
export function defineAgent(options: FunctionAgentOptions<unknown, unknown, unknown> | MachineAgentOptions<unknown> | ModelAgentOptions): AgentType {
  if (options === null || typeof options !== "object") throw new InvalidConfigError("agent", "defineAgent takes an options object");
  const type = checkType(options.type);
  if ((options as ModelAgentOptions).model !== undefined) return defineModelAgent(type, options as ModelAgentOptions);
  const common = {
    kind: "agent" as const,
    type,
    parse: checkSchema(options.schema),
    persist: checkBoolean("persist", options.persist, true),
    receiveTimeoutMs: checkPositive("receiveTimeoutMs", options.receiveTimeoutMs),
    mailboxCapacity: checkPositive("mailboxCapacity", options.mailboxCapacity) ?? DEFAULT_MAILBOX_CAPACITY,
    mailboxBytes: checkPositive("mailboxBytes", options.mailboxBytes) ?? DEFAULT_MAILBOX_BYTES,
    ...checkMailbox(options.mailbox, options.maxDeliver, options.persist),
    ...checkActivation(options.activation, options.idleTimeoutMs, options.mailbox),
    ...checkCan(options.can),
    requireVerifiedSender: checkBoolean("requireVerifiedSender", options.requireVerifiedSender, false),
    ...checkSubscribe(options.subscribe, options.mailbox ?? MailboxKind.Core),
    expose: checkExpose(options.expose, options.schema),
    service: checkBoolean("service", options.service, true),
  };
  refuseUnprovenTopics(common);
  if (options.machine !== undefined) {
    const m = options as MachineAgentOptions<unknown>;
    if (typeof m.machine !== "object" || m.machine === null || typeof (m.machine as { transition?: unknown }).transition !== "function") {
      throw new InvalidConfigError("machine", "must be an XState machine (createMachine or setup().createMachine)");
    }
    if (m.receive !== undefined) throw new InvalidConfigError("receive", "give either `receive` or `machine`, not both");
    return Object.freeze({
      ...common,
      initialState: () => undefined,
      machine: m.machine,
      snapshotVersion: checkPositive("snapshotVersion", m.snapshotVersion) ?? 1,
    });
  }
  const f = options as FunctionAgentOptions<unknown, unknown, unknown>;
  if (typeof f.receive !== "function") throw new InvalidConfigError("receive", "must be a function (or give `machine` instead)");
  if (f.state !== undefined && typeof f.state !== "function") throw new InvalidConfigError("state", "must be a function (args) => initial state");
  if (f.onStart !== undefined && typeof f.onStart !== "function") throw new InvalidConfigError("onStart", "must be a function");
  if (f.onStop !== undefined && typeof f.onStop !== "function") throw new InvalidConfigError("onStop", "must be a function");
  return Object.freeze({
    ...common,
    initialState: f.state ?? (() => ({})),
    receive: f.receive,
    snapshotVersion: 1,
    onStart: f.onStart,
    onStop: f.onStop,
  });
}

/** Topic messages carry no proof of their sender: a type that accepts only proven senders cannot take them. */
function refuseUnprovenTopics(t: { requireVerifiedSender: boolean; subscribe?: readonly unknown[]; expose?: Exposure }): void {
  if (t.requireVerifiedSender && (t.subscribe?.length ?? 0) > 0) {
    throw new InvalidConfigError("subscribe", "a type with requireVerifiedSender takes only messages whose sender is proven, and topic messages carry no proof: remove `subscribe` or `requireVerifiedSender`");
  }
  if (t.requireVerifiedSender && t.expose?.protocol !== undefined) {
    throw new InvalidConfigError("expose.protocol", "a type with requireVerifiedSender takes only messages whose sender is proven, and agent-protocol prompts carry no proof: remove `expose.protocol` or `requireVerifiedSender`");
  }
}

function defineModelAgent(type: string, options: ModelAgentOptions): AgentType {
  if ((options as { schema?: unknown }).schema !== undefined) {
    throw new InvalidConfigError("schema", 'a model agent takes prompts ("..." or { prompt }) and checks them itself: remove `schema`');
  }
  refuseUnprovenTopics({ requireVerifiedSender: options.requireVerifiedSender === true, subscribe: options.subscribe, expose: checkExpose(options.expose, undefined) });
  if (options.persist === false) throw new InvalidConfigError("persist", "a model agent's conversation is its persisted state, journaled step by step: remove persist: false");
  const model = checkModelAgent(options as unknown as Record<string, unknown>, (value) => checkModelOptions(value));
  return Object.freeze({
    kind: "agent" as const,
    type,
    parse: parseModelInput,
    persist: true,
    receiveTimeoutMs: checkPositive("receiveTimeoutMs", options.receiveTimeoutMs),
    mailboxCapacity: checkPositive("mailboxCapacity", options.mailboxCapacity) ?? DEFAULT_MAILBOX_CAPACITY,
    mailboxBytes: checkPositive("mailboxBytes", options.mailboxBytes) ?? DEFAULT_MAILBOX_BYTES,
    ...checkMailbox(options.mailbox, options.maxDeliver, true),
    // A conversation per agent id, addressable without a spawn (a durable mailbox needs its agent spawned).
    ...checkActivation(options.activation ?? (options.mailbox === MailboxKind.Durable ? ActivationMode.Spawn : ActivationMode.OnDemand), options.idleTimeoutMs, options.mailbox),
    ...checkCan(options.can),
    requireVerifiedSender: checkBoolean("requireVerifiedSender", options.requireVerifiedSender, false),
    ...checkSubscribe(options.subscribe, options.mailbox ?? MailboxKind.Core),
    expose: checkExpose(options.expose, undefined),
    service: checkBoolean("service", options.service, true),
    initialState: () => undefined,
    model,
    snapshotVersion: 1,
  });
}

/** Check an agent type name, as a config field. */
export function checkType(type: unknown): string {
  try {
    return validateToken("agent type", type as string);
  } catch (err) {
    throw new InvalidConfigError("type", (err as Error).message);
  }
}

function checkMailbox(mailbox: unknown, maxDeliver: unknown, persist: unknown): { mailbox: MailboxKind; maxDeliver: number } {
  if (mailbox !== undefined && mailbox !== MailboxKind.Core && mailbox !== MailboxKind.Durable) {
    throw new InvalidConfigError("mailbox", `must be "core" or "durable", got ${JSON.stringify(mailbox)}`);
  }
  const kind = mailbox ?? MailboxKind.Core;
  if (kind === MailboxKind.Durable && persist === false) {
    throw new InvalidConfigError("mailbox", 'a durable mailbox records its place in the persisted state: it needs persist (remove persist: false, or use mailbox: "core")');
  }
  if (maxDeliver !== undefined && (typeof maxDeliver !== "number" || !Number.isInteger(maxDeliver) || maxDeliver < 1)) {
    throw new InvalidConfigError("maxDeliver", `must be a whole number of tries, at least 1, got ${JSON.stringify(maxDeliver)}`);
  }
  if (maxDeliver !== undefined && kind !== MailboxKind.Durable) throw new InvalidConfigError("maxDeliver", 'applies to a durable mailbox only (mailbox: "durable")');
  return { mailbox: kind, maxDeliver: (maxDeliver as number | undefined) ?? DEFAULT_MAX_DELIVER };
}

function checkActivation(activation: unknown, idleTimeoutMs: unknown, mailbox: unknown): { activation: ActivationMode; idleTimeoutMs?: number } {
  if (activation !== undefined && activation !== ActivationMode.Spawn && activation !== ActivationMode.OnDemand) {
    throw new InvalidConfigError("activation", `must be "spawn" or "on-demand", got ${JSON.stringify(activation)}`);
  }
  const mode = activation ?? ActivationMode.Spawn;
  const idle = checkPositive("idleTimeoutMs", idleTimeoutMs);
  if (mode !== ActivationMode.OnDemand) {
    if (idle !== undefined) throw new InvalidConfigError("idleTimeoutMs", 'applies to on-demand agents only (activation: "on-demand")');
    return { activation: mode };
  }
  if (mailbox === MailboxKind.Durable) {
    throw new InvalidConfigError("activation", 'on-demand activation takes the core mailbox for now: a durable mailbox needs its agent running to read it (use activation: "spawn" with mailbox: "durable")');
  }
  return { activation: mode, idleTimeoutMs: idle ?? DEFAULT_IDLE_TIMEOUT_MS };
}

function checkCan(can: unknown): { can?: AgentCan; grant?: AgentGrant } {
  if (can === undefined) return {};
  const grant = compileGrant(can);
  // A copy: the declaration as checked, whatever the caller does to its object later.
  const given = can as AgentCan;
  const copy: AgentCan = Object.freeze({
    ...(given.message ? { message: Object.freeze([...given.message]) } : {}),
    ...(given.memory
      ? {
          memory: Object.freeze({
            ...(given.memory.read ? { read: Object.freeze([...given.memory.read]) } : {}),
            ...(given.memory.write ? { write: Object.freeze([...given.memory.write]) } : {}),
          }),
        }
      : {}),
  });
  return { can: copy, grant };
}

function checkSchema(schema: unknown): ((msg: unknown) => unknown) | undefined {
  if (schema === undefined) return undefined;
  if (typeof schema === "function") return schema as (msg: unknown) => unknown;
  if (schema && typeof (schema as { parse?: unknown }).parse === "function") {
    const s = schema as { parse(msg: unknown): unknown };
    return (msg) => s.parse(msg);
  }
  throw new InvalidConfigError("schema", "must have a parse(msg) method or be a function");
}

function checkBoolean(field: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") throw new InvalidConfigError(field, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function checkPositive(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigError(field, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}
