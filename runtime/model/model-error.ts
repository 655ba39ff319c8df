// What a failed model call was: the official client's errors (and the raw
// socket errors a dropped stream surfaces as) turned into one ModelError with
// a kind, whether it is worth retrying, and how long the provider asked us to
// wait; and the backoff between retries. Pure functions: time comes in as `now`.

import { APIConnectionError, APIError } from "openai";
import { ModelError, ModelErrorKind } from "../errors.js";

export { ModelError, ModelErrorKind } from "../errors.js";

/** First backoff delay; doubled per attempt. */
export const BACKOFF_BASE_MS = 500;
/** Longest backoff delay. */
export const BACKOFF_CAP_MS = 30_000;
/**
 * The longest `retry-after` waited for inside a call. A provider that asks for
 * more (a daily quota, say) gets no retry here: the call fails with the
 * rate-limit error, `retryAfterMs` set, and the caller decides.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Socket-level failures: the connection was refused, reset or dropped. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Messages of local servers (vLLM, llama.cpp, Ollama) that mean the context is too long. */
const CONTEXT_TOO_LONG = /context[ _-]?length|context window|maximum context|exceeds? (the )?(available )?context|context size|too many tokens/i;

/**
 * The ModelError for anything a model call threw (an `openai` APIError, a
 * connection error, undici's `TypeError: terminated` from a stream that
 * dropped mid-way). `now` reads an HTTP-date `retry-after`. A response that
 * cannot be understood (malformed JSON, say) is a server error that is not
 * retried: sending the same paid call again is unlikely to mend it.
 */
export function classifyModelError(err: unknown, now: number): ModelError {
  if (err instanceof ModelError) return err;
  if (err instanceof APIConnectionError) {
    return new ModelError(ModelErrorKind.Connection, connectionText(err), { retryable: true, cause: err });
  }
  if (err instanceof APIError) return fromApiError(err, now);
  if (isConnectionFailure(err)) {
    return new ModelError(ModelErrorKind.Connection, connectionText(err as Error), { retryable: true, cause: err });
  }
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ModelError(ModelErrorKind.Server, `the response could not be read (${text})`, { retryable: false, cause: err });
}

function fromApiError(err: APIError, now: number): ModelError {
  const status = err.status;
  const detail = providerMessage(err);
  const code = typeof err.code === "string" ? err.code : "";
  const shouldRetry = err.headers?.get("x-should-retry");
  /** The server's own `x-should-retry` (OpenAI sends it) wins over the status. */
  const retryable = (byStatus: boolean): boolean => (shouldRetry === "true" ? true : shouldRetry === "false" ? false : byStatus);
  const info = (byStatus: boolean, retryAfterMs?: number) => ({
    ...(status === undefined ? {} : { status }),
    retryable: retryable(byStatus),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    cause: err,
  });

  if (status === undefined) {
    // An error event inside a stream: the provider failed after it started answering.
    if (code === "context_length_exceeded" || CONTEXT_TOO_LONG.test(detail)) {
      return new ModelError(ModelErrorKind.ContextLength, detail, info(false));
    }
    return new ModelError(ModelErrorKind.Server, detail, info(true));
  }
  if (status === 429) {
    // `insufficient_quota` is a 429 that waiting does not mend.
    return new ModelError(ModelErrorKind.RateLimit, detail, info(code !== "insufficient_quota", retryAfterMs(err.headers, now)));
  }
  if (status === 401 || status === 403) return new ModelError(ModelErrorKind.Auth, detail, info(false));
  if (code === "context_length_exceeded" || ((status === 400 || status === 413) && CONTEXT_TOO_LONG.test(detail))) {
    return new ModelError(ModelErrorKind.ContextLength, detail, info(false));
  }
  if (status === 408) return new ModelError(ModelErrorKind.Timeout, detail, info(true));
  if (status >= 500) return new ModelError(ModelErrorKind.Server, detail, info(status !== 501));
  return new ModelError(ModelErrorKind.BadRequest, detail, info(false));
}

/** The provider's own message, without the status prefix the client adds. */
function providerMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  if (body && typeof body.message === "string" && body.message !== "") return body.message;
  return err.message;
}

function connectionText(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = socketCode(err) ?? socketCode(cause);
  const why = cause instanceof Error && cause.message !== err.message ? `${err.message} (${cause.message})` : err.message;
  return code ? `${why} [${code}]` : why;
}

function socketCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether a thrown value is a socket failure (undici's `TypeError: terminated` or `fetch failed`, or a Node socket error). */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = socketCode(e);
    if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  }
  return err instanceof TypeError && /^(terminated|fetch failed|other side closed)$/i.test(err.message);
}

/**
 * How long a 429 asked us to wait: `retry-after-ms` (milliseconds), else
 * `retry-after` in seconds or as an HTTP date (read against `now`);
 * undefined when neither is there or readable.
 */
export function retryAfterMs(headers: Headers | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = headers.get("retry-after");
  if (after === null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const at = Date.parse(after);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `attempt` (1 for the first retry): what the
 * provider asked for when it said, else exponential backoff from
 * {@link BACKOFF_BASE_MS} capped at {@link BACKOFF_CAP_MS}, with "equal
 * jitter" (half fixed, half random) so many agents do not retry in step.
 * `random` is in [0, 1).
 */
export function retryDelayMs(err: ModelError, attempt: number, random: number): number {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs;
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Whether the call may be tried again after `err`: retryable, and not asked to wait longer than {@link MAX_RETRY_AFTER_MS}. */
export function worthRetrying(err: ModelError): boolean {
  return err.retryable && (err.retryAfterMs === undefined || err.retryAfterMs <= MAX_RETRY_AFTER_MS);
}
