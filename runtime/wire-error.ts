// Typed errors back from the wire. A reply that carries an error names its
// class by `code` and brings the error's own fields (`agentId`, `timeoutMs`,
// ...), so the caller gets the same class with the same fields it would have
// got in process: `err instanceof AskTimeoutError && err.timeoutMs`. An error
// the agent's own code threw arrives as RemoteError with its name, message and,
// when it was one of ours, its code.

import {
  AgentExistsError,
  AgentFencedError,
  AgentKilledError,
  AgentNotFoundError,
  AgentStoppedError,
  ApprovalNotFoundError,
  AskTimeoutError,
  ConversationBusyError,
  OutcomeUnknownError,
  BudgetExceededError,
  ErrorCode,
  InternalError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidKeyError,
  InvalidMessageError,
  JetStreamNotEnabledError,
  KeyExistsError,
  MailboxFullError,
  MailboxUnavailableError,
  TopicUnavailableError,
  MemoryUnavailableError,
  ModelError,
  McpUnavailableError,
  NoNodeForTypeError,
  NodeClosedError,
  NodeNameTakenError,
  NotConnectedError,
  PermissionDeniedError,
  ReceiveTimeoutError,
  RemoteError,
  RevisionConflictError,
  StateConflictError,
  SupervisorNotFoundError,
  TroupeError,
  UnknownAgentTypeError,
  UnverifiedSenderError,
  ValueDecodeError,
  ValueTooLargeError,
  toWireError,
  wireError,
  type WireError,
} from "./errors.js";

type ErrorClass = abstract new (...args: never[]) => TroupeError;

/** The class of each code that may come back in a reply. */
const CLASSES: Partial<Record<string, ErrorClass>> = {
  [ErrorCode.AgentNotFound]: AgentNotFoundError,
  [ErrorCode.AskTimeout]: AskTimeoutError,
  [ErrorCode.InvalidMessage]: InvalidMessageError,
  [ErrorCode.AgentExists]: AgentExistsError,
  [ErrorCode.NotConnected]: NotConnectedError,
  [ErrorCode.InvalidArgument]: InvalidArgumentError,
  [ErrorCode.UnknownAgentType]: UnknownAgentTypeError,
  [ErrorCode.NoNodeForType]: NoNodeForTypeError,
  [ErrorCode.MailboxFull]: MailboxFullError,
  [ErrorCode.MailboxUnavailable]: MailboxUnavailableError,
  [ErrorCode.TopicUnavailable]: TopicUnavailableError,
  [ErrorCode.AgentStopped]: AgentStoppedError,
  [ErrorCode.ApprovalNotFound]: ApprovalNotFoundError,
  [ErrorCode.ConversationBusy]: ConversationBusyError,
  [ErrorCode.OutcomeUnknown]: OutcomeUnknownError,
  [ErrorCode.AgentFenced]: AgentFencedError,
  [ErrorCode.NodeClosed]: NodeClosedError,
  [ErrorCode.InvalidConfig]: InvalidConfigError,
  [ErrorCode.KeyExists]: KeyExistsError,
  [ErrorCode.RevisionConflict]: RevisionConflictError,
  [ErrorCode.InvalidKey]: InvalidKeyError,
  [ErrorCode.ValueTooLarge]: ValueTooLargeError,
  [ErrorCode.ValueDecode]: ValueDecodeError,
  [ErrorCode.MemoryUnavailable]: MemoryUnavailableError,
  [ErrorCode.SupervisorNotFound]: SupervisorNotFoundError,
  [ErrorCode.JetStreamNotEnabled]: JetStreamNotEnabledError,
  [ErrorCode.NodeNameTaken]: NodeNameTakenError,
  [ErrorCode.ReceiveTimeout]: ReceiveTimeoutError,
  [ErrorCode.AgentKilled]: AgentKilledError,
  [ErrorCode.StateConflict]: StateConflictError,
  [ErrorCode.Internal]: InternalError,
  [ErrorCode.PermissionDenied]: PermissionDeniedError,
  [ErrorCode.UnverifiedSender]: UnverifiedSenderError,
  [ErrorCode.BudgetExceeded]: BudgetExceededError,
  [ErrorCode.Model]: ModelError,
  [ErrorCode.McpUnavailable]: McpUnavailableError,
};

/**
 * Rebuild a typed error from its wire form, with its own fields; an error of
 * the agent's own code (or of a code this version does not know) becomes a
 * RemoteError about `agentId`.
 */
export function fromWireError(agentId: string, wire: WireError): Error {
  const Class = CLASSES[wire.code];
  if (Class === undefined) {
    const remoteCode = typeof wire.fields?.remoteCode === "string" ? wire.fields.remoteCode : undefined;
    return new RemoteError(agentId, wire.name, wire.message, remoteCode);
  }
  // The class's own constructor would rebuild the message from its arguments; the
  // wire already has the message and the fields, so the instance is made from them.
  const err = Object.create(Class.prototype as object) as TroupeError;
  Object.assign(err, wire.fields);
  // As the constructors leave them: `name` and `code` own and enumerable, `message` own and not.
  Object.defineProperties(err, {
    name: { value: Class.name, writable: true, enumerable: true, configurable: true },
    code: { value: wire.code, enumerable: true, configurable: true },
    message: { value: wire.message, writable: true, configurable: true },
  });
  Error.captureStackTrace(err, fromWireError);
  return err;
}

/**
 * The wire form of a failure inside an agent (its receive threw, timed out, or
 * was killed): the caller gets RemoteError, which remembers the original
 * error's code when it was one of ours; only Troupe's answers about the agent
 * itself (stopped, fenced, over its budget) keep their class.
 */
export function agentFailure(err: unknown): WireError {
  if (err instanceof AgentFencedError || err instanceof AgentStoppedError || err instanceof BudgetExceededError || err instanceof OutcomeUnknownError) {
    return toWireError(err);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return wireError(e.name || "Error", ErrorCode.Remote, e.message, e instanceof TroupeError ? { remoteCode: e.code } : undefined);
}
