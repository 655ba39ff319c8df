// The runtime's public names: nodes, refs, agent and supervisor types,
// errors, memory, events. The package's entry (actors/index.ts) re-exports
// them beside the built-in agents. Implementation classes stay inside.

export { startNode, TroupeNode, type NodeOptions, type SpawnOptions, type NodeTree } from "./node.js";
export type { TelemetryOptions } from "./telemetry-options.js";
export type { OtlpExportStats } from "./otlp-export.js";
export { connectClient, TroupeClient, type ClientOptions } from "./client.js";
export type { AgentRef, AskOptions, TellOptions, StreamOptions, ApprovalAnswer } from "./agent-ref.js";
export { PoolPolicy, type Pool, type PoolOptions } from "./pool.js";
export { ChunkStream, MAX_WAITING_CHUNKS } from "./chunk-stream.js";
export type { Chunk, TextChunk, ToolCallChunk, ToolResultChunk, StatusChunk, ApprovalChunk, DoneChunk, CustomChunk } from "./chunk.js";
export { MailboxKind } from "./mailbox-kind.js";
export { DEFAULT_MAILBOX_STREAM, type MailboxStreamLimits } from "./durable/mailbox-stream.js";
export type { AgentInfo } from "./agent-host.js";
export type { NodeInfo } from "./membership.js";
export { EventKind, type TroupeEvent } from "./events.js";
export { EVENT_KINDS, type EventFeed, type EventFeedOptions } from "./event-feed.js";
export { DEFAULT_EVENT_HISTORY, type EventHistoryLimits } from "./events-stream.js";
export type { NodeNotice } from "./node-notice.js";
export type { DeadLetter } from "./dead-letters.js";
export {
  type DeadLetterQueue,
  DEFAULT_DEAD_LETTER_LIMIT,
  type DeadLetterList,
  type DeadLetterListOptions,
  type ReplayOptions,
  type Replayed,
} from "./dead-letter-queue.js";
export { isRawBody, type DeadLetterEntry, type StoredDeadLetter, type UndecodableDeadLetter } from "./dead-letter-record.js";
export { agentId, parseAgentId, type AgentId } from "./subjects.js";
export { defineTopic, type TopicDef, type Topic } from "./define-topic.js";
export { ExposeProtocol, type ExposeOptions } from "./expose-options.js";
export { systemClock, FakeClock, type Clock } from "./clock.js";
export { openConnection, defaultServers } from "./connection.js";
export {
  TroupeError,
  ErrorCode,
  AgentNotFoundError,
  AskTimeoutError,
  RemoteError,
  InvalidMessageError,
  AgentExistsError,
  NotConnectedError,
  InvalidArgumentError,
  InvalidConfigError,
  UnknownAgentTypeError,
  NoNodeForTypeError,
  MailboxFullError,
  AgentStoppedError,
  AgentFencedError,
  NodeClosedError,
  SupervisorNotFoundError,
  KeyExistsError,
  RevisionConflictError,
  InvalidKeyError,
  ValueTooLargeError,
  ValueDecodeError,
  MemoryUnavailableError,
  JetStreamNotEnabledError,
  NodeNameTakenError,
  NamespaceNotFoundError,
  BucketNotFoundError,
  ClientClosedError,
  DeadLetterNotFoundError,
  DeadLetterNotReplayableError,
  MailboxUnavailableError,
  TopicUnavailableError,
  ReceiveTimeoutError,
  AgentKilledError,
  StateConflictError,
  StreamOverflowError,
  ApprovalNotFoundError,
  ConversationBusyError,
  OutcomeUnknownError,
  InternalError,
  PermissionDeniedError,
  UnverifiedSenderError,
  InvalidCredentialsError,
  BudgetExceededError,
  ModelError,
  ModelErrorKind,
  McpUnavailableError,
  McpToolError,
} from "./errors.js";
export type { Memory, MemoryBucket, ReadonlyMemoryBucket, MemoryEntry, MemoryChange, MemoryOptions } from "./memory/index.js";
export {
  defineAgent,
  ActivationMode,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAILBOX_CAPACITY,
  DEFAULT_MAILBOX_BYTES,
  type AgentContext,
  type AgentType,
  type FunctionAgentOptions,
  type MachineAgentOptions,
  type ModelAgentOptions,
  type MessageSchema,
} from "./define-agent.js";
export { tool, type ToolDefinition, type FunctionTool, type AgentTool, type ToolContext, type JsonSchema } from "./model/tool.js";
export type { ModelOptions, ModelMessage, ModelToolCall } from "./model/model-client.js";
export type { Budget, BudgetLimits } from "./model/budget.js";
export { mcpTools, type McpToolsOptions, type McpStdioServer, type McpHttpServer, type McpToolSet } from "./model/mcp-tools.js";
export type { Journal, ModelReply, OpenRequest, PendingApproval, LogEntry } from "./model/journal.js";
export { grantedTargets, type AgentCan, type GrantedTargets, type GrantedKeys } from "./agent-grant.js";
export type { MachineReply } from "./behavior.js";
export { TimerKind, type TimerWhen, type TimerInfo } from "./timer-table.js";
export { LifecycleState, lifecycleMachine } from "./lifecycle.js";
export { defineSupervisor, type SupervisorType } from "./define-supervisor.js";
export type { TreeNode } from "./supervisor.js";
export { Strategy, RestartType, type SupervisorSpec, type ChildSpec, type BackoffSpec } from "../supervisors/index.js";
