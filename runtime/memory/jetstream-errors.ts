// Telling JetStream failures apart: transient ones (the server is restarting,
// a leader is being elected, a request timed out) are worth retrying; logical
// ones (wrong last sequence, a key that exists) are answers and never retried.
// Errors are recognised by name and code, not instanceof, so a second copy of
// the client library in node_modules cannot defeat the check.

/** JetStream API error codes (`err_code`) that mean "not now" rather than "no". */
const TRANSIENT_API_CODES: ReadonlySet<number> = new Set([
  10008, // JSClusterNotAvailErr: JetStream system temporarily unavailable
  10009, // JSClusterNotLeaderErr: this server is not the leader (election under way)
  10039, // JSNotEnabledForAccountErr: seen while an account's JetStream comes back after a restart
  10076, // JSNotEnabledErr: JetStream not enabled (yet)
  10118, // JSStreamOfflineErr
  10119, // JSConsumerOfflineErr
]);

/**
 * The `name` nats.js v3 gives its NoRespondersError (not the class name): seen
 * as the cause of a RequestError when a KV direct get finds no replica serving
 * yet, e.g. on a stream just created or while its servers restart.
 */
const NO_RESPONDERS = "NoResponders";

/** `err_code` of "message size exceeds maximum allowed" (the stream's max_msg_size, or max_payload). */
const MESSAGE_TOO_LARGE_CODE = 10054;

/** `err_code` of "stream not found" (a KV bucket is a stream). */
const STREAM_NOT_FOUND_CODE = 10059;

/** `err_code` of "wrong last sequence", the answer to a failed compare-and-set. */
const WRONG_LAST_SEQUENCE_CODES: ReadonlySet<number> = new Set([10071, 10164]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
}

function shape(err: unknown): ErrorShape | undefined {
  return typeof err === "object" && err !== null ? (err as ErrorShape) : undefined;
}

/**
 * True for failures that may go away by themselves: no responders, request timeouts,
 * "JetStream not enabled" while a server restarts, and API errors with status 503 or a
 * leader-election code. False for everything else, including a closed connection.
 */
export function isTransientJetStreamError(err: unknown): boolean {
  const e = shape(err);
  if (!e) return false;
  switch (e.name) {
    case "TimeoutError":
    case NO_RESPONDERS:
    case "JetStreamNotEnabled":
      return true;
    case "RequestError": {
      const cause = shape(e.cause);
      return cause?.name === NO_RESPONDERS || cause?.name === "TimeoutError";
    }
    case "JetStreamApiError":
      return e.status === 503 || (typeof e.code === "number" && TRANSIENT_API_CODES.has(e.code));
    case "JetStreamStatusError":
      return e.code === 503 || e.code === 408;
    default:
      return false;
  }
}

/** True when a conditional write failed because the key is not at the expected revision. */
export function isWrongLastSequence(err: unknown): boolean {
  const e = shape(err);
  return e?.name === "JetStreamApiError" && typeof e.code === "number" && WRONG_LAST_SEQUENCE_CODES.has(e.code);
}

/** True when the server refused a write as larger than the stream's (or the server's) message size limit. */
export function isMessageTooLarge(err: unknown): boolean {
  const e = shape(err);
  return e?.name === "JetStreamApiError" && e.code === MESSAGE_TOO_LARGE_CODE;
}

/** True when the connection is closed for good (retrying cannot help). */
export function isClosedConnection(err: unknown): boolean {
  const name = shape(err)?.name;
  return name === "ClosedConnectionError" || name === "DrainingConnectionError";
}

/** True when the stream (or the KV bucket it holds) does not exist. */
export function isStreamNotFound(err: unknown): boolean {
  const e = shape(err);
  return (e?.name === "JetStreamApiError" && e.code === STREAM_NOT_FOUND_CODE) || e?.name === "StreamNotFoundError";
}
