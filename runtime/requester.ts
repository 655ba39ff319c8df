// Request-reply with our own inbox: one wildcard subscription per connection,
// a counter as correlation token, and one deadline timer for all the asks
// that wait. This is the ask path, so it does as little as it can per
// message. Whatever arrives on the inbox, the ask it names settles (or waits
// for its deadline), and nothing throws into the subscription.
//
// Deadlines: asks with the same timeout expire in the order they were sent,
// so each timeout has a lane, a list of its asks oldest first, and one clock
// timer is armed at the earliest deadline at the head of a lane. When it
// fires, every lane gives up the asks whose deadline has passed and the timer
// is armed again for the next one. An answered ask leaves its lane at once.
// Callers use few distinct timeouts; past MAX_LANES of them an ask gets a
// timer of its own.
//
// A chunk (envelope.ts) on an ask's reply subject does not settle it: its
// deadline starts again from now, so a timeout is an inactivity timeout for
// an agent that keeps sending (a stream, or a long answer with keep-alives).

import type { Msg, MsgHdrs, NatsConnection, Status, Subscription } from "@nats-io/nats-core";
import { deniedByServer, violationOf } from "./auth/permission-violation.js";
import { createInbox } from "@nats-io/nats-core";
import { connectionInboxPrefix } from "./connection.js";
import type { Clock, TimerHandle } from "./clock.js";
import { isChunk } from "./envelope.js";
import { errorText, InvalidMessageError } from "./errors.js";

/** Distinct ask timeouts that share the deadline timer; an ask with yet another timeout gets its own timer. */
export const MAX_LANES = 16;

/**
 * An ask waiting for its reply. Subclasses say what happens to the caller;
 * the fields are the requester's bookkeeping (an ask waits in one list, so it
 * carries its own links instead of a wrapper per ask).
 */
export abstract class PendingAsk {
  /** The raw reply arrived. */
  abstract resolve(msg: Msg): void;
  /** Nobody is subscribed to the subject (the server's 503 "no responders"). */
  abstract noResponders(): void;
  /** The deadline passed with no reply. */
  abstract timeout(): void;
  /** The requester stopped (its node closed, or its inbox subscription failed) before a reply came. */
  abstract abort(err: Error): void;
  /** A chunk of the answer arrived (its deadline has started again); a plain ask takes it as a keep-alive only. */
  chunk(_msg: Msg): void {}

  /** @internal How long it may wait with nothing arriving (ms); set on the first {@link Requester.expect} unless given. */
  window = 0;
  /** @internal The correlation token (the last token of the reply subject). */
  token = "";
  /** @internal Where the request went (an ask the server refuses to publish there fails with PermissionDeniedError). */
  sentTo = "";
  /** @internal When it times out, on the requester's clock. */
  deadline = 0;
  /** @internal The lane it waits in, when it has no timer of its own. */
  lane: Lane | undefined = undefined;
  /** @internal Neighbours in its lane, older and newer. */
  prev: PendingAsk | undefined = undefined;
  next: PendingAsk | undefined = undefined;
  /** @internal Its own timer, when every lane was taken by other timeouts. */
  timer: TimerHandle | undefined = undefined;
}

/** The asks with one timeout, oldest (soonest deadline) first. */
interface Lane {
  head: PendingAsk | undefined;
  tail: PendingAsk | undefined;
}

/** Correlates replies on one inbox subscription with the asks waiting for them. */
export class Requester {
  private prefix = "";
  private sub: Subscription | undefined;
  private readonly pending = new Map<string, PendingAsk>();
  /**
   * One lane per timeout in use, at most MAX_LANES. A lane found empty by the
   * sweep is dropped; a failAll drops them all.
   */
  private readonly lanes = new Map<number, Lane>();
  private next = 0;
  private closed = false;
  /** The deadline timer, and the time it is armed for (Infinity when none). */
  private timer: TimerHandle | undefined;
  private armedFor = Infinity;
  /** Ends the watch of the connection's status. */
  private stopStatuses: () => void = () => {};

