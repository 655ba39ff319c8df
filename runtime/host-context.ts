// The `ctx` an agent's receive and hooks get: its address, its mutable state,
// refs to itself and others, shared memory, stop(), and a signal that fires
// when the activation ends. One per activation: once it has ended (killed,
// timed out, fenced, stopped, failed), sends through its refs are refused, so
// a receive that outlives its activation cannot act in the agent's name.
// The signal's AbortController is made only when the agent's code asks for
// the signal: an idle agent holds none.
//
// Least privilege: a type's `can` grant is asked once per ref made (whether it
// may message that agent; itself it always may) and on each memory operation
// (ctx.memory is then a view that checks keys). Memory writes through ctx are
// recorded as the agent's. A type without `can` pays one branch per send.

import { GrantOperation, type AgentGrant } from "./agent-grant.js";
import type { AgentContext } from "./define-agent.js";
import { isEmittable, KEEP_ALIVE, type Chunk } from "./chunk.js";
import type { Clock } from "./clock.js";
import { InvalidArgumentError, type WireError } from "./errors.js";
import type { EventPublisher } from "./events.js";
import { approvalDecision, type AgentRef, type ApprovalAnswer, type AskOptions, type StreamOptions, type TellOptions } from "./agent-ref.js";
import { ChunkStream } from "./chunk-stream.js";
import { grantedMemory } from "./granted-memory.js";
import { memoryAs, type Memory } from "./memory/index.js";
import type { Messenger } from "./messenger.js";
import type { McpHub } from "./model/mcp-hub.js";
import type { PermissionDenials } from "./permission-denials.js";
import type { Pool } from "./pool.js";
import type { PoolBoard } from "./pool-board.js";
import type { PoolOptions } from "./pool-options.js";
import { PlainState, StateTracker, type StateHolder } from "./state-tracker.js";
import type { AgentId } from "./subjects.js";
import type { TimerInfo, TimerWhen } from "./timer-table.js";
import { publishTarget, type Topic } from "./define-topic.js";
import type { TopicPublisher } from "./topic-publisher.js";

/** The activation a context belongs to (its agent host). */
export interface ContextOwner {
  readonly id: AgentId;
  readonly key: string;
  readonly args: unknown;
  readonly def: { readonly type: string; readonly persist: boolean; readonly grant?: AgentGrant };
  /** Exit normally once the current message is handled. */
  requestStop(): void;
  /** Exit as failed once the current message is handled (its supervisor counts it, as a crash). */
  requestFailure(reason: string): void;
  /** Commit the state now, if it changed; resolves once it is stored (rejects with why the activation ended, if it did). */
  commit(): Promise<void>;
  /** Answer an ask later than its receive returned (after the commit of what was handled before). */
  answer(reply: string, id: string, value: unknown, error: WireError | null): void;
  /** Say whether a tool call waits for a person (the lifecycle's `awaitingApproval`). */
  awaitingApproval(waiting: boolean): void;
  /** Dead-letter the message being handled with `reason` (a behaviour that answers itself refused it). */
  deadLetter(reason: string): void;
  /** Durable timers (runtime/activation-timers.ts). */
  schedule(name: string, when: TimerWhen, msg: unknown): void;
  cancel(name: string): boolean;
  listTimers(): TimerInfo[];
  /** ctx.subscribe (`on`) and ctx.unsubscribe. */
  changeTopic(topic: Topic, on: boolean): Promise<void>;
}

/** Where the chunks and the answer of the ask being handled go. */
export interface AnswerChannel {
  readonly reply: string;
  readonly id: string;
  /** The asker takes chunks (a stream), with this inactivity timeout; undefined or null: a plain ask, which takes keep-alives only. */
  readonly stream: number | null | undefined;
}

/** Keep-alives to a plain ask are sent at most this often, whatever the agent emits. */
export const KEEP_ALIVE_GAP_MS = 250;

/** What a context needs from its node. */
export interface ContextEnv {
  readonly nodeId: string;
  readonly messenger: Messenger;
  readonly memory: Memory;
  /** Counts and reports what agents' `can` declarations refuse. */
  readonly denials: PermissionDenials;
  readonly clock: Clock;
  readonly events: EventPublisher;
  /** The largest message, and agent state, the node sends or stores (bytes). */
  readonly maxMessageBytes: number;
  /** The node's pools (ctx.pool). */
  readonly pools?: PoolBoard;
  /** Publishes on topics (absent: ctx.publish is refused). */
  readonly topicPublisher?: TopicPublisher;
  /** The node's MCP connections, for model agents' mcpTools (absent: a request that needs them fails with McpUnavailableError). */
  readonly mcp?: McpHub;
}

