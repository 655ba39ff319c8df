// The agent protocol's request rules (§5.3) and chunk and error mapping (§6, §9), one row per rule.

import { describe, expect, it } from "vitest";
import { agentMessage, approvalAnswer, parseAgentRequest } from "./agent-request.js";
import { formatMaxPayload, protocolChunk, protocolError } from "./protocol-chunks.js";
import { AgentNotFoundError, ConversationBusyError, InvalidMessageError, MailboxFullError, RemoteError } from "../errors.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("parseAgentRequest", () => {
  it.each([
    ["plain text", "summarize the report", { ok: true, prompt: "summarize the report" }],
    ["text that does not start with {", "  [1,2]", { ok: true, prompt: "  [1,2]" }],
    ["an envelope, unknown fields kept", ' \n{"prompt":"hi","x":1}', { ok: true, prompt: "hi", envelope: { prompt: "hi", x: 1 } }],
    ["an empty attachments array", '{"prompt":"hi","attachments":[]}', { ok: true, prompt: "hi" }],
    ["an empty payload", "", { ok: false, error: "empty_payload" }],
    ["broken JSON", "{prompt", { ok: false, error: "invalid_envelope" }],
    ["an envelope without prompt", '{"data":1}', { ok: false, error: "invalid_envelope" }],
    ["an empty prompt", '{"prompt":""}', { ok: false, error: "invalid_envelope" }],
    ["a prompt that is not a string", '{"prompt":3}', { ok: false, error: "invalid_envelope" }],
    ["attachments", '{"prompt":"hi","attachments":[{"filename":"a","content":"AA=="}]}', { ok: false, error: "attachments_not_accepted" }],
    ["attachments that are no array", '{"prompt":"hi","attachments":"a"}', { ok: false, error: "invalid_envelope" }],
  ])("%s", (_what, input, expected) => {
    expect(parseAgentRequest(bytes(input), 1024)).toMatchObject(expected);
  });

  it("refuses a request over max_payload, and bytes that are not UTF-8", () => {
    expect(parseAgentRequest(new Uint8Array(1025).fill(0x61), 1024)).toMatchObject({ ok: false, error: "payload_too_large" });
    expect(parseAgentRequest(new Uint8Array([0xff, 0xfe, 0x41]), 1024)).toMatchObject({ ok: false, error: "invalid_utf8" });
  });
});

describe("agentMessage", () => {
  it("gives a model agent { prompt }, another agent the envelope's data or the prompt text", () => {
    const env = parseAgentRequest(bytes('{"prompt":"p","data":{"op":"inc"}}'), 1024);
    const text = parseAgentRequest(bytes("p"), 1024);
    if (!env.ok || !text.ok) throw new Error("unreachable");
    expect(agentMessage(env, true)).toEqual({ prompt: "p" });
    expect(agentMessage(env, false)).toEqual({ op: "inc" });
    expect(agentMessage(text, false)).toBe("p");
  });
});

describe("approvalAnswer", () => {
  it.each([
    ["yes", "approve"],
    [" Yes \n", "approve"],
    ['{"prompt":"approve"}', "approve"],
    ["no", "deny"],
    ["maybe later", "deny"],
    ["", "deny"],
    ["{bad", "deny"],
  ])("%j -> %s", (answer, decision) => {
    expect(approvalAnswer(bytes(answer)).decision).toBe(decision);
  });
});

describe("protocolChunk", () => {
  it.each([
    ["text", { type: "text", delta: "Hel" }, false, { type: "response", data: "Hel" }],
    ["a keep-alive status", { type: "status", status: "working" }, false, undefined],
    ["another status", { type: "status", status: "retrying after rate_limit" }, false, { type: "status", data: "retrying after rate_limit" }],
    ["done with a string", { type: "done", value: "hi" }, false, { type: "response", data: "hi" }],
    ["done with an object", { type: "done", value: { n: 1 } }, false, { type: "response", data: { text: '{"n":1}', value: { n: 1 } } }],
    ["a model's done after streamed text", { type: "done", value: { text: "Hello" }, text: "Hello" }, true, undefined],
    ["a model's done, nothing streamed", { type: "done", value: { text: "Hello" }, text: "Hello" }, false, { type: "response", data: "Hello" }],
    ["a tool call (an unknown type to callers)", { type: "tool_call", id: "c1", name: "add", args: {} }, false, { type: "tool_call", data: { id: "c1", name: "add", args: {} } }],
  ])("%s", (_what, chunk, textSent, expected) => {
    expect(protocolChunk(chunk as never, textSent)).toEqual(expected);
  });
});

describe("protocolError", () => {
  it.each([
    [new InvalidMessageError("bad"), 400],
    [new AgentNotFoundError("a/b"), 404],
    [new ConversationBusyError("a/b", "r1"), 409],
    [new MailboxFullError("a/b", "10 messages"), 429],
    [new RemoteError("a/b", "Error", "boom"), 500],
    [new Error("plain"), 500],
  ])("%s -> %i", (err, code) => {
    const e = protocolError(err);
    expect(e.code).toBe(code);
    expect(e.body.error).toMatch(/^[a-z_]+$/);
  });

  it("keeps the description to one line", () => {
    expect(protocolError(new Error("a\nb")).description).toBe("a b");
  });
});

it("formats max_payload as §2.1 writes it", () => {
  expect([formatMaxPayload(1024 * 1024), formatMaxPayload(8 * 1024 * 1024), formatMaxPayload(65_536), formatMaxPayload(1_000_000), formatMaxPayload(100)]).toEqual(["1MB", "8MB", "64KB", "976KB", "100B"]);
});
