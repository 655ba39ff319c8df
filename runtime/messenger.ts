// Sending: tell (publish), ask (request over our own inbox) and replies, in
// Troupe's envelope. Every ref on a node sends through its node's Messenger.
// This is the hot path: no per-message subscriptions, no async stack traces.
// Messages to a type whose route says it accepts only verified senders carry
// a proof of their sender (auth/sender-proof.ts) when the messenger has
// credentials to sign with; others carry none and cost nothing more.

import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { approvalDecision, type AgentRef, type ApprovalAnswer, type AskOptions, type StreamOptions, type TellOptions } from "./agent-ref.js";
import type { Chunk } from "./chunk.js";
import { ChunkStream } from "./chunk-stream.js";
import type { Clock } from "./clock.js";
import { decodeEnvelope, encodeChunk, encodeEnvelope, encodeReply, EnvelopeLimits, isMessageKey, Kind, MAX_STREAM_INACTIVITY_MS, nextMessageId } from "./envelope.js";
import {
  AgentNotFoundError,
  errorText,
  InternalError,
  TroupeError,
  AskTimeoutError,
  InvalidArgumentError,
  InvalidMessageError,
  NotConnectedError,
  toWireError,
  type WireError,
} from "./errors.js";
import { PendingAsk, Requester } from "./requester.js";
import { fromWireError } from "./wire-error.js";
import { agentId, isReplySubject, type AgentId, type Subjects } from "./subjects.js";
import { injectTrace } from "./telemetry.js";
import { MailboxKind } from "./mailbox-kind.js";
import { CORE_ROUTE, type TypeDirectory, type TypeRoute } from "./durable/type-directory.js";
import { Activator, BouncingTell } from "./activator.js";
import { sharedFlush } from "./shared-flush.js";
import type { DurableSender } from "./durable/durable-sender.js";
import type { SenderSigner } from "./auth/sender-proof.js";

export interface MessengerOptions {
  maxMessageBytes: number;
  askTimeoutMs: number;
  /** Used in errors when the connection is gone. */
  servers: string;
  /** Signs messages to agents that accept only verified senders (absent: they are sent unsigned, and refused). */
  signer?: SenderSigner;
}

const RESOLVED: Promise<void> = Promise.resolve();


/** Most tells queued before they are published without waiting for the end of the turn. */
export const TELL_BATCH = 1024;

