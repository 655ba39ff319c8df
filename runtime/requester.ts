// Request-reply with our own inbox: one wildcard subscription per connection,
// a counter as correlation token, and one timer per outstanding ask. This is
// the ask path, so it does as little as it can per message. Whatever arrives
// on the inbox, the ask it names settles (or waits for its timer), and nothing
// throws into the subscription.

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { createInbox } from "@nats-io/nats-core";
import type { Clock, TimerHandle } from "./clock.js";
import { errorText, InvalidMessageError } from "./errors.js";

/** What the requester hands back for each reply: the raw message, or a failure. */
export interface PendingAsk {
  resolve(msg: Msg): void;
  /** Nobody is subscribed to the subject (the server's 503 "no responders"). */
  noResponders(): void;
  timeout(): void;
  /** The requester stopped (its node closed, or its inbox subscription failed) before a reply came. */
  abort(err: Error): void;
}

interface Pending {
  handler: PendingAsk;
  timer: TimerHandle;
}

/** Correlates replies on one inbox subscription with the asks waiting for them. */
export class Requester {
  private prefix = "";
  private sub: Subscription | undefined;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
  ) {
    this.listen();
  }

  /** Number of asks waiting for a reply. */
  get outstanding(): number {
    return this.pending.size;
  }

  /**
   * Publish `payload` to `subject` with a reply subject on our inbox and wait
   * for the reply, the server's no-responders status, or the timeout.
   * Throws synchronously if the publish itself fails (closed connection, bad subject).
   */
  request(subject: string, payload: Uint8Array, timeoutMs: number, handler: PendingAsk): void {
    const token = (this.next++).toString(36);
    const timer = this.clock.setTimeout(() => {
      if (this.pending.delete(token)) settle(handler, "timeout");
    }, timeoutMs);
    this.pending.set(token, { handler, timer });
    try {
      this.nc.publish(subject, payload, { reply: this.prefix + token });
    } catch (err) {
      this.pending.delete(token);
      this.clock.clearTimeout(timer);
      throw err;
    }
  }

  /** Subscribe to a fresh inbox. */
  private listen(): void {
    const inbox = createInbox();
    this.prefix = `${inbox}.`;
    const sub = this.nc.subscribe(`${inbox}.*`, { callback: (err, msg) => (err ? this.subscriptionFailed(sub, err) : this.onReply(msg)) });
    this.sub = sub;
  }

  /** The server closed the inbox subscription: fail what waits on it, and listen on a new inbox. */
  private subscriptionFailed(sub: Subscription, err: Error): void {
    if (this.sub !== sub) return;
    this.failAll(err);
    if (this.closed || this.nc.isClosed()) return;
    try {
      this.listen();
    } catch {
      // The connection is closing: later asks fail on publish.
    }
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return; // late reply after a timeout: the ask already failed
    this.pending.delete(token);
    this.clock.clearTimeout(p.timer);
    let noResponders: boolean;
    try {
      // Reading headers parses them, and a malformed header block throws.
      const h = msg.headers;
      noResponders = h !== undefined && h.code === 503 && msg.data.length === 0;
    } catch (err) {
      settle(p.handler, "abort", new InvalidMessageError(`the reply has malformed NATS headers (${errorText(err)})`, { cause: err }));
      return;
    }
    if (noResponders) settle(p.handler, "noResponders");
    else settle(p.handler, "resolve", msg);
  }

  private failAll(err: Error): void {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      this.clock.clearTimeout(p.timer);
      settle(p.handler, "abort", err);
    }
  }

  /** Stop listening; asks still waiting fail at once with `reason`. */
  close(reason: Error): void {
    this.closed = true;
    this.sub?.unsubscribe();
    this.failAll(reason);
  }
}

/**
 * Settle a waiting ask. A handler that throws has already lost its caller,
 * and must not take the subscription (or a timer) down with it.
 */
function settle(handler: PendingAsk, how: "resolve", msg: Msg): void;
function settle(handler: PendingAsk, how: "abort", err: Error): void;
function settle(handler: PendingAsk, how: "timeout" | "noResponders"): void;
function settle(handler: PendingAsk, how: keyof PendingAsk, arg?: Msg | Error): void {
  try {
    if (how === "resolve") handler.resolve(arg as Msg);
    else if (how === "abort") handler.abort(arg as Error);
    else handler[how]();
  } catch {
    // Nothing more to do: the ask's own promise is settled or lost either way.
  }
}
