// Every failure a user can cause, as one class each. An error's `name` is its
// class name and its `code` a stable string, so callers can branch on either;
// errors that cross the wire are rebuilt into the same classes on the caller.

/** Stable codes of Troupe errors. */
export const ErrorCode = {
  AgentNotFound: "AGENT_NOT_FOUND",
  AskTimeout: "ASK_TIMEOUT",
  Remote: "REMOTE_ERROR",
  InvalidMessage: "INVALID_MESSAGE",
  AgentExists: "AGENT_EXISTS",
  NotConnected: "NOT_CONNECTED",
  InvalidArgument: "INVALID_ARGUMENT",
  UnknownAgentType: "UNKNOWN_AGENT_TYPE",
  NoNodeForType: "NO_NODE_FOR_TYPE",
  MailboxFull: "MAILBOX_FULL",
  AgentStopped: "AGENT_STOPPED",
  AgentFenced: "AGENT_FENCED",
  NodeClosed: "NODE_CLOSED",
  InvalidConfig: "INVALID_CONFIG",
  KeyExists: "KEY_EXISTS",
  RevisionConflict: "REVISION_CONFLICT",
  InvalidKey: "INVALID_KEY",
  ValueTooLarge: "VALUE_TOO_LARGE",
  ValueDecode: "VALUE_DECODE",
  MemoryUnavailable: "MEMORY_UNAVAILABLE",
  SupervisorNotFound: "SUPERVISOR_NOT_FOUND",
  JetStreamNotEnabled: "JETSTREAM_NOT_ENABLED",
  ReceiveTimeout: "RECEIVE_TIMEOUT",
  AgentKilled: "AGENT_KILLED",
  StateConflict: "STATE_CONFLICT",
  Internal: "INTERNAL",
  NodeNameTaken: "NODE_NAME_TAKEN",
  NamespaceNotFound: "NAMESPACE_NOT_FOUND",
  BucketNotFound: "BUCKET_NOT_FOUND",
  ClientClosed: "CLIENT_CLOSED",
  DeadLetterNotFound: "DEAD_LETTER_NOT_FOUND",
  DeadLetterNotReplayable: "DEAD_LETTER_NOT_REPLAYABLE",
  MailboxUnavailable: "MAILBOX_UNAVAILABLE",
  TopicUnavailable: "TOPIC_UNAVAILABLE",
  PermissionDenied: "PERMISSION_DENIED",
  UnverifiedSender: "UNVERIFIED_SENDER",
  InvalidCredentials: "INVALID_CREDENTIALS",
  StreamOverflow: "STREAM_OVERFLOW",
  ApprovalNotFound: "APPROVAL_NOT_FOUND",
  ConversationBusy: "CONVERSATION_BUSY",
  BudgetExceeded: "BUDGET_EXCEEDED",
  OutcomeUnknown: "OUTCOME_UNKNOWN",
  Model: "MODEL_ERROR",
  McpUnavailable: "MCP_UNAVAILABLE",
  McpTool: "MCP_TOOL_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every error Troupe throws. */
export class TroupeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Nobody serves that address: no agent with that id runs in the namespace. */
export class AgentNotFoundError extends TroupeError {
  readonly agentId: string;
  constructor(agentId: string, options?: { cause?: unknown }) {
    super(ErrorCode.AgentNotFound, `agent ${agentId} is not running`, options);
    this.agentId = agentId;
  }
}

/** An ask got no reply within its timeout. */
export class AskTimeoutError extends TroupeError {
  readonly agentId: string;
  readonly timeoutMs: number;
  constructor(agentId: string, timeoutMs: number) {
    super(ErrorCode.AskTimeout, `ask to ${agentId} got no reply within ${timeoutMs} ms`);
    this.agentId = agentId;
    this.timeoutMs = timeoutMs;
  }
}

/** The agent's `receive` threw while handling the ask; carries the remote error's name and message. */
export class RemoteError extends TroupeError {
  readonly agentId: string;
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteCode?: string;
  constructor(agentId: string, remoteName: string, remoteMessage: string, remoteCode?: string) {
    super(ErrorCode.Remote, `agent ${agentId} failed: ${remoteName}: ${remoteMessage}`);
    this.agentId = agentId;
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
    this.remoteCode = remoteCode;
  }
}

/** A message that cannot be encoded or decoded, is too large, or was rejected by the agent's schema. */
export class InvalidMessageError extends TroupeError {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidMessage, `invalid message: ${reason}`, options);
    this.reason = reason;
  }
}

