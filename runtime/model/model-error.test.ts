// How model failures are classified and waited for: one row per rule, and a
// ModelError keeps its class and fields across the wire.

import { APIConnectionError, APIError } from "openai";
import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeReply } from "../envelope.js";
import { toWireError } from "../errors.js";
import { fromWireError } from "../wire-error.js";
import {
  BACKOFF_CAP_MS,
  classifyModelError,
  MAX_RETRY_AFTER_MS,
  ModelError,
  ModelErrorKind,
  retryAfterMs,
  retryDelayMs,
  worthRetrying,
} from "./model-error.js";

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

function apiError(status: number | undefined, body: Record<string, unknown>, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, { error: body }, undefined, status === undefined ? undefined : new Headers(headers));
}

describe("classifyModelError", () => {
  it.each([
    ["429 with retry-after", apiError(429, { message: "slow down", code: "rate_limit_exceeded" }, { "retry-after": "3" }), ModelErrorKind.RateLimit, true, 3_000],
    ["429 insufficient_quota", apiError(429, { message: "quota", code: "insufficient_quota" }), ModelErrorKind.RateLimit, false, undefined],
    ["400 context_length_exceeded", apiError(400, { message: "too long", code: "context_length_exceeded" }), ModelErrorKind.ContextLength, false, undefined],
    ["400 from vLLM about context", apiError(400, { message: "This model's maximum context length is 2048 tokens" }), ModelErrorKind.ContextLength, false, undefined],
    ["400 other", apiError(400, { message: "tools[0] is invalid" }), ModelErrorKind.BadRequest, false, undefined],
    ["404 unknown model", apiError(404, { message: "model not found" }), ModelErrorKind.BadRequest, false, undefined],
    ["401", apiError(401, { message: "bad key" }), ModelErrorKind.Auth, false, undefined],
    ["403", apiError(403, { message: "not allowed" }), ModelErrorKind.Auth, false, undefined],
    ["408", apiError(408, { message: "request timeout" }), ModelErrorKind.Timeout, true, undefined],
    ["500", apiError(500, { message: "oops" }), ModelErrorKind.Server, true, undefined],
    ["502", apiError(502, { message: "bad gateway" }), ModelErrorKind.Server, true, undefined],
    ["503", apiError(503, { message: "overloaded" }), ModelErrorKind.Server, true, undefined],
    ["504", apiError(504, { message: "gateway timeout" }), ModelErrorKind.Server, true, undefined],
    ["501", apiError(501, { message: "not implemented" }), ModelErrorKind.Server, false, undefined],
    ["500 with x-should-retry: false", apiError(500, { message: "script" }, { "x-should-retry": "false" }), ModelErrorKind.Server, false, undefined],
    ["an error event in a stream", new APIError(undefined, { message: "overloaded" }, undefined, new Headers()), ModelErrorKind.Server, true, undefined],
    ["connection refused", new APIConnectionError({ message: "Connection error.", cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }), ModelErrorKind.Connection, true, undefined],
    ["a stream dropped mid-way", new TypeError("terminated", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }), ModelErrorKind.Connection, true, undefined],
    ["a response that is not JSON", new SyntaxError("Unexpected token < in JSON"), ModelErrorKind.Server, false, undefined],
  ])("%s", (_name, thrown, kind, retryable, after) => {
    const err = classifyModelError(thrown, NOW);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
    expect(err.retryAfterMs).toBe(after);
    expect(err.cause).toBe(thrown);
  });

  it("names the class and the status in the message, with the provider's own words", () => {
    const err = classifyModelError(apiError(429, { message: "Rate limit reached for requests." }), NOW);
    expect(err.message).toBe("model call failed (rate_limit, HTTP 429): Rate limit reached for requests.");
    expect(err.detail).toBe("Rate limit reached for requests.");
    expect(err.code).toBe("MODEL_ERROR");
  });
});

describe("retry-after", () => {
  it.each([
    [{ "retry-after": "2" }, 2_000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "1234" }, 1_234],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 250],
    [{ "retry-after": new Date(NOW + 7_000).toUTCString() }, 7_000],
    [{ "retry-after": new Date(NOW - 7_000).toUTCString() }, 0],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined],
  ])("%j waits %s ms", (headers, ms) => {
    expect(retryAfterMs(new Headers(headers as Record<string, string>), NOW)).toBe(ms);
  });

  it("waits what the provider asked, else backs off exponentially with jitter up to the cap", () => {
    const limited = classifyModelError(apiError(429, { message: "x" }, { "retry-after": "4" }), NOW);
    expect(retryDelayMs(limited, 1, 0.99)).toBe(4_000);
    const failed = classifyModelError(apiError(500, { message: "x" }), NOW);
    expect([retryDelayMs(failed, 1, 0), retryDelayMs(failed, 1, 0.99999)]).toEqual([250, 500]);
    expect([retryDelayMs(failed, 3, 0), retryDelayMs(failed, 3, 0.99999)]).toEqual([1_000, 2_000]);
    expect(retryDelayMs(failed, 20, 0.99999)).toBe(BACKOFF_CAP_MS);
    expect(retryDelayMs(failed, 20, 0)).toBe(BACKOFF_CAP_MS / 2);
  });

  it("does not wait inside the call for a retry-after longer than a minute", () => {
    const daily = classifyModelError(apiError(429, { message: "x" }, { "retry-after": String(MAX_RETRY_AFTER_MS / 1000 + 1) }), NOW);
    expect(daily.retryable).toBe(true);
    expect(worthRetrying(daily)).toBe(false);
    const minute = classifyModelError(apiError(429, { message: "x" }, { "retry-after": String(MAX_RETRY_AFTER_MS / 1000) }), NOW);
    expect(worthRetrying(minute)).toBe(true);
  });
});

describe("ModelError across the wire", () => {
  it("keeps its class, code, message and fields", () => {
    const original = classifyModelError(apiError(429, { message: "slow down" }, { "retry-after": "2" }), NOW);
    const env = decodeEnvelope(encodeReply("id", "assistant/u42", null, toWireError(original), 1 << 20), 1 << 20);
    const back = fromWireError("assistant/u42", env.error!);
    expect(back).toBeInstanceOf(ModelError);
    expect(back.message).toBe(original.message);
    expect({ ...back }).toEqual({ ...original });
    expect(back).toMatchObject({ kind: "rate_limit", status: 429, retryable: true, retryAfterMs: 2_000, detail: "slow down" });
  });
});
