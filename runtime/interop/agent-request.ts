// A prompt as the NATS agent protocol (0.3, §5) sends it: plain UTF-8 text, or
// a JSON envelope `{ prompt, attachments?, ...unknown }`. Decoded and checked
// here, before anything reaches an agent: a request that fails is answered with
// status 400 and the reason, and the agent never sees it.

/** Why a request is refused (status 400). */
export interface RequestProblem {
  ok: false;
  /** Machine-readable, snake_case (the error body's `error`). */
  error: string;
  message: string;
}

/** A request that passed: its prompt, and the envelope as sent (unknown fields kept). */
export interface AgentRequest {
  ok: true;
  prompt: string;
  /** The JSON envelope, or undefined for plain text. */
  envelope?: Record<string, unknown>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decode a prompt request of at most `maxBytes` bytes (§5.3). Attachments are refused: Troupe agents advertise `attachments_ok: false`. */
export function parseAgentRequest(data: Uint8Array, maxBytes: number): AgentRequest | RequestProblem {
  if (data.length === 0) return problem("empty_payload", "the request is empty: send the prompt as text, or {\"prompt\": \"...\"}");
  if (data.length > maxBytes) return problem("payload_too_large", `the request is ${data.length} bytes, over this endpoint's max_payload of ${maxBytes} bytes`);
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return problem("invalid_utf8", "the request is not UTF-8 text");
  }
  let i = 0;
  while (i < data.length && (data[i] === 0x09 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x20)) i++;
  if (data[i] !== 0x7b /* { */) return { ok: true, prompt: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return problem("invalid_envelope", "the request starts with { but is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return problem("invalid_envelope", "the envelope must be a JSON object");
  const envelope = parsed as Record<string, unknown>;
  if (typeof envelope.prompt !== "string" || envelope.prompt.length === 0) return problem("invalid_envelope", 'the envelope needs "prompt": a non-empty string');
  if (envelope.attachments !== undefined) {
    if (!Array.isArray(envelope.attachments)) return problem("invalid_envelope", '"attachments" must be an array');
    if (envelope.attachments.length > 0) return problem("attachments_not_accepted", "this agent takes no attachments (attachments_ok is false)");
  }
  return { ok: true, prompt: envelope.prompt, envelope };
}

/**
 * What the agent is asked with. A model agent takes `{ prompt }`; any other
 * agent takes the envelope's `data` field when there is one (any JSON: the
 * message its `receive` expects), else the prompt text as a string.
 */
export function agentMessage(request: AgentRequest, isModel: boolean): unknown {
  if (isModel) return { prompt: request.prompt };
  if (request.envelope !== undefined && "data" in request.envelope) return request.envelope.data;
  return request.prompt;
}

/** Longest answer text read from a query reply (the rest is cut). */
const MAX_ANSWER = 2000;

/** Answers to an approval query that approve (compared trimmed, lower case); anything else denies. */
const APPROVING = new Set(["yes", "y", "approve", "approved", "allow", "ok"]);

/** A query reply (§7.2: text or an envelope) read as an approval decision; anything unreadable denies. */
export function approvalAnswer(data: Uint8Array): { decision: "approve" } | { decision: "deny"; reason: string } {
  const read = parseAgentRequest(data, Number.MAX_SAFE_INTEGER);
  if (!read.ok) return { decision: "deny", reason: `the caller's answer could not be read (${read.error})` };
  const text = read.prompt.trim().slice(0, MAX_ANSWER);
  if (APPROVING.has(text.toLowerCase())) return { decision: "approve" };
  return { decision: "deny", reason: `the caller answered: ${text}` };
}

function problem(error: string, message: string): RequestProblem {
  return { ok: false, error, message };
}