  constructor(
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
  ) {
    this.listen();
    this.watchRefusals();
  }

  /**
   * The server refuses a publish the credential does not allow with an
   * asynchronous "Permissions Violation": the asks sent to that subject fail
   * with PermissionDeniedError instead of waiting for their deadline. A refused
   * subscription to our inbox fails every ask (no reply could ever arrive).
   */
  private watchRefusals(): void {
    const statuses = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.stopStatuses = () => statuses.stop?.();
    void (async () => {
      for await (const s of statuses) {
        if (s.type !== "error") continue;
        const v = violationOf(s.error);
        if (v === undefined) continue;
        // The inbox subscription is exactly `<prefix>*`.
        if (v.operation === "subscription" && v.subject === `${this.prefix}*`) this.failAll(deniedByServer(v, s.error));
        else if (v.operation === "publish") this.failSentTo(v.subject, deniedByServer(v, s.error));
      }
    })().catch(() => {});
  }

  /** Fail the asks waiting on a reply from `subject` with `err`. */
  private failSentTo(subject: string, err: Error): void {
    const refused: PendingAsk[] = [];
    for (const ask of this.pending.values()) if (ask.sentTo === subject) refused.push(ask);
    for (const ask of refused) {
      this.forget(ask);
      settle(ask, "abort", err);
    }
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
  request(subject: string, payload: Uint8Array, timeoutMs: number, ask: PendingAsk): void {
    const reply = this.expect(timeoutMs, ask);
    ask.sentTo = subject;
    try {
      this.nc.publish(subject, payload, { reply });
    } catch (err) {
      this.forget(ask);
      throw err;
    }
  }

  /** {@link request} with NATS headers (a JetStream publish that expects a revision, say): off the ask path. */
  requestWithHeaders(subject: string, payload: Uint8Array, headers: MsgHdrs, timeoutMs: number, ask: PendingAsk): void {
    const reply = this.expect(timeoutMs, ask);
    ask.sentTo = subject;
    try {
      this.nc.publish(subject, payload, { reply, headers });
    } catch (err) {
      this.forget(ask);
      throw err;
    }
  }

  /**
   * Wait for a reply to `ask` on a subject of our inbox, returned, which the
   * caller sends the request with by other means (a durable mailbox stores it
   * in a stream). The deadline runs from now; {@link cancel} when it cannot be sent.
   */
  expect(timeoutMs: number, ask: PendingAsk): string {
    const token = (this.next++).toString(36);
    ask.token = token;
    if (ask.window === 0) ask.window = timeoutMs;
    this.place(ask, timeoutMs);
    this.pending.set(token, ask);
    return this.prefix + token;
  }

  /** Give `ask` its deadline, `timeoutMs` from now, in the lane of that timeout (or a timer of its own). */
  private place(ask: PendingAsk, timeoutMs: number): void {
    const token = ask.token;
    const deadline = this.clock.now() + timeoutMs;
    ask.deadline = deadline;
    let lane = this.lanes.get(timeoutMs);
    if (lane === undefined && this.lanes.size < MAX_LANES) {
      lane = { head: undefined, tail: undefined };
      this.lanes.set(timeoutMs, lane);
    }
    if (lane !== undefined) {
      ask.lane = lane;
      ask.prev = lane.tail;
      if (lane.tail) lane.tail.next = ask;
      else lane.head = ask;
      lane.tail = ask;
      if (deadline < this.armedFor) this.arm(deadline, timeoutMs);
    } else {
      ask.timer = this.clock.setTimeout(() => {
        if (this.pending.get(token) !== ask) return;
        this.forget(ask);
        settle(ask, "timeout");
      }, timeoutMs);
    }
  }

  /** Something arrived for `ask` that does not settle it: its deadline starts again, a whole window from now. */
  private touch(ask: PendingAsk): void {
    this.unplace(ask);
    this.place(ask, ask.window);
  }

  /** Stop waiting for `ask` (its request could not be sent); it is not settled. */
  cancel(ask: PendingAsk): void {
    if (this.pending.get(ask.token) === ask) this.forget(ask);
  }

  /** Take an ask out of the map and out of its lane (or clear its own timer). */
  private forget(ask: PendingAsk): void {
    this.pending.delete(ask.token);
    this.unplace(ask);
  }

  /** Take an ask out of its lane (or clear its own timer). */
  private unplace(ask: PendingAsk): void {
    const lane = ask.lane;
    if (lane !== undefined) {
      if (ask.prev) ask.prev.next = ask.next;
      else lane.head = ask.next;
      if (ask.next) ask.next.prev = ask.prev;
      else lane.tail = ask.prev;
      ask.lane = ask.prev = ask.next = undefined;
    } else if (ask.timer !== undefined) {
      this.clock.clearTimeout(ask.timer);
      ask.timer = undefined;
    }
  }

  /** Arm the deadline timer for `deadline`, `inMs` from now, replacing a later one. */
  private arm(deadline: number, inMs: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = this.clock.setTimeout(this.sweep, Math.max(0, inMs));
  }

  /** The deadline timer fired: time out every ask whose deadline passed, and arm for the next one. */
  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    const expired: PendingAsk[] = [];
    let next = Infinity;
    for (const [timeoutMs, lane] of this.lanes) {
      while (lane.head !== undefined && lane.head.deadline <= now) {
        const ask = lane.head;
        this.forget(ask);
        expired.push(ask);
      }
      if (lane.head === undefined) this.lanes.delete(timeoutMs);
      else if (lane.head.deadline < next) next = lane.head.deadline;
    }
    if (next !== Infinity) this.arm(next, next - now);
    for (const ask of expired) settle(ask, "timeout");
  };

