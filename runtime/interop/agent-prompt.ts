// One prompt of the NATS agent protocol (0.3), from request to terminator: the
// `ack` first, then the agent's stream (`ref.stream`) as `response` / `status`
// chunks, an `ack` as keep-alive when nothing else went out for a while, a
// model agent's approval as a mid-stream `query` whose answer approves or
// denies, and last the zero-byte terminator with no headers. A failure is an
// error-headered message (§9) before the terminator. Nothing here throws: the
// caller of `servePrompt` only awaits it.

import { headers as natsHeaders, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { AgentRef } from "../agent-ref.js";
import type { Chunk } from "../chunk.js";
import type { Clock, TimerHandle } from "../clock.js";
import { agentMessage, approvalAnswer, type AgentRequest } from "./agent-request.js";
import { ACK_CHUNK, headerText, protocolChunk, protocolError, type ProtocolChunk, type ProtocolStatus } from "./protocol-chunks.js";

/** With nothing else sent for this long, an `ack` goes out as a keep-alive. */
export const PROMPT_KEEP_ALIVE_MS = 10_000;

/** Longest query prompt text (the tool's arguments are cut to fit). */
const MAX_QUERY_PROMPT = 1000;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What a prompt needs from the node. */
export interface PromptEnv {
  readonly nc: NatsConnection;
  readonly clock: Clock;
  /** Inactivity allowed on the agent's stream (each chunk, keep-alives included, starts it again). */
  readonly inactivityMs: number;
  /** A fresh subject for one query's answer. */
  querySubject(): string;
}

/** How a prompt ended: ok, or the §9 code sent. */
export type PromptOutcome = { ok: true } | { ok: false; code: ProtocolStatus; description: string };

/** Send a §9 error and the terminator to `reply` (best effort: a dead reply subject is nobody's problem). */
export function sendError(nc: NatsConnection, reply: string, code: number, description: string, body?: unknown): void {
  try {
    const h = natsHeaders();
    h.set("Nats-Service-Error-Code", String(code));
    h.set("Nats-Service-Error", headerText(description));
    nc.publish(reply, body === undefined ? EMPTY : encoder.encode(JSON.stringify(body)), { headers: h });
    nc.publish(reply, EMPTY);
  } catch {
    // The connection is closing: the caller's inactivity timeout covers it.
  }
}

/** Serve one checked request: ask the agent through `ref`, stream the answer to `reply`. */
export async function servePrompt(env: PromptEnv, reply: string, ref: AgentRef, request: AgentRequest, isModel: boolean): Promise<PromptOutcome> {
  const { nc, clock } = env;
  let lastSent = clock.now();
  let textSent = false;
  const queries: Subscription[] = [];
  const send = (chunk: ProtocolChunk): void => {
    lastSent = clock.now();
    nc.publish(reply, encoder.encode(JSON.stringify(chunk)));
  };
  let timer: TimerHandle | undefined;
  const keepAlive = (): void => {
    timer = clock.setTimeout(() => {
      try {
        if (clock.now() - lastSent >= PROMPT_KEEP_ALIVE_MS) send(ACK_CHUNK);
      } catch {
        // The connection is going: the stream ends below.
      }
      keepAlive();
    }, PROMPT_KEEP_ALIVE_MS);
  };
  try {
    send(ACK_CHUNK);
    keepAlive();
    for await (const chunk of ref.stream(agentMessage(request, isModel), { inactivityMs: env.inactivityMs })) {
      if (chunk.type === "approval") {
        queries.push(askApproval(env, ref, chunk, send));
        continue;
      }
      const out = protocolChunk(chunk, textSent);
      if (chunk.type === "text") textSent = true;
      if (out !== undefined) send(out);
    }
    nc.publish(reply, EMPTY);
    return { ok: true };
  } catch (err) {
    const e = protocolError(err);
    sendError(nc, reply, e.code, e.description, e.body);
    return { ok: false, code: e.code, description: e.description };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    for (const q of queries) q.unsubscribe();
  }
}

/**
 * A model agent's approval as a §7 query: a fresh inbox takes one answer,
 * which approves (`yes`, `approve`, ...) or denies (anything else, as the
 * reason). No answer: the agent's own approval timeout decides.
 */
function askApproval(env: PromptEnv, ref: AgentRef, chunk: Chunk, send: (c: ProtocolChunk) => void): Subscription {
  const approval = chunk as { id: string; tool: string; args: unknown };
  const inbox = env.querySubject();
  const sub = env.nc.subscribe(inbox, {
    max: 1,
    callback: (err, msg) => {
      if (err) return;
      const answer = approvalAnswer(msg.data);
      const decided = answer.decision === "approve" ? ref.approve(approval.id) : ref.deny(approval.id, answer.reason);
      // Already decided (or timed out): the stream says what happened.
      decided.catch(() => {});
    },
  });
  let args = JSON.stringify(approval.args) ?? "null";
  if (args.length > MAX_QUERY_PROMPT) args = `${args.slice(0, MAX_QUERY_PROMPT)}…`;
  send({
    type: "query",
    data: { id: approval.id, reply_subject: inbox, prompt: `Approve the tool call ${approval.tool} ${args}? (yes/no)`, tool: approval.tool, args: approval.args },
  });
  return sub;
}