/** Sends Troupe messages over one connection. */
export class Messenger {
  readonly requester: Requester;
  private queuedSubjects: string[] = [];
  private queuedPayloads: Uint8Array[] = [];
  /** Proof headers of the queued tells that carry one, by their index in the queue (undefined while none does). */
  private queuedHeaders: Map<number, MsgHdrs> | undefined;
  /** Tells to on-demand agents, queued with the others (published after them in the same flush). */
  private queuedBouncing: BouncingTell[] = [];
  private flushScheduled = false;
  /** Activates on-demand agents that a message found not running. */
  readonly activator: Activator;
  /** Replies that could not be sent: not an inbox subject, or the connection was gone. */
  droppedReplies = 0;
  /** Set once the owner closed: every send fails with it. */
  private closedWith: Error | undefined;
  /** Which mailbox each type takes, and how durable ones are stored (absent: every type takes the core mailbox). */
  private durable: { directory: TypeDirectory; sender: DurableSender } | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly subjects: Subjects,
    readonly clock: Clock,
    readonly options: MessengerOptions,
  ) {
    this.requester = new Requester(nc, clock);
    this.activator = new Activator({
      clock,
      subjects,
      control: (subject, body, timeoutMs, noResponders) => this.control(subject, body, timeoutMs, null, noResponders),
      sendTell: (tell) => this.queueBouncing(tell),
    });
  }

  /** Send to agents with durable mailboxes: `directory` says which types take one, `sender` stores their messages. */
  useDurableMailboxes(directory: TypeDirectory, sender: DurableSender): void {
    this.durable = { directory, sender };
  }

  /** How messages reach agents of `type`, when known here without I/O. */
  routeOf(type: string): TypeRoute | undefined {
    return this.durable ? this.durable.directory.routeOf(type) : CORE_ROUTE;
  }

  /**
   * Look up the route of `type` (once; then {@link routeOf} knows it, unless
   * the namespace has no type directory yet: then it is the core mailbox,
   * spawned agents only, and looked up again next time).
   */
  async lookupRoute(type: string): Promise<TypeRoute> {
    if (this.closedWith) throw this.closedWith;
    return (await this.durable?.directory.lookup(type)) ?? CORE_ROUTE;
  }

  /** Tells that were lost because their on-demand agent could not be activated. */
  get undeliveredTells(): number {
    return this.activator.undeliveredTells;
  }

  /** A ref to `type/key` that sends as `sender`. Validates both parts. */
  ref<M = unknown, R = unknown>(type: string, key: string, sender: string | null): AgentRef<M, R> {
    return new Ref<M, R>(this, agentId(type, key), type, key, sender);
  }

  /**
   * Queue a tell; throws InvalidMessageError or NotConnectedError at once.
   *
   * Tells are published in batches at the end of the current turn of the
   * event loop (or every {@link TELL_BATCH} messages): nats.js writes to the
   * socket once per microtask checkpoint, so `await ref.tell()` in a loop
   * would otherwise cost a socket write per message. Every other send from
   * this messenger publishes queued tells first, so order is kept.
   */
  tell(subject: string, msg: unknown, sender: string | null, id?: string, signed = false): void {
    if (this.closedWith) throw this.closedWith;
    const payload = encodeEnvelope(Kind.Tell, id ?? nextMessageId(), sender, injectTrace(subject), msg, this.options.maxMessageBytes);
    if (this.nc.isClosed()) throw new NotConnectedError(this.options.servers, "connection closed");
    const headers = signed ? this.proof(subject, payload) : undefined;
    if (headers !== undefined) (this.queuedHeaders ??= new Map()).set(this.queuedSubjects.length, headers);
    this.queuedSubjects.push(subject);
    this.queuedPayloads.push(payload);
    if (this.queuedSubjects.length >= TELL_BATCH) this.flushTells();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTells);
    }
  }

  /**
   * Queue a tell to an on-demand agent: sent with the others, but with a
   * reply subject, so the server tells us when nobody heard it (then its
   * agent is activated and it is sent again, see activator.ts). While this
   * sender activates the agent, the tell waits behind the activation.
   */
  tellOnDemand(to: AgentId, type: string, key: string, subject: string, msg: unknown, sender: string | null, id?: string, signed = false): void {
    if (this.closedWith) throw this.closedWith;
    const payload = encodeEnvelope(Kind.Tell, id ?? nextMessageId(), sender, injectTrace(subject), msg, this.options.maxMessageBytes);
    if (this.nc.isClosed()) throw new NotConnectedError(this.options.servers, "connection closed");
    const tell = new BouncingTell(to, type, key, subject, payload, this.clock.now() + this.options.askTimeoutMs, this.activator.bounced);
    // Sent again as it is when it bounces: the proof goes with it.
    if (signed) tell.headers = this.proof(subject, payload);
    if (!this.activator.holdTell(tell)) this.queueBouncing(tell);
  }

  private queueBouncing(tell: BouncingTell): void {
    this.queuedBouncing.push(tell);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTells);
    }
  }

  /** Publish every queued tell now. */
  readonly flushTells = (): void => {
    this.flushScheduled = false;
    const subjects = this.queuedSubjects;
    if (subjects.length > 0) {
      const payloads = this.queuedPayloads;
      const headers = this.queuedHeaders;
      this.queuedSubjects = [];
      this.queuedPayloads = [];
      this.queuedHeaders = undefined;
      try {
        if (headers === undefined) for (let i = 0; i < subjects.length; i++) this.nc.publish(subjects[i]!, payloads[i]!);
        else {
          for (let i = 0; i < subjects.length; i++) {
            const h = headers.get(i);
            if (h === undefined) this.nc.publish(subjects[i]!, payloads[i]!);
            else this.nc.publish(subjects[i]!, payloads[i]!, { headers: h });
          }
        }
      } catch {
        // Closed under us: tells are at most once.
      }
    }
    if (this.queuedBouncing.length > 0) this.publishBouncing();
  };

  /**
   * Publish the queued tells to on-demand agents, each with a reply subject on
   * our inbox. The server answers "no responders" before it answers the
   * flush that follows, so once the flush is back every tell not bounced was
   * heard, and stops waiting.
   */
  private publishBouncing(): void {
    const tells = this.queuedBouncing;
    this.queuedBouncing = [];
    try {
      for (const tell of tells) {
        const reply = this.requester.expect(this.options.askTimeoutMs, tell);
        this.nc.publish(tell.subject, tell.payload, tell.headers === undefined ? { reply } : { reply, headers: tell.headers });
      }
    } catch {
      // Closed under us: tells are at most once; the requester's close settles them.
    }
    sharedFlush(this.nc).then(
      () => {
        for (const tell of tells) this.requester.cancel(tell);
      },
      () => {},
    );
  }

  /**
   * Send an ask and wait for its reply, decoded, or a typed error. When nobody
   * listens, the type's pool is asked to activate the agent (an on-demand
   * agent is started; a spawned one that a live node claims, being handed
   * over, is waited for) and the ask is sent again, within its deadline.
   */
  ask(
    subject: string,
    to: AgentId,
    type: string,
    key: string,
    msg: unknown,
    timeoutMs: number,
    sender: string | null,
    signed = false,
    id?: string,
    sink?: ChunkSink,
  ): Promise<unknown> {
    let payload: Uint8Array;
    let headers: MsgHdrs | undefined;
    try {
      if (this.closedWith) throw this.closedWith;
      checkTimeout(timeoutMs);
      payload = encodeEnvelope(Kind.Ask, id ?? nextMessageId(), sender, injectTrace(subject), msg, this.options.maxMessageBytes, sink?.inactivityMs);
      if (signed) headers = this.proof(subject, payload);
    } catch (err) {
      return Promise.reject(err);
    }
    // Tells from here that wait for the agent's activation go first.
    if (this.activator.pending(to)) return this.askAgain(subject, to, type, key, payload, headers, this.clock.now() + timeoutMs, timeoutMs, -1, sink);
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    return new Promise((resolve, reject) => {
      const call = new AgentAskCall(this, subject, to, type, key, payload, headers, timeoutMs, resolve, reject, sink);
      try {
        if (headers === undefined) this.requester.request(subject, payload, timeoutMs, call);
        else this.requester.requestWithHeaders(subject, payload, headers, timeoutMs, call);
      } catch (err) {
        reject(this.sendError(err));
      }
    });
  }

  /**
   * The ask found nobody listening (or waits behind an activation): activate
   * the agent, send it again, and so on until answered or past `deadline`.
   * The message is the same each time (the agent never saw the ones that came back), with its proof.
   *
   * @internal
   */
  async askAgain(
    subject: string,
    to: AgentId,
    type: string,
    key: string,
    payload: Uint8Array,
    headers: MsgHdrs | undefined,
    deadline: number,
    timeoutMs: number,
    attempt: number,
    sink?: ChunkSink,
  ): Promise<unknown> {
    try {
      for (; ; attempt++) {
        if (attempt >= 0) await this.activator.activate(to, type, key, deadline, attempt);
        else await this.activator.pending(to);
        const left = deadline - this.clock.now();
        if (left <= 0) throw new AskTimeoutError(to, timeoutMs);
        const answer = await this.askOnce(subject, to, payload, headers, left, timeoutMs, sink);
        if (answer !== NOBODY) return answer;
      }
    } catch (err) {
      throw err instanceof AskTimeoutError ? new AskTimeoutError(to, timeoutMs) : err;
    }
  }

  /** Send an encoded ask once; {@link NOBODY} when nobody listens on `subject`. */
  private askOnce(
    subject: string,
    to: AgentId,
    payload: Uint8Array,
    headers: MsgHdrs | undefined,
    leftMs: number,
    timeoutMs: number,
    sink: ChunkSink | undefined,
  ): Promise<unknown> {
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    return new Promise((resolve, reject) => {
      const call = new AskCall(to, timeoutMs, this.options.maxMessageBytes, resolve, reject, sink);
      call.noResponders = () => resolve(NOBODY);
      try {
        if (headers === undefined) this.requester.request(subject, payload, leftMs, call);
        else this.requester.requestWithHeaders(subject, payload, headers, leftMs, call);
      } catch (err) {
        reject(this.sendError(err));
      }
    });
  }

  /**
   * Store a tell in the durable mailbox of `type/key`; resolves once stored.
   * A tell sent again with the same `id` within the duplicate window is stored once.
   */
  async tellDurable(to: AgentId, type: string, key: string, msg: unknown, sender: string | null, id: string | undefined, signed = false): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    const subject = this.subjects.mailbox(type, key);
    const msgId = id ?? nextMessageId();
    const payload = encodeEnvelope(Kind.Tell, msgId, sender, injectTrace(subject), msg, this.options.maxMessageBytes);
    const proof = signed ? this.proofFields(subject, payload) : undefined;
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    // A caller's id is also the message's key: the agent remembers it once applied, so a retry is recognised
    // even after the stream forgot it (a server restart rebuilds its duplicate ids from what is still stored).
    await this.durable!.sender.store(to, subject, payload, msgId, id === undefined && proof === undefined ? undefined : { key: id, proof });
  }

  /**
   * Store an ask in the durable mailbox of `type/key` and wait for its reply
   * (on core NATS). With `key`, a second ask with the same key is answered
   * with the first one's outcome. The deadline runs from the call.
   */
  askDurable(
    to: AgentId,
    type: string,
    key: string,
    msg: unknown,
    timeoutMs: number,
    sender: string | null,
    idempotencyKey: string | undefined,
    signed = false,
    sink?: ChunkSink,
  ): Promise<unknown> {
    let payload: Uint8Array;
    let proof: { signer: string; signature: string } | undefined;
    const subject = this.subjects.mailbox(type, key);
    const msgId = nextMessageId();
    try {
      if (this.closedWith) throw this.closedWith;
      checkTimeout(timeoutMs);
      payload = encodeEnvelope(Kind.Ask, msgId, sender, injectTrace(subject), msg, this.options.maxMessageBytes, sink?.inactivityMs);
      if (signed) proof = this.proofFields(subject, payload);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    return new Promise((resolve, reject) => {
      const call = new AskCall(to, timeoutMs, this.options.maxMessageBytes, resolve, reject, sink);
      const reply = this.requester.expect(timeoutMs, call);
      this.durable!.sender.store(to, subject, payload, msgId, { reply, key: idempotencyKey, proof }).catch((err: unknown) => {
        this.requester.cancel(call);
        reject(err);
      });
    });
  }

  /**
   * Send a control request (`kind: system`) to a node or pool subject and wait
   * for the reply. `noResponders` makes the error for "nobody listens there".
   */
  control(subject: string, body: unknown, timeoutMs: number, sender: string | null, noResponders?: () => Error): Promise<unknown> {
    let payload: Uint8Array;
    try {
      if (this.closedWith) throw this.closedWith;
      payload = encodeEnvelope(Kind.System, nextMessageId(), sender, null, body, this.options.maxMessageBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    return new Promise((resolve, reject) => {
      const call = new AskCall(subject as AgentId, timeoutMs, this.options.maxMessageBytes, resolve, reject);
      if (noResponders) call.noResponders = () => reject(noResponders());
      try {
        this.requester.request(subject, payload, timeoutMs, call);
      } catch (err) {
        reject(this.sendError(err));
      }
    });
  }

  /**
   * Stop sending: queued tells go out, asks still waiting fail with `reason`
   * at once, and every later tell or ask fails with it.
   */
  close(reason: Error): void {
    this.flushTells();
    this.closedWith = reason;
    this.requester.close(reason);
  }

  /**
   * Answer an ask: a value, or an error. Never throws: a reply that cannot be
   * encoded (or is too large) becomes a small InvalidMessageError reply, and a
   * reply that cannot be sent at all (not an inbox subject, connection gone)
   * is dropped and counted in {@link droppedReplies}.
   */
  reply(replyTo: string, inReplyTo: string, sender: string | null, value: unknown, error: WireError | null): void {
    if (!isReplySubject(replyTo)) {
      this.droppedReplies++;
      return;
    }
    const max = this.options.maxMessageBytes;
    let payload: Uint8Array;
    try {
      payload = encodeReply(inReplyTo, sender, value, error, max);
    } catch (err) {
      try {
        payload = encodeReply(inReplyTo, sender, null, toWireError(err), max);
      } catch {
        this.droppedReplies++;
        return;
      }
    }
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    try {
      this.nc.publish(replyTo, payload);
    } catch {
      // The asker's deadline answers it if the connection is gone.
      this.droppedReplies++;
    }
  }

  /**
   * Send a chunk of the answer to an ask (`ctx.emit`). Throws
   * InvalidMessageError when the chunk cannot be encoded or is too large; a
   * chunk that cannot be published (connection gone) is dropped, as a reply would be.
   */
  chunk(replyTo: string, inReplyTo: string, sender: string | null, chunk: unknown): void {
    if (!isReplySubject(replyTo)) return;
    const payload = encodeChunk(inReplyTo, sender, chunk, this.options.maxMessageBytes);
    if (this.queuedSubjects.length > 0 || this.queuedBouncing.length > 0) this.flushTells();
    try {
      this.nc.publish(replyTo, payload);
    } catch {
      // The asker's inactivity deadline answers it if the connection is gone.
    }
  }

  /** The proof headers of `payload` sent to `subject`; undefined without credentials (it goes unsigned, and is refused). */
  private proof(subject: string, payload: Uint8Array): MsgHdrs | undefined {
    return this.options.signer?.headers(subject, payload);
  }

  /** The proof of `payload` stored in `subject` (a durable mailbox keeps it in the message's headers). */
  private proofFields(subject: string, payload: Uint8Array): { signer: string; signature: string } | undefined {
    const signer = this.options.signer;
    return signer === undefined ? undefined : { signer: signer.jwt, signature: signer.sign(subject, payload) };
  }

  private sendError(err: unknown): Error {
    if (this.nc.isClosed()) return new NotConnectedError(this.options.servers, "connection closed", { cause: err });
    return err instanceof TroupeError ? err : new InternalError(`publish failed: ${errorText(err)}`, { cause: err });
  }
}

/** What {@link Messenger.askOnce} answers when nobody listens. */
const NOBODY: unique symbol = Symbol("nobody listens");

/** Where the chunks of a streamed ask go, and how long the stream may be silent. */
export interface ChunkSink {
  readonly inactivityMs: number;
  /** A chunk arrived, `bytes` long on the wire. */
  chunk(chunk: Chunk, bytes: number): void;
  /** The send of the ask that waits now (an ask sent again after an activation is a new one), so a consumer that stops can stop it. */
  current?: PendingAsk;
}

class AskCall extends PendingAsk {
  constructor(
    protected readonly id: AgentId,
    protected readonly timeoutMs: number,
    private readonly maxBytes: number,
    protected readonly ok: (value: unknown) => void,
    protected readonly fail: (err: Error) => void,
    protected readonly sink?: ChunkSink,
  ) {
    super();
    // Each chunk gives it the whole timeout again, also when this send got only what was left of it.
    this.window = timeoutMs;
    if (sink) sink.current = this;
  }

  override chunk(msg: Msg): void {
    if (this.sink === undefined) return; // a plain ask: a keep-alive
    let body: unknown;
    try {
      const env = decodeEnvelope(msg.data, this.maxBytes);
      body = env.body;
      if (body === null || typeof body !== "object" || typeof (body as { type?: unknown }).type !== "string") {
        throw new InvalidMessageError("a chunk must be an object with a string type");
      }
    } catch {
      return; // a malformed chunk is not the answer: the stream goes on, and the reply or the deadline ends it
    }
    this.sink.chunk(body as Chunk, msg.data.length);
  }

  resolve(msg: Msg): void {
    try {
      const env = decodeEnvelope(msg.data, this.maxBytes);
      if (env.kind !== Kind.Reply) this.fail(new InvalidMessageError("the reply is not a reply envelope"));
      else if (env.error) this.fail(fromWireError(this.id, env.error));
      else this.ok(env.body);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  noResponders(): void {
    this.fail(new AgentNotFoundError(this.id));
  }

  timeout(): void {
    this.fail(new AskTimeoutError(this.id, this.timeoutMs));
  }

  abort(err: Error): void {
    this.fail(err);
  }
}

/**
 * An ask to an agent's core subject. When nobody listens there, the agent is
 * activated (or waited for) and the ask sent again within its deadline, which
 * the requester set when it was sent. Its fields replace a closure per ask.
 */
class AgentAskCall extends AskCall {
  constructor(
    private readonly messenger: Messenger,
    private readonly subject: string,
    id: AgentId,
    private readonly type: string,
    private readonly key: string,
    private readonly payload: Uint8Array,
    private readonly headers: MsgHdrs | undefined,
    timeoutMs: number,
    ok: (value: unknown) => void,
    fail: (err: Error) => void,
    sink?: ChunkSink,
  ) {
    super(id, timeoutMs, messenger.options.maxMessageBytes, ok, fail, sink);
  }

  override noResponders(): void {
    this.messenger
      .askAgain(this.subject, this.id, this.type, this.key, this.payload, this.headers, this.deadline, this.timeoutMs, 0, this.sink)
      .then(this.ok, this.fail);
  }
}

class Ref<M, R> implements AgentRef<M, R> {
  private readonly subject: string;

  constructor(
    private readonly messenger: Messenger,
    readonly id: AgentId,
    readonly type: string,
    readonly key: string,
    private readonly sender: string | null,
  ) {
    this.subject = messenger.subjects.agent(type, key);
  }

  tell(msg: M, opts?: TellOptions): Promise<void> {
    return this.tellTo(this.messenger.routeOf(this.type), msg, opts);
  }

  private tellTo(route: TypeRoute | undefined, msg: M, opts: TellOptions | undefined): Promise<void> {
    try {
      const id = opts?.id === undefined ? undefined : checkMessageId(opts.id);
      if (route === undefined) {
        // The first send to a type: learn its route, then send (sends queued behind it keep their order).
        // What the lookup found is what this send takes (a namespace without a type directory remembers nothing).
        return this.messenger.lookupRoute(this.type).then((found) => this.tellTo(found, msg, opts));
      }
      if (route.mailbox === MailboxKind.Durable) return this.messenger.tellDurable(this.id, this.type, this.key, msg, this.sender, id, route.verified);
      if (route.onDemand) this.messenger.tellOnDemand(this.id, this.type, this.key, this.subject, msg, this.sender, id, route.verified);
      else this.messenger.tell(this.subject, msg, this.sender, id, route.verified);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  ask<T = R>(msg: M, opts?: AskOptions): Promise<T> {
    return this.askTo<T>(this.messenger.routeOf(this.type), msg, opts);
  }

  private askTo<T>(route: TypeRoute | undefined, msg: M, opts: AskOptions | undefined): Promise<T> {
    if (route === undefined) return this.messenger.lookupRoute(this.type).then((found) => this.askTo<T>(found, msg, opts));
    const timeoutMs = opts?.timeoutMs ?? this.messenger.options.askTimeoutMs;
    if (route.mailbox === MailboxKind.Durable) {
      let key: string | undefined;
      try {
        key = opts?.id === undefined ? undefined : checkMessageId(opts.id);
      } catch (err) {
        return Promise.reject(err);
      }
      return this.messenger.askDurable(this.id, this.type, this.key, msg, timeoutMs, this.sender, key, route.verified) as Promise<T>;
    }
    let id: string | undefined;
    try {
      id = opts?.id === undefined ? undefined : checkMessageId(opts.id);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.messenger.ask(this.subject, this.id, this.type, this.key, msg, timeoutMs, this.sender, route.verified, id) as Promise<T>;
  }

  stream<T = R>(msg: M, opts?: StreamOptions): ChunkStream<T> {
    const inactivityMs = opts?.inactivityMs ?? this.messenger.options.askTimeoutMs;
    let call: Promise<unknown>;
    const sink: ChunkSink = { inactivityMs, chunk: (chunk, bytes) => stream.push(chunk as Chunk<T>, bytes) };
    // The consumer stopped: the ask waits no more (its promise is left unsettled; the stream is done with it).
    const stream = new ChunkStream<T>(this.id, () => sink.current && this.messenger.requester.cancel(sink.current));
    try {
      if (!Number.isInteger(inactivityMs) || inactivityMs < 1 || inactivityMs > MAX_STREAM_INACTIVITY_MS) {
        throw new InvalidArgumentError("inactivityMs", `a stream's inactivity timeout must be a whole number of milliseconds, 1 to ${MAX_STREAM_INACTIVITY_MS}, got ${inactivityMs}`);
      }
      const id = opts?.id === undefined ? undefined : checkMessageId(opts.id);
      call = this.streamTo(this.messenger.routeOf(this.type), msg, inactivityMs, id, sink);
    } catch (err) {
      stream.fail(err as Error);
      return stream;
    }
    call.then(
      (value) => stream.end(value as T),
      (err: Error) => stream.fail(err),
    );
    return stream;
  }

  approve(approvalId: string, opts?: AskOptions): Promise<ApprovalAnswer> {
    return this.ask(approvalDecision(approvalId, "approve") as M, opts) as Promise<ApprovalAnswer>;
  }

  deny(approvalId: string, reason?: string, opts?: AskOptions): Promise<ApprovalAnswer> {
    return this.ask(approvalDecision(approvalId, "deny", reason) as M, opts) as Promise<ApprovalAnswer>;
  }

  private streamTo(route: TypeRoute | undefined, msg: M, inactivityMs: number, id: string | undefined, sink: ChunkSink): Promise<unknown> {
    if (route === undefined) return this.messenger.lookupRoute(this.type).then((found) => this.streamTo(found, msg, inactivityMs, id, sink));
    if (route.mailbox === MailboxKind.Durable) {
      return this.messenger.askDurable(this.id, this.type, this.key, msg, inactivityMs, this.sender, id, route.verified, sink);
    }
    return this.messenger.ask(this.subject, this.id, this.type, this.key, msg, inactivityMs, this.sender, route.verified, id, sink);
  }

  toJSON(): string {
    return this.id;
  }
}

function checkTimeout(timeoutMs: number): void {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidArgumentError("timeoutMs", `ask timeout must be a positive number of milliseconds, got ${timeoutMs}`);
  }
}

/** A caller's message id or idempotency key: 1-128 printable characters (it travels in the envelope and in a header). */
function checkMessageId(id: unknown): string {
  if (!isMessageKey(id)) {
    throw new InvalidArgumentError("id", `a message id must be 1-${EnvelopeLimits.id} printable ASCII characters without spaces, got ${JSON.stringify(id)?.slice(0, 60)}`);
  }
  return id;
}