/** Spawn of an id that is already running somewhere in the namespace. */
export class AgentExistsError extends TroupeError {
  readonly agentId: string;
  readonly node?: string;
  constructor(agentId: string, node?: string) {
    super(ErrorCode.AgentExists, `agent ${agentId} is already running${node ? ` on node ${node}` : ""}`);
    this.agentId = agentId;
    this.node = node;
  }
}

/** The NATS server cannot be reached, refused the connection's credentials, or the connection is closed. */
export class NotConnectedError extends TroupeError {
  readonly servers: string;
  constructor(servers: string, detail?: string, options?: { cause?: unknown }) {
    const refused = detail !== undefined && /authorization violation|authentication/i.test(detail);
    super(
      ErrorCode.NotConnected,
      refused
        ? `the NATS server at ${servers} refused the connection (${detail}): it requires a credential it trusts (the credentials option, --creds or NATS_CREDS; \`agentctl auth\` makes them)`
        : `cannot reach a NATS server at ${servers}${detail ? ` (${detail})` : ""}; start one with \`agentctl dev\``,
      options,
    );
    this.servers = servers;
  }
}

/** An argument is malformed (an id, a key, a type name, a timeout...). */
export class InvalidArgumentError extends TroupeError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(ErrorCode.InvalidArgument, message);
    this.argument = argument;
  }
}

/** Configuration is plain data validated once; this names the field that is wrong. */
export class InvalidConfigError extends TroupeError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(ErrorCode.InvalidConfig, `invalid ${field}: ${message}`);
    this.field = field;
  }
}

/** This node does not host the agent type asked for. */
export class UnknownAgentTypeError extends TroupeError {
  readonly agentType: string;
  constructor(agentType: string, known: readonly string[]) {
    super(
      ErrorCode.UnknownAgentType,
      `agent type "${agentType}" is not defined on this node${known.length ? ` (it hosts: ${known.join(", ")})` : ""}`,
    );
    this.agentType = agentType;
  }
}

/** No node in the namespace hosts the agent type, so nothing can spawn it. */
export class NoNodeForTypeError extends TroupeError {
  readonly agentType: string;
  constructor(agentType: string, waitedMs: number) {
    super(ErrorCode.NoNodeForType, `no node in the namespace hosts agent type "${agentType}" (waited ${waitedMs} ms)`);
    this.agentType = agentType;
  }
}

/** The agent's mailbox is at one of its bounds (messages, bytes, or the node's bytes for all mailboxes); the message was not accepted. */
export class MailboxFullError extends TroupeError {
  readonly agentId: string;
  /** Which bound: `"count"`, `"bytes"` or `"node"`; empty when rebuilt from the wire. */
  readonly bound: string;
  constructor(agentId: string, detail: string, bound = "") {
    super(ErrorCode.MailboxFull, `mailbox of ${agentId} is full (${detail})`);
    this.agentId = agentId;
    this.bound = bound;
  }
}

/** The agent stopped (or failed for good) before it handled the message. */
export class AgentStoppedError extends TroupeError {
  readonly agentId: string;
  constructor(agentId: string, detail = "stopped") {
    super(ErrorCode.AgentStopped, `agent ${agentId} ${detail} before handling the message`);
    this.agentId = agentId;
  }
}

/** A newer activation of the agent owns its state; this one stopped itself. */
export class AgentFencedError extends TroupeError {
  readonly agentId: string;
  constructor(agentId: string) {
    super(ErrorCode.AgentFenced, `agent ${agentId} was fenced: a newer activation wrote its state, so this one stopped`);
    this.agentId = agentId;
  }
}

/** The node is closing or closed. */
export class NodeClosedError extends TroupeError {
  constructor(nodeId: string) {
    super(ErrorCode.NodeClosed, `node ${nodeId} is closed`);
  }
}

/** A supervisor named by `spawn({ supervisor })` does not run on this node. */
export class SupervisorNotFoundError extends TroupeError {
  readonly supervisor: string;
  constructor(supervisor: string) {
    super(ErrorCode.SupervisorNotFound, `supervisor ${supervisor} is not running on this node`);
    this.supervisor = supervisor;
  }
}

/** `create` of a key that already exists. */
export class KeyExistsError extends TroupeError {
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(ErrorCode.KeyExists, `key "${key}" already exists`, options);
    this.key = key;
  }
}