/** The `ctx` handed to receive: mutable state, refs, memory, stop, and the activation's signal. */
export class HostContext implements AgentContext<unknown> {
  /**
   * Holds `state`. For a persisted agent it notes writes, so a message that
   * changed nothing costs nothing to persist; otherwise it holds the state as
   * it is (no proxy on the message path of an agent that persists nothing).
   */
  readonly tracker: StateHolder;
  /** Where `state` comes from when the behaviour owns it (an XState agent's persisted snapshot). */
  private stateSource: (() => unknown) | undefined;
  sender: string | null = null;
  /** The timer whose message is being handled (set by the activation only, never from the wire). */
  timer: string | undefined = undefined;
  /** The ask being handled (its reply subject and id, whether it streams); undefined for a tell. */
  answering: AnswerChannel | undefined = undefined;
  /** The id of the message being handled: a durable message's idempotency key when it has one, else its envelope id. @internal */
  messageId = "";
  /** The topic of the message being handled, if it came on one. */
  topic: string | undefined = undefined;
  /** When the last keep-alive went to a plain ask, on the clock. */
  private lastKeepAlive = 0;
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  readonly args: unknown;
  readonly node: string;
  /** What the node gives the activation (its clock, its event publisher, ...), for the runtime's own behaviours. @internal */
  readonly context: ContextEnv;
  /** Why the activation ended, once it has: the error, or what makes it when first asked (most endings are never asked about). */
  private reason: Error | (() => Error) | undefined;
  /** Made on the first read of {@link signal}. */
  private controller: AbortController | undefined;
  private selfRef: AgentRef | undefined;
  /** The agent's view of the node's memory, made on first use. */
  private memoryView: Memory | undefined;

  constructor(
    private readonly host: ContextOwner,
    private readonly env: ContextEnv,
  ) {
    this.context = env;
    this.id = host.id;
    this.type = host.def.type;
    this.key = host.key;
    this.args = host.args;
    this.node = env.nodeId;
    this.tracker = host.def.persist ? new StateTracker() : new PlainState();
  }

  /** The agent's state; writes through it (and reassignments) are noted by {@link tracker}. */
  get state(): unknown {
    return this.stateSource ? this.stateSource() : this.tracker.state;
  }

  set state(value: unknown) {
    this.tracker.state = value;
  }

  /** Let the behaviour supply `state` (read-only to the agent's code). */
  sourceState(source: () => unknown): void {
    this.stateSource = source;
  }

  /** Aborted when this activation ends; its `reason` says why (AgentStoppedError or AgentFencedError). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const reason = this.endedWith;
      if (reason) this.controller.abort(reason);
    }
    return this.controller.signal;
  }

  /** Why this activation ended (what {@link signal} was aborted with), or undefined while it lives. */
  get endedWith(): Error | undefined {
    if (typeof this.reason === "function") this.reason = this.reason();
    return this.reason;
  }

  get self(): AgentRef {
    return (this.selfRef ??= this.ref(this.type, this.key));
  }

  /** Shared memory, its writes recorded as this agent's, limited to the type's `can.memory` grant if it has one. */
  get memory(): Memory {
    return (this.memoryView ??= this.makeMemory());
  }

  ref<M = unknown, R = unknown>(type: string, key: string): AgentRef<M, R> {
    const inner = this.env.messenger.ref<M, R>(type, key, this.id);
    const grant = this.host.def.grant;
    const denied = grant !== undefined && !(type === this.type && key === this.key) && !grant.mayMessage(type, inner.id);
    return new ActivationRef(inner, this, denied);
  }

  pool<M = unknown, R = unknown>(type: string, options?: PoolOptions<M>): Pool<M, R> {
    if (!this.env.pools) throw new InvalidArgumentError("pool", "this context has no pools");
    return this.env.pools.pool<M, R>(type, options, (t, k) => this.ref(t, k));
  }

  /** Record a refusal of `operation` on `target` (counted, an event) and return the error to throw. */
  refuse(operation: GrantOperation, target: string): Error {
    return this.env.denials.refuse(this.type, this.key, this.id, operation, target);
  }

  private makeMemory(): Memory {
    const own = memoryAs(this.env.memory, this.id);
    const grant = this.host.def.grant;
    return grant === undefined ? own : grantedMemory(own, grant, (operation, target) => this.refuse(operation, target));
  }

  stop(): void {
    if (!this.reason) this.host.requestStop();
  }

  /** Publish on a topic as this agent; refused once the activation ended. */
  async publish(topic: Topic, msg: unknown): Promise<void> {
    const ended = this.endedWith;
    if (ended) throw ended;
    const publisher = this.env.topicPublisher;
    if (!publisher) throw new InvalidArgumentError("topic", "this node publishes no topics");
    const grant = this.host.def.grant;
    if (grant !== undefined) {
      const { name } = publishTarget(topic);
      if (!grant.mayPublish(name)) throw this.refuse(GrantOperation.Publish, name);
    }
    await publisher.publish(topic, msg, this.id);
  }

  /** Take a topic or pattern from now on, kept across restarts and failover. */
  async subscribe(topic: Topic): Promise<void> {
    const ended = this.endedWith;
    if (ended) throw ended;
    await this.host.changeTopic(topic, true);
  }

  /** No longer take a topic or pattern. */
  async unsubscribe(topic: Topic): Promise<void> {
    const ended = this.endedWith;
    if (ended) throw ended;
    await this.host.changeTopic(topic, false);
  }

