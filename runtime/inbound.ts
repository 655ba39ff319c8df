// The agent inbox's door: what arrives from the wire is decoded and checked
// here before it reaches `receive`. A message that fails (it does not decode,
// is too large, is not a tell or an ask, has a reply subject that is not an
// inbox, fails the type's schema, finds the mailbox full, or, for a type that
// accepts only verified senders, does not prove its sender) is answered when
// it can be, counted, published as an `invalid_message` event and
// dead-lettered; the agent goes on. An event sent to an agent is refused and
// counted only: an event or dead letter about it would feed a loop (stored,
// delivered into the inbox again by a consumer of that stream, refused again).

import { requiresEventShape } from "./behavior.js";
import type { DeadLetters } from "./dead-letters.js";
import type { AgentType } from "./define-agent.js";
import { decodeEnvelope, isEventEnvelope, Kind } from "./envelope.js";
import { errorText, InvalidMessageError, toWireError, TroupeError } from "./errors.js";
import { EventKind, type EventPublisher } from "./events.js";
import type { Messenger } from "./messenger.js";
import type { AgentId } from "./subjects.js";

/** A decoded, checked message, ready for `receive`. */
export interface Item {
  kind: Kind;
  id: string;
  sender: string | null;
  trace: string | null;
  body: unknown;
  /** The inbox to answer on; only for asks that came with one. */
  reply: string | undefined;
  /** An ask whose asker takes chunks: its inactivity timeout (ms). */
  stream?: number;
  /** From a durable mailbox: its stream sequence, and an ask's idempotency key. */
  seq?: number;
  key?: string;
  /** A timer's message (made by the activation, never from the wire): the timer's name. */
  timer?: string;
  /** From a topic: its name (the agent's `ctx.topic`). */
  topic?: string;
}

/** Bytes of a rejected message's raw body kept in its dead letter. */
export const DEAD_LETTER_RAW_BYTES = 4096;

/** What the inbox needs from its node. */
export interface InboundEnv {
  maxMessageBytes: number;
  messenger: Messenger;
  events: EventPublisher;
  deadLetters: DeadLetters;
}

/** Decodes, checks and rejects the messages of one agent. */
export class Inbound {
  /** Messages refused before they reached `receive`. */
  rejected = 0;
  /** Asks that came without a reply subject: handled as tells, nobody to answer. */
  asksWithoutReply = 0;

  constructor(
    private readonly id: AgentId,
    private readonly key: string,
    private readonly def: AgentType,
    private readonly env: InboundEnv,
  ) {}

  /** Decode and check a message; one that fails is rejected and undefined returned. */
  decode(data: Uint8Array, reply: string | undefined): Item | undefined {
    try {
      const env = decodeEnvelope(data, this.env.maxMessageBytes);
      if (env.kind !== Kind.Tell && env.kind !== Kind.Ask) {
        // An event is never for an agent (a consumer of the events or dead-letter stream delivering into its
        // inbox, say): refused and counted only; an event or dead letter about it would come back the same way.
        if (env.kind === Kind.Event) {
          this.reject(data, reply, new InvalidMessageError("an agent inbox takes tell and ask messages only, not events"), null, false);
          return undefined;
        }
        throw new InvalidMessageError("an agent inbox takes tell and ask messages only");
      }
      if (env.kind === Kind.Ask && reply === undefined) this.asksWithoutReply++; // handled as a tell: nobody to answer
      let body = env.body;
      if (requiresEventShape(this.def) && (body === null || typeof body !== "object" || typeof (body as { type?: unknown }).type !== "string")) {
        throw new InvalidMessageError(`a message for XState agent ${this.id} must be an object with a string "type"`);
      }
      if (this.def.parse) {
        try {
          body = this.def.parse(body);
        } catch (err) {
          const why = err instanceof InvalidMessageError ? err.reason : errorText(err);
          throw new InvalidMessageError(`rejected by the schema of ${this.def.type}: ${why}`, { cause: err });
        }
      }
      const answered = env.kind === Kind.Ask ? reply : undefined;
      return { kind: env.kind, id: env.id, sender: env.sender, trace: env.trace, body, reply: answered, stream: answered === undefined ? undefined : env.stream };
    } catch (err) {
      this.reject(data, reply, err);
      return undefined;
    }
  }

  /** Dead-letter a message that was taken but not handled to the end (it failed, was killed, or its agent stopped). */
  deadLetter(item: Item, reason: string, deliveries?: number): void {
    this.env.deadLetters.publish(this.def.type, this.key, {
      reason,
      messageType: messageTypeOf(item.body),
      sender: item.sender,
      messageId: item.id,
      body: item.body,
      ...(deliveries === undefined ? {} : { deliveries }),
    });
  }

  /** A decoded message refused before it reached `receive` (a topic message finding the mailbox full): counted, reported, dead-lettered. */
  refuseItem(item: Item, err: unknown): void {
    this.rejected++;
    const reason = errorText(err);
    this.env.events.publish(EventKind.InvalidMessage, this.def.type, this.key, { reason });
    this.deadLetter(item, reason);
  }

  /** Dead-letter a message that waited in the mailbox and was never handled: decoded when it decodes, else its first bytes. */
  deadLetterWaiting(data: Uint8Array, reason: string): void {
    let item: Item;
    try {
      const env = decodeEnvelope(data, this.env.maxMessageBytes);
      item = { kind: env.kind, id: env.id, sender: env.sender, trace: env.trace, body: env.body, reply: undefined };
    } catch {
      item = { kind: Kind.Tell, id: "", sender: null, trace: null, body: data.slice(0, DEAD_LETTER_RAW_BYTES), reply: undefined };
    }
    this.deadLetter(item, reason);
  }

  /**
   * A message that never reached `receive`: answered (when `reply` is set, an
   * inbox), counted, published as an `invalid_message` event and
   * dead-lettered with at most its first {@link DEAD_LETTER_RAW_BYTES} bytes
   * (and the sender it claims, when known). An event (`report` false, or
   * bytes that start as one) is only answered and counted: its event or dead
   * letter (itself an event envelope) would be stored, and a consumer of that
   * stream delivering into this inbox would bring it back, refused again.
   */
  reject(data: Uint8Array, reply: string | undefined, err: unknown, sender: string | null = null, report = true): void {
    this.rejected++;
    const reason = errorText(err);
    const typed = err instanceof TroupeError ? err : new InvalidMessageError(reason, { cause: err });
    if (reply !== undefined) this.env.messenger.reply(reply, "", this.id, null, toWireError(typed));
    // Refusals decided before decoding (reply subject, proof, full mailbox) peek at the kind.
    if (!report || isEventEnvelope(data)) return;
    this.env.events.publish(EventKind.InvalidMessage, this.def.type, this.key, { reason });
    this.env.deadLetters.publish(this.def.type, this.key, {
      reason,
      messageType: null,
      sender,
      messageId: null,
      body: data.length > DEAD_LETTER_RAW_BYTES ? data.slice(0, DEAD_LETTER_RAW_BYTES) : data,
    });
  }
}

/** A message's `type` (or `op`) when it is an object that has one as a string: how crash reports name it. */
export function messageTypeOf(body: unknown): string | null {
  if (body !== null && typeof body === "object") {
    const t = (body as { type?: unknown }).type ?? (body as { op?: unknown }).op;
    if (typeof t === "string") return t;
  }
  return null;
}
