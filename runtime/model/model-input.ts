// What a model agent takes: a prompt (a string, or `{ prompt }`), an
// approve or deny of a tool call that waits (`ref.approve` / `ref.deny`), or
// the resume it tells itself after a restart. Checked at the agent's door
// (its type's schema): anything else is refused with InvalidMessageError and
// dead-lettered, and never reaches the loop.

import { EnvelopeLimits, isMessageKey } from "../envelope.js";
import { InvalidMessageError } from "../errors.js";

/** Longest approval reason kept (it goes to the model and the journal). */
export const MAX_REASON_LENGTH = 2000;

/** A model agent's message, as its loop sees it. */
export type ModelInput =
  | { prompt: string }
  | { approval: string; decision: "approve" | "deny"; reason?: string }
  | { resume: string };

const HINT = 'a model agent takes a prompt: a string, or { prompt: "..." }';

/** Check and normalise a message for a model agent; throws InvalidMessageError saying what is wrong. */
export function parseModelInput(msg: unknown): ModelInput {
  if (typeof msg === "string") {
    if (msg.length === 0) throw new InvalidMessageError(`${HINT}; got an empty string`);
    return { prompt: msg };
  }
  if (msg === null || typeof msg !== "object" || Array.isArray(msg)) throw new InvalidMessageError(HINT);
  const m = msg as Record<string, unknown>;
  if ("prompt" in m) {
    if (typeof m.prompt !== "string" || m.prompt.length === 0) throw new InvalidMessageError(`${HINT}; "prompt" must be a non-empty string`);
    return { prompt: m.prompt };
  }
  if ("approval" in m) {
    if (!isMessageKey(m.approval)) throw new InvalidMessageError(`"approval" must be an approval id (1-${EnvelopeLimits.id} printable characters)`);
    if (m.decision !== "approve" && m.decision !== "deny") throw new InvalidMessageError('"decision" must be "approve" or "deny"');
    if (m.reason !== undefined && (typeof m.reason !== "string" || m.reason.length > MAX_REASON_LENGTH)) {
      throw new InvalidMessageError(`"reason" must be a string of at most ${MAX_REASON_LENGTH} characters`);
    }
    return m.reason === undefined ? { approval: m.approval, decision: m.decision } : { approval: m.approval, decision: m.decision, reason: m.reason };
  }
  if ("resume" in m) {
    if (!isMessageKey(m.resume)) throw new InvalidMessageError('"resume" must be a request id');
    return { resume: m.resume };
  }
  throw new InvalidMessageError(HINT);
}