/** `update` with a revision that is no longer the key's latest. */
export class RevisionConflictError extends TroupeError {
  readonly key: string;
  readonly expected: number;
  constructor(key: string, expected: number, options?: { cause?: unknown }) {
    super(ErrorCode.RevisionConflict, `key "${key}" is no longer at revision ${expected}`, options);
    this.key = key;
    this.expected = expected;
  }
}

/** A memory key (or bucket name) that JetStream KV would not accept. */
export class InvalidKeyError extends TroupeError {
  readonly key: string;
  constructor(key: string, why: string) {
    super(ErrorCode.InvalidKey, `invalid key "${key}": ${why}`);
    this.key = key;
  }
}

/** A value over the size limit; nothing was written. */
export class ValueTooLargeError extends TroupeError {
  readonly key: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(key: string, bytes: number, limit: number, options?: { cause?: unknown }) {
    super(ErrorCode.ValueTooLarge, `value for "${key}" is ${bytes} bytes, over the ${limit}-byte limit; nothing was written`, options);
    this.key = key;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A stored value that does not decode as MessagePack. */
export class ValueDecodeError extends TroupeError {
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(ErrorCode.ValueDecode, `stored value of "${key}" does not decode as MessagePack`, options);
    this.key = key;
  }
}

/** JetStream stayed unavailable through every retry (leader election, 503, no responders). */
export class MemoryUnavailableError extends TroupeError {
  readonly operation: string;
  constructor(operation: string, attempts: number, options?: { cause?: unknown }) {
    super(ErrorCode.MemoryUnavailable, `memory ${operation} failed after ${attempts} attempts: JetStream unavailable`, options);
    this.operation = operation;
  }
}

/** Wire form of an error, as carried in a reply envelope. */
export interface WireError {
  name: string;
  code: string;
  message: string;
  /** A typed error's own fields (`agentId`, `timeoutMs`, ...): plain strings, numbers, booleans and nulls. */
  fields?: WireFields;
}

/** The fields of a typed error on the wire. */
export type WireFields = Record<string, string | number | boolean | null>;

/** Longest error name and message sent in a reply; longer ones are cut, so an error reply always fits. */
export const WIRE_ERROR_TEXT_LIMIT = { name: 128, code: 64, message: 4096, field: 512, fields: 16 } as const;

/** Properties of an error that are not its fields. */
const NOT_FIELDS = new Set(["name", "code", "message", "stack", "cause", "constructor", "prototype", "__proto__"]);
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]{0,47}$/;

/** Turn any thrown value into its wire form, with its texts cut to {@link WIRE_ERROR_TEXT_LIMIT}. */
export function toWireError(err: unknown): WireError {
  if (err instanceof TroupeError) return wireError(err.name, err.code, err.message, wireFields(err));
  if (err instanceof Error) return wireError(err.name || "Error", "", err.message);
  return wireError("Error", "", String(err));
}

/** A wire error from its parts, each cut to its limit. */
export function wireError(name: string, code: string, message: string, fields?: WireFields): WireError {
  const wire: WireError = {
    name: cut(name, WIRE_ERROR_TEXT_LIMIT.name),
    code: cut(code, WIRE_ERROR_TEXT_LIMIT.code),
    message: cut(message, WIRE_ERROR_TEXT_LIMIT.message),
  };
  if (fields && Object.keys(fields).length > 0) wire.fields = fields;
  return wire;
}

/**
 * The own fields of an error that can travel (plain values under a plain
 * name), at most {@link WIRE_ERROR_TEXT_LIMIT}.fields of them. Used both to
 * send a typed error and to take one from the wire, so a hostile reply can add
 * nothing but short plain values.
 */
