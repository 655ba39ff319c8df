// How agentctl shows dead letters: the `dlq ls` table, the `dlq show` text,
// and the JSON of both. Stored text is hostile input, so control characters
// are replaced before anything reaches the terminal.

import type { DeadLetterEntry } from "../actors/index.js";
import { isRawBody } from "../actors/index.js";
import { formatDuration, toJson } from "./output.js";

/** The widest REASON cell of the `dlq ls` table; longer reasons end in `…`. */
export const REASON_WIDTH = 60;

/** Bytes of an undecoded message `dlq show` prints, in hex. */
const RAW_SHOWN_BYTES = 64;

/** Column headers of the dead-letter table; DELIVERIES only when a row has a count. */
export function deadLetterHeaders(entries: readonly DeadLetterEntry[]): string[] {
  const headers = ["SEQ", "AGE", "TO", "TYPE", "REASON", "SENDER"];
  if (entries.some(hasDeliveries)) headers.push("DELIVERIES");
  return headers;
}

/** The rows of the dead-letter table, in the order given; ages counted from `now` (ms since the epoch). */
export function deadLetterRows(entries: readonly DeadLetterEntry[], now: number): string[][] {
  const deliveries = entries.some(hasDeliveries);
  return entries.map((e) => {
    const age = formatDuration(now - e.storedAt);
    if (e.kind === "undecodable") {
      const row = [String(e.seq), age, "-", "-", cut(`undecodable: ${e.problem}`, REASON_WIDTH), "-"];
      return deliveries ? [...row, "-"] : row;
    }
    const row = [String(e.seq), age, e.to, clean(e.messageType ?? "-"), cut(e.reason, REASON_WIDTH), clean(e.sender ?? "-")];
    return deliveries ? [...row, e.deliveries === undefined ? "-" : String(e.deliveries)] : row;
  });
}

/**
 * A dead letter as plain JSON data: times as ISO strings, and the bytes of a
 * message that never decoded as `rawBody` (base64) with `body` null.
 */
export function deadLetterJson(e: DeadLetterEntry): Record<string, unknown> {
  const storedAt = new Date(e.storedAt).toISOString();
  if (e.kind === "undecodable") {
    return { seq: e.seq, kind: e.kind, storedAt, subject: e.subject, problem: e.problem, bytes: e.bytes };
  }
  const raw = isRawBody(e);
  return {
    seq: e.seq,
    kind: e.kind,
    storedAt,
    to: e.to,
    reason: e.reason,
    messageType: e.messageType,
    sender: e.sender,
    messageId: e.messageId,
    node: e.node,
    at: new Date(e.at).toISOString(),
    ...(e.deliveries !== undefined ? { deliveries: e.deliveries } : {}),
    body: raw ? null : e.body,
    ...(raw ? { rawBody: Buffer.from(e.body).toString("base64") } : {}),
  };
}

/** One dead letter in full, as lines of text: a field per line, then the body pretty-printed. */
export function deadLetterText(e: DeadLetterEntry, now: number): string[] {
  const stored = `${new Date(e.storedAt).toISOString()} (${formatDuration(now - e.storedAt)} ago)`;
  if (e.kind === "undecodable") {
    return [
      `seq         ${e.seq}`,
      `stored      ${stored}`,
      `subject     ${clean(e.subject)}`,
      `undecodable ${clean(e.problem)}`,
      `bytes       ${e.bytes}`,
    ];
  }
  const lines = [
    `seq         ${e.seq}`,
    `stored      ${stored}`,
    `to          ${e.to}`,
    `reason      ${clean(e.reason)}`,
    `type        ${clean(e.messageType ?? "-")}`,
    `sender      ${clean(e.sender ?? "-")}`,
    `message id  ${clean(e.messageId ?? "-")}`,
    `node        ${clean(e.node)}`,
    `failed at   ${new Date(e.at).toISOString()}`,
  ];
  if (e.deliveries !== undefined) lines.push(`deliveries  ${e.deliveries}`);
  if (isRawBody(e)) {
    const shown = Buffer.from(e.body.subarray(0, RAW_SHOWN_BYTES)).toString("hex");
    lines.push(`body        ${e.body.length} bytes that never decoded as a message (cannot be replayed):`);
    lines.push(`${shown}${e.body.length > RAW_SHOWN_BYTES ? "…" : ""}`);
  } else {
    lines.push("body:");
    lines.push(clean(toJson(e.body, 2), true));
  }
  return lines;
}

function hasDeliveries(e: DeadLetterEntry): boolean {
  return e.kind === "letter" && e.deliveries !== undefined;
}

/** Text with control characters (escape sequences included) shown as `?`; newlines kept when `multiline`. */
function clean(text: string, multiline = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(multiline ? /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g : /[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** `text` on one line, at most `width` characters. */
function cut(text: string, width: number): string {
  const one = clean(text);
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}
