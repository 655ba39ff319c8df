// The HTTP-like status code a micro-service error reply carries in its
// `Nats-Service-Error-Code` header, from the Troupe error code: what a caller
// in another language branches on without knowing Troupe's codes.

import { ErrorCode } from "../errors.js";

const STATUS: Readonly<Record<string, number>> = {
  // The request is wrong.
  [ErrorCode.InvalidMessage]: 400,
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.InvalidKey]: 400,
  [ErrorCode.InvalidConfig]: 400,
  [ErrorCode.ValueDecode]: 400,
  // The caller may not.
  [ErrorCode.PermissionDenied]: 403,
  [ErrorCode.UnverifiedSender]: 403,
  [ErrorCode.InvalidCredentials]: 403,
  // Nothing answers to that name.
  [ErrorCode.AgentNotFound]: 404,
  [ErrorCode.UnknownAgentType]: 404,
  [ErrorCode.SupervisorNotFound]: 404,
  [ErrorCode.NamespaceNotFound]: 404,
  [ErrorCode.BucketNotFound]: 404,
  [ErrorCode.DeadLetterNotFound]: 404,
  [ErrorCode.ApprovalNotFound]: 404,
  // No answer in time.
  [ErrorCode.AskTimeout]: 408,
  [ErrorCode.ReceiveTimeout]: 408,
  // Someone else got there first.
  [ErrorCode.AgentExists]: 409,
  [ErrorCode.KeyExists]: 409,
  [ErrorCode.RevisionConflict]: 409,
  [ErrorCode.StateConflict]: 409,
  [ErrorCode.AgentFenced]: 409,
  [ErrorCode.ConversationBusy]: 409,
  [ErrorCode.NodeNameTaken]: 409,
  // Too large.
  [ErrorCode.ValueTooLarge]: 413,
  [ErrorCode.StreamOverflow]: 413,
  // Too much: try later.
  [ErrorCode.MailboxFull]: 429,
  [ErrorCode.BudgetExceeded]: 429,
  // Not there right now: try later, or elsewhere.
  [ErrorCode.NotConnected]: 503,
  [ErrorCode.NoNodeForType]: 503,
  [ErrorCode.NodeClosed]: 503,
  [ErrorCode.ClientClosed]: 503,
  [ErrorCode.AgentStopped]: 503,
  [ErrorCode.MemoryUnavailable]: 503,
  [ErrorCode.MailboxUnavailable]: 503,
  [ErrorCode.TopicUnavailable]: 503,
  [ErrorCode.JetStreamNotEnabled]: 503,
  // Everything else is the agent failing: REMOTE_ERROR, AGENT_KILLED, MODEL_ERROR, INTERNAL, OUTCOME_UNKNOWN, ...
};

/** The service status of a Troupe error code: 400, 403, 404, 408, 409, 413, 429, 503, else 500. */
export function serviceStatus(code: string): number {
  return STATUS[code] ?? 500;
}