export function wireFields(source: object): WireFields | undefined {
  let fields: WireFields | undefined;
  let n = 0;
  for (const [k, v] of Object.entries(source)) {
    if (NOT_FIELDS.has(k) || !FIELD_NAME.test(k)) continue;
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") continue;
    if (++n > WIRE_ERROR_TEXT_LIMIT.fields) break;
    (fields ??= {})[k] = typeof v === "string" ? cut(v, WIRE_ERROR_TEXT_LIMIT.field) : v;
  }
  return fields;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The NATS server answers but has JetStream off; Troupe keeps state, registry and memory in JetStream. */
export class JetStreamNotEnabledError extends TroupeError {
  readonly servers: string;
  constructor(servers: string) {
    super(
      ErrorCode.JetStreamNotEnabled,
      `the NATS server at ${servers} has JetStream disabled; start it with -js (agentctl dev uses nats.conf, which enables it)`,
    );
    this.servers = servers;
  }
}

/** An agent's `receive` ran past its type's `receiveTimeoutMs`; the agent failed. */
export class ReceiveTimeoutError extends TroupeError {
  readonly agentId: string;
  readonly timeoutMs: number;
  constructor(agentId: string, timeoutMs: number) {
    super(ErrorCode.ReceiveTimeout, `receive of ${agentId} did not finish within ${timeoutMs} ms`);
    this.agentId = agentId;
    this.timeoutMs = timeoutMs;
  }
}

/** The message in flight when its agent was killed (agentctl kill, a shutdown past its time, a supervisor giving up). */
export class AgentKilledError extends TroupeError {
  readonly agentId: string;
  readonly reason: string;
  constructor(agentId: string, reason: string) {
    super(ErrorCode.AgentKilled, `agent ${agentId} was killed before it finished the message: ${reason}`);
    this.agentId = agentId;
    this.reason = reason;
  }
}

/** A state write lost compare-and-set: another activation wrote the agent's state since `expectedRevision`. */
export class StateConflictError extends TroupeError {
  readonly agentId: string;
  readonly expectedRevision: number;
  /**
   * An earlier try of the same write got no answer, so it may have landed
   * before the other activation's (which then read it): what it carried may
   * be stored, though this activation lost.
   */
  readonly maybeLanded: boolean;
  constructor(agentId: string, expectedRevision: number, maybeLanded = false) {
    super(ErrorCode.StateConflict, `state of ${agentId} was written by another activation (expected revision ${expectedRevision})`);
    this.agentId = agentId;
    this.expectedRevision = expectedRevision;
    this.maybeLanded = maybeLanded;
  }
}

/** Something the runtime relies on did not hold (a library returned what it never should); a bug to report. */
export class InternalError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Internal, message, options);
  }
}

/** The message of any thrown value, for reasons and log lines. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Another live process holds this node name in the namespace (its heartbeat
 * moves), or a running node found its heartbeat entry taken by another process.
 */
export class NodeNameTakenError extends TroupeError {
  readonly nodeName: string;
  readonly namespace: string;
  constructor(nodeName: string, namespace: string) {
    super(
      ErrorCode.NodeNameTaken,
      `a node named "${nodeName}" is already running in namespace "${namespace}"; pick another --name, or wait until that node is gone`,
    );
    this.nodeName = nodeName;
    this.namespace = namespace;
  }
}

/** `Name: message` of any thrown value, for reports where the kind of error matters. */
export function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * The namespace's cluster buckets (membership, registry, state) do not exist on
 * the server: no node ever ran in it (often a mistyped namespace). A client
 * reports this instead of creating them.
 */
export class NamespaceNotFoundError extends TroupeError {
  readonly namespace: string;
  constructor(namespace: string, options?: { cause?: unknown }) {
    super(ErrorCode.NamespaceNotFound, `namespace "${namespace}" does not exist on this server: no node has run in it`, options);
    this.namespace = namespace;
  }
}

/** A client read a shared-memory bucket that does not exist (nothing was ever written to it); reads never create one. */
export class BucketNotFoundError extends TroupeError {
  readonly bucket: string;
  constructor(bucket: string, options?: { cause?: unknown }) {
    super(ErrorCode.BucketNotFound, `shared-memory bucket ${bucket} does not exist: nothing has been written to it`, options);
    this.bucket = bucket;
  }
}

/** The client was closed: it sends and looks up nothing more. */
export class ClientClosedError extends TroupeError {
  readonly clientName: string;
  constructor(clientName: string) {
    super(ErrorCode.ClientClosed, `client ${clientName} is closed`);
    this.clientName = clientName;
  }
}

/** No dead letter has that stream sequence in the namespace's dead-letter stream (never stored, replayed, deleted or aged out). */
export class DeadLetterNotFoundError extends TroupeError {
  readonly seq: number;
  readonly stream: string;
  constructor(seq: number, stream: string) {
    super(ErrorCode.DeadLetterNotFound, `no dead letter ${seq} in stream ${stream}`);
    this.seq = seq;
    this.stream = stream;
  }
}

/**
 * A dead letter that cannot be sent again: the stored record does not decode,
 * or the message it holds never decoded (its body is the raw bytes received).
 */