  /** Subscribe to a fresh inbox. */
  private listen(): void {
    const inbox = createInbox(connectionInboxPrefix(this.nc));
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
    const ask = this.pending.get(msg.subject.slice(this.prefix.length));
    if (ask === undefined) return; // late reply after a timeout: the ask already failed
    if (isChunk(msg.data)) {
      this.touch(ask);
      try {
        ask.chunk(msg);
      } catch {
        // A chunk handler that throws has settled its own ask; the subscription goes on.
      }
      return;
    }
    this.forget(ask);
    let noResponders: boolean;
    try {
      // Reading headers parses them, and a malformed header block throws.
      const h = msg.headers;
      noResponders = h !== undefined && h.code === 503 && msg.data.length === 0;
    } catch (err) {
      settle(ask, "abort", new InvalidMessageError(`the reply has malformed NATS headers (${errorText(err)})`, { cause: err }));
      return;
    }
    if (noResponders) settle(ask, "noResponders");
    else settle(ask, "resolve", msg);
  }

  private failAll(err: Error): void {
    const asks = [...this.pending.values()];
    for (const ask of asks) this.forget(ask);
    this.lanes.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    for (const ask of asks) settle(ask, "abort", err);
  }

  /** Stop listening; asks still waiting fail at once with `reason`. */
  close(reason: Error): void {
    this.closed = true;
    this.stopStatuses();
    this.sub?.unsubscribe();
    this.failAll(reason);
  }
}

/**
 * Settle a waiting ask. A handler that throws has already lost its caller,
 * and must not take the subscription (or the timer) down with it.
 */
function settle(ask: PendingAsk, how: "resolve", msg: Msg): void;
function settle(ask: PendingAsk, how: "abort", err: Error): void;
function settle(ask: PendingAsk, how: "timeout" | "noResponders"): void;
function settle(ask: PendingAsk, how: "resolve" | "abort" | "timeout" | "noResponders", arg?: Msg | Error): void {
  try {
    if (how === "resolve") ask.resolve(arg as Msg);
    else if (how === "abort") ask.abort(arg as Error);
    else if (how === "timeout") ask.timeout();
    else ask.noResponders();
  } catch {
    // Nothing more to do: the ask's own promise is settled or lost either way.
  }
}
