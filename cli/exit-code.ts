// agentctl's exit codes, and how an error maps to one. Every command ends
// through here, so a script can branch on the code without reading messages.

import { ErrorCode } from "../runtime/errors.js";

/** The documented exit codes of agentctl. */
export const ExitCode = {
  /** It worked. */
  Ok: 0,
  /** A runtime error: the command was valid but failed. */
  Error: 1,
  /** A usage error: a bad argument, option or JSON value; nothing was done. */
  Usage: 2,
  /** No NATS server answers at the URL. */
  NotConnected: 3,
  /** The agent, agent type, supervisor, key, state, namespace, memory bucket, dead letter or approval asked for does not exist. */
  NotFound: 4,
  /** An ask (or another request) got no answer in time. */
  Timeout: 5,
  /** The credential does not allow it (the server refused, or an agent's grant), or the sender could not be verified. */
  PermissionDenied: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code table as it appears at the end of `agentctl --help`. */
export const EXIT_CODE_HELP = `Exit codes:
  0  ok
  1  runtime error (the command was valid but failed)
  2  usage error (bad argument, option or JSON; nothing was done)
  3  not connected (no NATS server answers at --server; start one with \`agentctl dev\`)
  4  not found (agent, agent type, supervisor, key, persisted state, namespace, memory bucket, dead letter or approval)
  5  timeout (an ask got no reply in time)
  6  permission denied (the credential does not allow it, or the sender is not verified)`;

/** A mistake in how a command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Something the user named does not exist (a memory key, persisted state): exit 4. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

const BY_CODE: Record<string, ExitCode> = {
  [ErrorCode.InvalidArgument]: ExitCode.Usage,
  [ErrorCode.InvalidConfig]: ExitCode.Usage,
  [ErrorCode.InvalidKey]: ExitCode.Usage,
  // A credentials file that cannot be read or is not one: a bad --creds (or NATS_CREDS, or context).
  [ErrorCode.InvalidCredentials]: ExitCode.Usage,
  [ErrorCode.NotConnected]: ExitCode.NotConnected,
  [ErrorCode.AgentNotFound]: ExitCode.NotFound,
  [ErrorCode.UnknownAgentType]: ExitCode.NotFound,
  [ErrorCode.NoNodeForType]: ExitCode.NotFound,
  [ErrorCode.SupervisorNotFound]: ExitCode.NotFound,
  [ErrorCode.NamespaceNotFound]: ExitCode.NotFound,
  [ErrorCode.BucketNotFound]: ExitCode.NotFound,
  [ErrorCode.DeadLetterNotFound]: ExitCode.NotFound,
  [ErrorCode.ApprovalNotFound]: ExitCode.NotFound,
  [ErrorCode.AskTimeout]: ExitCode.Timeout,
  [ErrorCode.PermissionDenied]: ExitCode.PermissionDenied,
  [ErrorCode.UnverifiedSender]: ExitCode.PermissionDenied,
  // A well-formed name that another live node holds: the command was valid, the cluster said no.
  [ErrorCode.NodeNameTaken]: ExitCode.Error,
};

/**
 * The exit code for a thrown value. Troupe errors are told apart by their
 * stable `code`, so an error class loaded twice (source and dist) still maps.
 */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof NotFoundError) return ExitCode.NotFound;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in BY_CODE) return BY_CODE[code]!;
  return ExitCode.Error;
}

/** The one sentence printed for an error: its message, never a stack trace. */
export function errorSentence(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