export class DeadLetterNotReplayableError extends TroupeError {
  readonly seq: number;
  readonly why: string;
  constructor(seq: number, why: string) {
    super(ErrorCode.DeadLetterNotReplayable, `dead letter ${seq} cannot be replayed: ${why}`);
    this.seq = seq;
    this.why = why;
  }
}

/** A message for a durable topic could not be stored (JetStream did not answer, or the topics stream is missing). */
export class TopicUnavailableError extends TroupeError {
  readonly topic: string;
  readonly reason: string;
  constructor(topic: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.TopicUnavailable, `durable topic ${topic} could not store the message: ${reason}`, options);
    this.topic = topic;
    this.reason = reason;
  }
}

/** A durable mailbox could not store a message (JetStream unavailable through every retry, no mailbox stream, no permission). */
export class MailboxUnavailableError extends TroupeError {
  readonly agentId: string;
  readonly reason: string;
  constructor(agentId: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.MailboxUnavailable, `the durable mailbox of ${agentId} could not store the message: ${reason}`, options);
    this.agentId = agentId;
    this.reason = reason;
  }
}

/**
 * Something was refused for lack of a grant: by the runtime (an agent's `can`
 * declaration does not cover the agent it messages or the memory key it
 * touches) or by the NATS server (the connection's credential does not allow
 * the subject). `operation` says what was tried (`message`, `memory.read`,
 * `memory.write`, `publish`, `subscribe`, ...), `target` on what.
 */
export class PermissionDeniedError extends TroupeError {
  readonly operation: string;
  readonly target: string;
  /** Who was refused: an agent id, a client or node name; empty when unknown. */
  readonly who: string;
  constructor(operation: string, target: string, who = "", reason?: string, options?: { cause?: unknown }) {
    const by = who ? `${who} may not` : "not allowed to";
    super(ErrorCode.PermissionDenied, `permission denied: ${by} ${operation} ${target}${reason ? ` (${reason})` : ""}`, options);
    this.operation = operation;
    this.target = target;
    this.who = who;
  }
}

/** A message to an agent that accepts only verified senders carried no valid proof of who sent it. */
export class UnverifiedSenderError extends TroupeError {
  readonly agentId: string;
  readonly sender: string;
  readonly reason: string;
  constructor(agentId: string, sender: string, reason: string) {
    super(ErrorCode.UnverifiedSender, `${agentId} accepts only verified senders, and the sender ${JSON.stringify(sender)} is not proven: ${reason}`);
    this.agentId = agentId;
    this.sender = sender;
    this.reason = reason;
  }
}