  /**
   * Send a chunk of the answer to the ask being handled: to a stream
   * (`ref.stream`) it arrives as it is; to a plain ask it is a keep-alive
   * (its deadline starts again; at most one each KEEP_ALIVE_GAP_MS); for a
   * tell it goes nowhere. Throws InvalidArgumentError for what is not a chunk
   * (an object with a string `type`, not `done`), InvalidMessageError when it
   * is too large, and why the activation ended once it has.
   */
  emit(chunk: Chunk): void {
    this.emitTo(this.answering, chunk);
  }

  schedule(name: string, when: TimerWhen, msg: unknown): void {
    const ended = this.endedWith;
    if (ended) throw ended;
    this.host.schedule(name, when, msg);
  }

  cancel(name: string): boolean {
    const ended = this.endedWith;
    if (ended) throw ended;
    return this.host.cancel(name);
  }

  timers(): TimerInfo[] {
    return this.host.listTimers();
  }

  /** Commit the state now if it changed; rejects with why the activation ended, if it did. @internal */
  commit(): Promise<void> {
    return this.host.commit();
  }

  /** Answer an ask on `channel` after its receive returned (the behaviour returned ANSWERED_LATER). @internal */
  answerLater(channel: AnswerChannel, value: unknown, error: WireError | null): void {
    this.host.answer(channel.reply, channel.id, value, error);
  }

  /** Exit as failed once the current message is handled: the supervisor counts it like a crash. @internal */
  failAfter(reason: string): void {
    if (!this.reason) this.host.requestFailure(reason);
  }

  /** Dead-letter the message being handled (a tell the behaviour refuses: nobody to answer). @internal */
  deadLetter(reason: string): void {
    this.host.deadLetter(reason);
  }

  /** Enter or leave the lifecycle's `awaitingApproval`. @internal */
  awaitingApproval(waiting: boolean): void {
    if (!this.reason) this.host.awaitingApproval(waiting);
  }

  /** {@link emit} to a channel kept from an earlier message (a model agent's request that outlives one receive). @internal */
  emitTo(channel: AnswerChannel | undefined, chunk: Chunk): void {
    const ended = this.endedWith;
    if (ended) throw ended;
    if (!isEmittable(chunk)) throw new InvalidArgumentError("chunk", 'a chunk is an object with a string "type" other than "done" (the reply is the done chunk)');
    if (channel === undefined) return;
    if (channel.stream != null) {
      this.env.messenger.chunk(channel.reply, channel.id, this.id, chunk);
      return;
    }
    const now = this.env.clock.now();
    if (now - this.lastKeepAlive < KEEP_ALIVE_GAP_MS) return;
    this.lastKeepAlive = now;
    this.env.messenger.chunk(channel.reply, channel.id, this.id, KEEP_ALIVE);
  }

  /**
   * End the activation's signal (once; later calls keep the first reason).
   * `reason` may be a function that makes the error, called only if someone
   * asks why (an Error's stack costs more than the rest of a stop).
   */
  end(reason: Error | (() => Error)): void {
    if (this.reason) return;
    this.reason = reason;
    if (this.controller) this.controller.abort(this.endedWith);
  }
}

/** A ref that sends only while its activation lives, and only where its type's grant allows. */
class ActivationRef<M, R> implements AgentRef<M, R> {
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;

  constructor(
    private readonly inner: AgentRef<M, R>,
    private readonly ctx: HostContext,
    /** The type's `can.message` does not cover this agent: every send is refused. */
    private readonly denied: boolean,
  ) {
    this.id = inner.id;
    this.type = inner.type;
    this.key = inner.key;
  }

  tell(msg: M, opts?: TellOptions): Promise<void> {
    const ended = this.ctx.endedWith;
    if (ended) return Promise.reject(ended);
    if (this.denied) return Promise.reject(this.ctx.refuse(GrantOperation.Message, this.id));
    return this.inner.tell(msg, opts);
  }

  ask<T = R>(msg: M, opts?: AskOptions): Promise<T> {
    const ended = this.ctx.endedWith;
    if (ended) return Promise.reject(ended);
    if (this.denied) return Promise.reject(this.ctx.refuse(GrantOperation.Message, this.id));
    return this.inner.ask<T>(msg, opts);
  }

  stream<T = R>(msg: M, opts?: StreamOptions): ChunkStream<T> {
    const refused = this.ctx.endedWith ?? (this.denied ? this.ctx.refuse(GrantOperation.Message, this.id) : undefined);
    if (refused === undefined) return this.inner.stream<T>(msg, opts);
    const stream = new ChunkStream<T>(this.id, () => {});
    stream.fail(refused);
    return stream;
  }

  approve(approvalId: string, opts?: AskOptions): Promise<ApprovalAnswer> {
    return this.ask(approvalDecision(approvalId, "approve") as M, opts) as Promise<ApprovalAnswer>;
  }

  deny(approvalId: string, reason?: string, opts?: AskOptions): Promise<ApprovalAnswer> {
    return this.ask(approvalDecision(approvalId, "deny", reason) as M, opts) as Promise<ApprovalAnswer>;
  }

  toJSON(): string {
    return this.id;
  }
}
