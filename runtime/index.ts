// The public API of Troupe: `import { defineAgent, startNode } from "troupe"`.
// Everything a user needs is listed here by name; implementation classes stay inside.

export { startNode, TroupeNode, type NodeOptions, type SpawnOptions, type NodeTree } from "./node.js";
export type { AgentRef, AskOptions } from "./agent-ref.js";
export type { AgentInfo } from "./agent-host.js";
export type { NodeInfo } from "./membership.js";
export { EventKind, type TroupeEvent } from "./events.js";
export type { DeadLetter } from "./dead-letters.js";
export { agentId, parseAgentId, type AgentId } from "./subjects.js";
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
} from "./errors.js";
export type { Memory, MemoryBucket, ReadonlyMemoryBucket, MemoryEntry, MemoryChange, MemoryOptions } from "./memory/index.js";
export {
  defineAgent,
  LifecycleState,
  builtinAgents,
  echo,
  counter,
  type AgentContext,
  type AgentType,
  type MachineReply,
  type CounterMsg,
} from "../actors/index.js";
export {
  defineSupervisor,
  Strategy,
  RestartType,
  type SupervisorType,
  type SupervisorSpec,
  type ChildSpec,
  type BackoffSpec,
  type TreeNode,
} from "../supervisors/index.js";