/** A credentials file (or an auth directory) that cannot be read or does not hold what it should. */
export class InvalidCredentialsError extends TroupeError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidCredentials, `credentials ${path}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
  }
}

/** A stream's consumer fell behind by more chunks than may wait for it: the stream ended. */
export class StreamOverflowError extends TroupeError {
  readonly agentId: string;
  readonly limit: number;
  readonly limitBytes: number;
  constructor(agentId: string, limit: number, limitBytes: number) {
    super(ErrorCode.StreamOverflow, `the stream from ${agentId} ended: more than ${limit} chunks or ${limitBytes} bytes waited for the consumer`);
    this.agentId = agentId;
    this.limit = limit;
    this.limitBytes = limitBytes;
  }
}

/** An approve or deny named an approval the agent is not waiting for (never asked, already answered, or timed out). */
export class ApprovalNotFoundError extends TroupeError {
  readonly agentId: string;
  readonly approvalId: string;
  constructor(agentId: string, approvalId: string) {
    super(ErrorCode.ApprovalNotFound, `${agentId} is not waiting for approval ${approvalId}`);
    this.agentId = agentId;
    this.approvalId = approvalId;
  }
}

/**
 * A model agent's conversation is in the middle of a request that waits for
 * a person (an approval), so a new prompt cannot join it yet: approve or deny
 * first, or talk to another agent id.
 */
export class ConversationBusyError extends TroupeError {
  readonly agentId: string;
  readonly approvalId: string;
  constructor(agentId: string, approvalId: string) {
    super(ErrorCode.ConversationBusy, `${agentId} waits for approval ${approvalId}; approve or deny it before the next prompt`);
    this.agentId = agentId;
    this.approvalId = approvalId;
  }
}

/**
 * A model agent reached one of its budget's limits (tokens, model calls, wall
 * time) for the request or for the conversation; the request ends with this.
 */
export class BudgetExceededError extends TroupeError {
  /** Whose limit: `"request"` or `"conversation"`. */
  readonly scope: string;
  /** Which limit: `"tokens"`, `"modelCalls"` or `"wallMs"`. */
  readonly limit: string;
  readonly allowed: number;
  readonly spent: number;
  constructor(scope: "request" | "conversation", limit: "tokens" | "modelCalls" | "wallMs", allowed: number, spent: number) {
    const what = limit === "tokens" ? "tokens" : limit === "modelCalls" ? "model calls" : "ms of wall time";
    super(ErrorCode.BudgetExceeded, `budget exceeded: the ${scope} used ${spent} of its ${allowed} ${what}`);
    this.scope = scope;
    this.limit = limit;
    this.allowed = allowed;
    this.spent = spent;
  }
}

/** The classes of model-call failure a {@link ModelError} names. */
export const ModelErrorKind = {
  /** HTTP 429: the provider's rate limit or quota; retried after `retry-after`. */
  RateLimit: "rate_limit",
  /** The conversation does not fit the model's context window; never retried. */
  ContextLength: "context_length",
  /** A 5xx, or a response that could not be understood. */
  Server: "server",
  /** No byte from the model within the call's `timeoutMs`. */
  Timeout: "timeout",
  /** The connection failed or dropped (also mid-stream). */
  Connection: "connection",
  /** A 4xx other than the above: the request itself is wrong (unknown model, bad tool schema, ...). */
  BadRequest: "bad_request",
  /** HTTP 401 or 403: the API key is missing, wrong or not allowed. */
  Auth: "auth",
  /** The call was aborted by a signal whose reason is not an Error. */
  Aborted: "aborted",
} as const;
export type ModelErrorKind = (typeof ModelErrorKind)[keyof typeof ModelErrorKind];

/**
 * A call to a language model failed for good: at once when retrying cannot
 * help, or after its retries. `kind` names the class of failure, `retryable`
 * says whether trying again later may succeed, `retryAfterMs` is what the
 * provider asked for (429). The message names the class:
 * `model call failed (rate_limit, HTTP 429): Rate limit reached...`.
 */
export class ModelError extends TroupeError {
  readonly kind: ModelErrorKind;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** What the provider (or the connection) said, without the class prefix. */
  readonly detail: string;
  constructor(
    kind: ModelErrorKind,
    detail: string,
    info: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    const where = info.status === undefined ? kind : `${kind}, HTTP ${info.status}`;
    super(ErrorCode.Model, `model call failed (${where}): ${detail}`, info.cause === undefined ? undefined : { cause: info.cause });
    this.kind = kind;
    if (info.status !== undefined) this.status = info.status;
    this.retryable = info.retryable;
    if (info.retryAfterMs !== undefined) this.retryAfterMs = info.retryAfterMs;
    this.detail = detail;
  }
}

/**
 * The ask was handled, but whether the state change it made is stored is not
 * known: the state write got no answer it could trust (a timeout or a lost
 * connection during a leader election, say), so it may have landed. Ask what
 * the agent holds before you repeat a change that must not happen twice (or
 * send it with an id to a durable agent, which applies it once).
 */
export class OutcomeUnknownError extends TroupeError {
  readonly agentId: string;
  readonly reason: string;
  constructor(agentId: string, reason: string) {
    super(ErrorCode.OutcomeUnknown, `${agentId} handled the ask, but its state write got no answer, so the change may or may not be stored: ${reason}`);
    this.agentId = agentId;
    this.reason = reason;
  }
}

/**
 * A model agent's MCP server (mcpTools) could not be reached or listed: its
 * command would not start, its URL did not answer, or it broke the protocol.
 * The request that needed its tools ends with this; the node goes on.
 */
export class McpUnavailableError extends TroupeError {
  /** The server as configured: `node server.js` or its URL. */
  readonly server: string;
  readonly reason: string;
  constructor(server: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.McpUnavailable, `MCP server ${server} is unavailable: ${reason}`, options);
    this.server = server;
    this.reason = reason;
  }
}

/** An MCP tool answered with `isError`, or its call failed at the protocol level; the model is told, as a tool error. */
export class McpToolError extends TroupeError {
  readonly tool: string;
  readonly server: string;
  constructor(server: string, tool: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.McpTool, message, options);
    this.server = server;
    this.tool = tool;
  }
}
