// One activation of an agent on this node: its inbox subscription, its
// mailbox drained one message at a time, its lifecycle machine, and its
// persisted state. Messages are handled in arrival order; a synchronous
// `receive` is handled inline, without a promise per message.
//
// Persisted state uses group commit: after each message the behaviour says,
// without encoding anything, whether the state may have changed (writes
// through `ctx.state` are noted; an XState snapshot keeps its identity while
// unchanged); replies wait while a change is uncommitted. One commit is in
// flight at a time and handling goes on meanwhile; each commit encodes the
// state once, writes it with compare-and-set (unless it equals what is
// stored), then releases the replies that reveal those changes.

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { AgentType } from "./define-agent.js";
import { behaviorOf, type Behavior } from "./behavior.js";
import { LifecycleState, lifecycleState, startLifecycle, type LifecycleActor } from "./lifecycle.js";
import type { Clock, TimerHandle } from "./clock.js";
import { decodeValue, encodeValue } from "./codec.js";
import type { DeadLetters } from "./dead-letters.js";
import { decodeEnvelope, Kind } from "./envelope.js";
import {
  AgentFencedError,
  AgentKilledError,
  AgentStoppedError,
  errorText,
  InvalidMessageError,
  MailboxFullError,
  ReceiveTimeoutError,
  toWireError,
} from "./errors.js";
import { EventKind, type EventPublisher } from "./events.js";
import { Mailbox, type MailboxBudget, type MailboxRefusal } from "./mailbox.js";
import { nextTurn, type TurnBudget } from "./turn-budget.js";
import type { Messenger } from "./messenger.js";
import type { Memory } from "./memory/index.js";
import { StateCommitter } from "./state-committer.js";
import type { StateStore } from "./state-store.js";
import { agentFailure } from "./wire-error.js";
import { formatAgentId, isReplySubject, replySubjectProblem, type AgentId } from "./subjects.js";
import { endConsumerSpan, startConsumerSpan, withSpan } from "./telemetry.js";
import { HostContext } from "./host-context.js";
import { DEAD_LETTER_RAW_BYTES, Inbound, type Item } from "./inbound.js";
import type { Child, ChildEnd, ChildExit, ChildInfo, Parent } from "./child.js";

export type { ChildExit, Parent };

/** What a host needs from its node. */
export interface HostEnv {
  nodeId: string;
  nc: NatsConnection;
  clock: Clock;
  messenger: Messenger;
  events: EventPublisher;
  deadLetters: DeadLetters;
  stateStore: StateStore;
  memory: Memory;
  maxMessageBytes: number;
  /** The bytes all mailboxes of the node may hold together. */
  mailboxBudget: MailboxBudget;
  /** The node's message handling per turn of the event loop, shared by all its agents. */
  turns: TurnBudget;
}

/** A row of `node.list()` / `agentctl ps`. */
export type AgentInfo = ChildInfo;

/**
 * A message waiting in the mailbox: its bytes, decoded only when its turn
 * comes, so the mailbox's byte bounds count what it really holds (a decoded
 * body can be many times its encoded size).
 */
interface Queued {
  data: Uint8Array;
  reply: string | undefined;
}

/** Runs one agent on this node. */
export class AgentHost implements Child {
  readonly id: AgentId;
  readonly type: string;
  readonly subject: string;
  /** Restarts so far, as its supervisor counts them. */
  private restarts = 0;
  handled = 0;
  failures = 0;
  /** Failures no caller could be told about; each was published as an `agent_error` event. */
  errors = 0;
  startedAt: number;

  /** Decodes and checks what arrives; counts and reports what it refuses. */
  private readonly inbound: Inbound;
  private readonly lifecycle: LifecycleActor;
  private readonly mailbox: Mailbox<Queued>;
  private readonly persist: boolean;
  private sub: Subscription | undefined;
  private behavior: Behavior | undefined;
  private ctx!: HostContext;
  /** Bumped by each activation and by kill: work of an older epoch is ignored. */
  private epoch = 0;
  /** Activations started so far: the current one's number, carried by its exit. */
  private activations = 0;
  private active = false;
  private draining: Promise<void> | undefined;
  private inflight: Item | undefined;
  private stopRequested = false;
  private ending: Promise<void> | undefined;
  /** The stop in progress (or done): stopping is single-flight. */
  private stopping: Promise<void> | undefined;
  /** The activation being started, if any: stop and kill wait for it, so onStop never runs beside onStart. */
  private starting: Promise<void> | undefined;
  /** Group commit of the persisted state, and the answers that wait for it. */
  private readonly committer: StateCommitter;
  /** Stop waiting for the async receive in flight (its activation was killed or abandoned at shutdown). */
  private abortInflight: (() => void) | undefined;

  constructor(
    readonly def: AgentType,
    readonly key: string,
    readonly args: unknown,
    public parent: Parent,
    private readonly env: HostEnv,
  ) {
    this.id = formatAgentId(def.type, key);
    this.type = def.type;
    this.subject = env.messenger.subjects.agent(def.type, key);
    this.mailbox = new Mailbox(def.mailboxCapacity, def.mailboxBytes, env.mailboxBudget);
    this.persist = def.persist;
    this.startedAt = env.clock.now();
    this.inbound = new Inbound(this.id, key, def, env);
    this.committer = new StateCommitter({
      id: this.id,
      type: def.type,
      key,
      store: env.stateStore,
      encodeState: () => encodeValue(this.behavior!.persistable(this.ctx)),
      answer: (reply, id, value, error) => env.messenger.reply(reply, id, this.id, value, error),
      isActive: () => this.active,
      fenced: (revision) => {
        env.events.publish(EventKind.Fenced, def.type, key, { revision });
        void this.exit({ kind: "fenced" }, "fenced");
      },
      failed: (reason) => void this.exit({ kind: "failure", reason, messageType: null }, "state write failed"),
      internalError: (err) => {
        this.reportError("commit", err);
        this.failNow(`internal error: ${errorText(err)}`);
      },
    });
    this.lifecycle = startLifecycle(
      (from, to, reason) => env.events.publish(EventKind.Lifecycle, def.type, key, { from, to, reason }),
      (err) => this.reportError("lifecycle", err),
    );
  }

  /** The lifecycle state. */
  get state(): LifecycleState {
    return lifecycleState(this.lifecycle);
  }

  /** The agent's current in-memory state (for inspection). */
  get currentState(): unknown {
    return this.ctx?.state;
  }

  get activation(): number {
    return this.activations;
  }

  recordRestarts(count: number): void {
    this.restarts = count;
  }

  info(): AgentInfo {
    return {
      id: this.id,
      type: this.def.type,
      key: this.key,
      node: this.env.nodeId,
      state: this.state,
      supervisor: this.parent.id,
      startedAt: this.startedAt,
      uptimeMs: Math.max(0, this.env.clock.now() - this.startedAt),
      handled: this.handled,
      failures: this.failures,
      restarts: this.restarts,
      mailbox: this.mailbox.size,
      mailboxBytes: this.mailbox.bytes,
      rejected: this.inbound.rejected,
      asksWithoutReply: this.inbound.asksWithoutReply,
      errors: this.errors,
    };
  }

  /**
   * Start (or, after `prepareRestart`, start again): subscribe on first start,
   * load persisted state, run `onStart`, then drain. A failing start is
   * reported to the parent as a failure; the returned promise rejects with it.
   * A start that was superseded (stopped, restarted or fenced while `onStart`
   * ran) rejects with AgentStoppedError, so nobody takes it for running.
   */
  async start(options: { report?: boolean } = {}): Promise<void> {
    if (this.state === LifecycleState.Restarting) this.lifecycle.send({ type: "START" });
    if (this.state === LifecycleState.Running) return;
    if (this.state !== LifecycleState.Starting) throw new AgentStoppedError(this.id, `is ${this.state}, so it was not started`);
    const starting = this.activate(options);
    this.starting = starting;
    try {
      await starting;
    } finally {
      if (this.starting === starting) this.starting = undefined;
    }
  }

  private async activate(options: { report?: boolean }): Promise<void> {
    const epoch = ++this.epoch;
    this.activations++;
    this.startedAt = this.env.clock.now();
    this.stopRequested = false;
    this.ctx = new HostContext(this, this.env);
    const behavior = behaviorOf(this.def);
    const superseded = (): AgentStoppedError => new AgentStoppedError(this.id, "was stopped or restarted while starting");
    try {
      if (!this.sub) {
        const sub = this.env.nc.subscribe(this.subject, {
          callback: (err, msg) => (err ? this.subscriptionFailed(sub, err) : this.onMessage(msg)),
        });
        this.sub = sub;
        await this.env.nc.flush();
      }
      let persisted: { found: boolean; value?: unknown } = { found: false };
      this.committer.reset(0, undefined);
      if (this.persist) {
        const stored = await this.env.stateStore.load(this.def.type, this.key);
        if (stored.bytes) persisted = { found: true, value: decodeValue(stored.bytes) };
        behavior.start(this.ctx, persisted);
        // What is stored (or, for a new agent, its initial state) is the baseline: only a change is written.
        this.committer.reset(stored.revision, stored.bytes ?? encodeValue(behavior.persistable(this.ctx)));
      } else {
        behavior.start(this.ctx, persisted);
      }
      this.behavior = behavior;
      if (this.def.onStart) await this.def.onStart(this.ctx);
      if (epoch !== this.epoch) throw superseded();
      // Killed or fenced while onStart ran: never running; the kill or fence waiting for this start ends it.
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      if (this.persist && behavior.takeChange(this.ctx)) this.committer.changed();
    } catch (err) {
      if (epoch !== this.epoch || this.ctx.signal.aborted) {
        // Whoever superseded this start ends the activation; it must not look started.
        throw this.ctx.signal.aborted ? this.ctx.signal.reason : err instanceof AgentStoppedError ? err : superseded();
      }
      const reason = `start failed: ${errorText(err)}`;
      this.failures++;
      this.ctx.end(new AgentStoppedError(this.id, "failed to start"));
      this.lifecycle.send({ type: "FAIL", reason });
      behavior.stop();
      this.behavior = undefined;
      if (options.report !== false) this.parent.childExited(this, { kind: "failure", reason, messageType: null, activation: this.activations });
      throw err;
    }
    if (this.state !== LifecycleState.Starting) {
      // Stopped while onStart ran: the stop (waiting for this start) runs onStop.
      throw new AgentStoppedError(this.id, "was stopped while starting");
    }
    this.lifecycle.send({ type: "STARTED" });
    this.active = true;
    this.committer.flush();
    this.kick();
  }

  /** The server closed our subscription (a permissions violation, say): fail, so a restart subscribes again. */
  private subscriptionFailed(sub: Subscription, err: Error): void {
    this.reportError("subscription", err);
    if (this.sub === sub) this.sub = undefined;
    this.failNow(`subscription failed: ${errorText(err)}`);
  }

  /**
   * Something failed that no caller can be told about (the subscription, the
   * lifecycle actor, onStop, the host itself): count it and publish it as an
   * `agent_error` event, so it is seen, never swallowed.
   */
  private reportError(where: string, err: unknown): void {
    this.errors++;
    this.env.events.publish(EventKind.AgentError, this.def.type, this.key, { where, reason: errorText(err) });
  }

  // ---- receiving ---------------------------------------------------------

  /** The subscription's callback: nothing from the wire throws out of it. */
  private onMessage(msg: Msg): void {
    try {
      this.accept(msg);
    } catch (err) {
      // A bug in the host, not a bad message (those are rejected in accept): fail this agent, keep the node.
      this.reportError("receive", err);
      this.failNow(`internal error: ${errorText(err)}`);
    }
  }

  /**
   * Take a message from the wire: handle it now when the agent is idle (and
   * the node's turn budget allows), else queue its bytes in the mailbox.
   */
  private accept(msg: Msg): void {
    const reply = msg.reply || undefined;
    if (reply !== undefined && !isReplySubject(reply)) {
      this.inbound.reject(msg.data, undefined, new InvalidMessageError(replySubjectProblem(reply)));
      return;
    }
    if (this.active && !this.draining && this.mailbox.size === 0 && this.env.turns.take()) {
      // Idle agent, empty mailbox: handle it right here. Only a receive that
      // returns a promise makes the rest wait in the mailbox.
      const item = this.inbound.decode(msg.data, reply);
      if (item === undefined) return;
      const pending = this.process(item);
      if (pending !== undefined) this.track(pending.then(() => this.drain()));
      else if (this.stopRequested && this.active) void this.exit({ kind: "normal" }, "stopped itself");
      return;
    }
    // The bytes may be a view of a larger read buffer: keep a copy of exactly them.
    const refused = this.mailbox.offer({ data: msg.data.slice(), reply }, msg.data.length);
    if (refused) {
      const full = new MailboxFullError(this.id, this.refusal(refused), refused);
      this.inbound.reject(msg.data, reply, full);
      return;
    }
    if (this.active && !this.draining) this.kick();
  }

  /** Which bound a full mailbox hit, in words. */
  private refusal(bound: MailboxRefusal): string {
    switch (bound) {
      case "count":
        return `${this.mailbox.size} messages waiting, its capacity`;
      case "bytes":
        return `${this.mailbox.bytes} bytes waiting, its limit is ${this.mailbox.maxBytes}`;
      case "node":
        return `the node's mailboxes hold ${this.env.mailboxBudget.used} bytes, its limit is ${this.env.mailboxBudget.limit}`;
    }
  }

  // ---- the drain loop ----------------------------------------------------

  private kick(): void {
    if (this.draining || !this.active) return;
    this.track(this.drain());
  }

  /** Mark the agent busy until `work` settles, then drain what arrived meanwhile. */
  private track(work: Promise<void>): void {
    this.draining = work
      // A bug inside the host must fail this agent, not crash the process with an unhandled rejection.
      .catch((err: unknown) => this.failNow(`internal error: ${errorText(err)}`))
      .finally(() => {
        this.draining = undefined;
        if (this.active && this.mailbox.size > 0) this.kick();
      });
  }

  /**
   * Handle what waits, one message at a time. The node's {@link TurnBudget}
   * decides when to yield to the event loop, so a backlog never holds up
   * heartbeats, timers or other agents; and while a commit is in flight, at
   * most MAX_ANSWERS_PER_COMMIT (1024) answered asks wait for it.
   */
  private async drain(): Promise<void> {
    while (this.active) {
      if (this.stopRequested) {
        void this.exit({ kind: "normal" }, "stopped itself");
        return;
      }
      if (this.mailbox.size === 0) return;
      if (this.committer.mustWait) {
        await this.committer.backpressure();
        continue;
      }
      if (!this.env.turns.take()) {
        await nextTurn();
        continue;
      }
      const queued = this.mailbox.shift()!;
      const item = this.inbound.decode(queued.data, queued.reply);
      if (item === undefined) continue;
      const pending = this.process(item);
      if (pending !== undefined) await pending;
    }
  }

  private process(item: Item): Promise<void> | undefined {
    const ctx = this.ctx;
    ctx.sender = item.sender;
    this.inflight = item;
    const span = startConsumerSpan(this.id, this.subject, item.trace);
    let result: unknown;
    try {
      result = span ? withSpan(span, () => this.behavior!.handle(item.body, ctx)) : this.behavior!.handle(item.body, ctx);
    } catch (err) {
      endConsumerSpan(span, err);
      this.onFailure(item, err);
      return undefined;
    }
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      return this.settle(item, result as PromiseLike<unknown>, this.epoch, span);
    }
    endConsumerSpan(span);
    this.onSuccess(item, result);
    return undefined;
  }

  private async settle(item: Item, pending: PromiseLike<unknown>, epoch: number, span: ReturnType<typeof startConsumerSpan>): Promise<void> {
    let value: unknown;
    let timer: TimerHandle | undefined;
    let abort: (() => void) | undefined;
    try {
      const limit = this.def.receiveTimeoutMs;
      value = await new Promise((resolve, reject) => {
        if (limit) timer = this.env.clock.setTimeout(() => reject(new ReceiveTimeoutError(this.id, limit)), limit);
        // A hung receive must not hold the mailbox of the next activation.
        this.abortInflight = abort = () => reject(new AgentKilledError(this.id, "activation ended"));
        pending.then(resolve, reject);
      });
    } catch (err) {
      endConsumerSpan(span, err);
      if (epoch === this.epoch) this.onFailure(item, err);
      return;
    } finally {
      if (timer) this.env.clock.clearTimeout(timer);
      if (this.abortInflight === abort) this.abortInflight = undefined;
    }
    endConsumerSpan(span);
    if (epoch === this.epoch) this.onSuccess(item, value);
  }

  private onSuccess(item: Item, value: unknown): void {
    this.inflight = undefined;
    this.handled++;
    if (!this.persist) {
      if (item.reply) this.env.messenger.reply(item.reply, item.id, this.id, value, null);
      return;
    }
    // O(1) whatever the state's size: the state is encoded once, by the commit that writes it.
    if (this.behavior!.takeChange(this.ctx)) this.committer.changed();
    if (item.reply) this.committer.answer(item.reply, item.id, value);
    else this.committer.flush();
  }

  private onFailure(item: Item, err: unknown): void {
    this.inflight = undefined;
    this.failures++;
    const reason = errorText(err);
    const messageType = typeOf(item.body);
    if (item.reply) this.env.messenger.reply(item.reply, item.id, this.id, null, agentFailure(err));
    this.deadLetter(item, reason);
    void this.exit({ kind: "failure", reason, messageType }, reason);
  }

  /** Dead-letter a message that waited in the mailbox and was never handled, decoded when it decodes. */
  private deadLetterQueued(queued: Queued, reason: string): void {
    let item: Item;
    try {
      const env = decodeEnvelope(queued.data, this.env.maxMessageBytes);
      item = { kind: env.kind, id: env.id, sender: env.sender, trace: env.trace, body: env.body, reply: undefined };
    } catch {
      item = { kind: Kind.Tell, id: "", sender: null, trace: null, body: queued.data.slice(0, DEAD_LETTER_RAW_BYTES), reply: undefined };
    }
    this.deadLetter(item, reason);
  }

  private deadLetter(item: Item, reason: string): void {
    this.env.deadLetters.publish(this.def.type, this.key, {
      reason,
      messageType: typeOf(item.body),
      sender: item.sender,
      messageId: item.id,
      body: item.body,
    });
  }

  // ---- ending an activation ------------------------------------------------

  /**
   * The activation ends on its own (failure, ctx.stop(), fencing): stop
   * handling, commit what succeeded, run onStop, and tell the parent.
   */
  private exit(exit: ChildEnd, reason: string): Promise<void> {
    if (this.ending) return this.ending;
    this.active = false;
    this.epoch++;
    this.ctx.end(new AgentStoppedError(this.id, exit.kind === "failure" ? `failed: ${reason}` : reason));
    const activation = this.activations;
    this.ending = (async () => {
      if (exit.kind !== "fenced") await this.commitQuietly();
      await this.runOnStop();
      if (exit.kind === "failure") this.lifecycle.send({ type: "FAIL", reason });
      this.ending = undefined;
      this.parent.childExited(this, { ...exit, activation });
    })();
    return this.ending;
  }

  /** Make the agent fail now, as if `receive` threw (agentctl kill). The message in flight, if any, gets RemoteError. */
  kill(reason: string): void {
    this.failNow(`killed: ${reason}`);
  }

  /**
   * Fail now with `reason`, abandoning the message in flight (it gets
   * RemoteError). Used by kill and by a supervisor past its intensity.
   */
  failNow(reason: string): void {
    if (this.starting) {
      // onStart sees the signal now; the activation ends once its start settles.
      this.ctx.end(new AgentStoppedError(this.id, `was killed: ${reason}`));
      const then = (): void => this.failNow(reason);
      void this.starting.then(then, then);
      return;
    }
    if (this.state !== LifecycleState.Running && this.state !== LifecycleState.Starting) return;
    const item = this.inflight;
    this.failures++;
    if (item?.reply) this.env.messenger.reply(item.reply, item.id, this.id, null, agentFailure(new AgentKilledError(this.id, reason)));
    if (item) this.deadLetter(item, reason);
    this.inflight = undefined;
    void this.exit({ kind: "failure", reason, messageType: item ? typeOf(item.body) : null }, reason);
    this.abortInflight?.();
  }

  /**
   * Another node holds this agent's registry claim now (it took the agent over
   * while this node looked gone): stop handling at once, write nothing more,
   * and leave. The supervisor does not restart it.
   */
  fence(): void {
    if (this.starting) {
      // Never run onStop beside onStart: signal now, leave once the start settles.
      this.ctx.end(new AgentFencedError(this.id));
      const then = (): void => this.fence();
      void this.starting.then(then, then);
      return;
    }
    if (this.state !== LifecycleState.Running && this.state !== LifecycleState.Starting) return;
    this.env.events.publish(EventKind.Fenced, this.def.type, this.key, { revision: this.committer.lastRevision, by: "registry" });
    void this.exit({ kind: "fenced" }, "fenced");
  }

  /** Ask the agent to exit normally once the current message is handled (ctx.stop()). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Stop handling for a restart ordered by the supervisor: wait up to
   * `shutdownMs` for the message in flight, commit, run onStop. The
   * subscription and the waiting messages stay for the next activation.
   */
  async prepareRestart(shutdownMs: number): Promise<void> {
    await this.quiesce(shutdownMs);
    if (this.state === LifecycleState.Running || this.state === LifecycleState.Failed) this.lifecycle.send({ type: "RESTART" });
  }

  /**
   * Stop for good: wait up to `shutdownMs` for the message in flight (then
   * kill it), commit, unsubscribe, answer what is still waiting with
   * AgentStoppedError (tells go to the dead letters). State stays persisted.
   */
  stop(shutdownMs: number, why = "stopped"): Promise<void> {
    // One stop at a time: a second caller waits for the first instead of racing it through the lifecycle.
    this.stopping ??= this.stopOnce(shutdownMs, why);
    return this.stopping;
  }

  private async stopOnce(shutdownMs: number, why: string): Promise<void> {
    if (this.state === LifecycleState.Stopped) return;
    const wasUp = this.state === LifecycleState.Running || this.state === LifecycleState.Starting;
    if (wasUp) this.lifecycle.send({ type: "STOP" });
    if (this.starting) await this.starting.catch(() => {});
    await this.quiesce(shutdownMs);
    await this.close(why);
    if (this.lifecycle.getSnapshot().status === "active") {
      // A concurrent stop may have finished the machine meanwhile.
      this.lifecycle.send({ type: wasUp ? "STOPPED" : "STOP" });
      this.lifecycle.stop();
    }
  }

  /** Given up on by its supervisor: it stays `failed`, stops listening, and what waits is answered. */
  async abandon(): Promise<void> {
    await this.quiesce(0);
    await this.close("failed");
    // It stays `failed` (its snapshot keeps the value); the actor itself is done.
    if (this.lifecycle.getSnapshot().status === "active") this.lifecycle.stop();
  }

  /** Unsubscribe (flushed, so the server knows), then answer what still waits. */
  private async close(why: string): Promise<void> {
    if (this.sub) {
      this.sub.unsubscribe();
      this.sub = undefined;
      try {
        await this.env.nc.flush();
      } catch {
        // closed connection: nothing else can reach us anyway
      }
    }
    const gone = new AgentStoppedError(this.id, why);
    for (const queued of this.mailbox.takeAll()) {
      if (queued.reply !== undefined) this.env.messenger.reply(queued.reply, "", this.id, null, toWireError(gone));
      else this.deadLetterQueued(queued, `agent ${why} before handling it`);
    }
  }

  private async quiesce(shutdownMs: number): Promise<void> {
    if (this.starting) {
      // A restart or give-up while onStart runs: signal it, and let it finish before onStop.
      this.ctx.end(new AgentStoppedError(this.id, "was stopped or restarted while starting"));
      await this.starting.catch(() => {});
    }
    const wasActive = this.active;
    const epoch = this.epoch;
    let timedOut = false;
    this.active = false;
    if (this.ending) await this.ending;
    if (this.draining) {
      let timer: TimerHandle | undefined;
      timedOut = await Promise.race([
        this.draining.then(() => false),
        new Promise<boolean>((resolve) => (timer = this.env.clock.setTimeout(() => resolve(true), shutdownMs))),
      ]);
      if (timer) this.env.clock.clearTimeout(timer);
      if (timedOut && this.inflight) {
        const item = this.inflight;
        this.inflight = undefined;
        if (item.reply) this.env.messenger.reply(item.reply, item.id, this.id, null, agentFailure(new AgentKilledError(this.id, `not done within shutdown ${shutdownMs} ms`)));
        this.deadLetter(item, `killed: not done within shutdown ${shutdownMs} ms`);
      }
    }
    // Failed meanwhile (the message in flight threw): its exit runs onStop, not this.
    const exited = epoch !== this.epoch;
    if (this.ending) await this.ending;
    this.epoch++;
    this.ctx?.end(new AgentStoppedError(this.id, timedOut ? `not done within shutdown ${shutdownMs} ms` : "stopped"));
    if (timedOut) this.abortInflight?.();
    if ((wasActive || this.behavior !== undefined) && !exited) {
      await this.commitQuietly();
      await this.runOnStop();
    }
  }

  private async commitQuietly(): Promise<void> {
    try {
      await this.committer.settle();
    } catch {
      // reported by the commit loop itself
    }
  }

  /** Run onStop once per activation (the first of concurrent stops does it) and release the behaviour. */
  private async runOnStop(): Promise<void> {
    const behavior = this.behavior;
    if (!behavior) return;
    this.behavior = undefined;
    try {
      if (this.def.onStop && this.ctx) await this.def.onStop(this.ctx);
    } catch (err) {
      // onStop failing must not block the stop, but it is reported.
      this.reportError("onStop", err);
    } finally {
      behavior.stop();
    }
  }

}





function typeOf(body: unknown): string | null {
  if (body !== null && typeof body === "object") {
    const t = (body as { type?: unknown; op?: unknown }).type ?? (body as { op?: unknown }).op;
    if (typeof t === "string") return t;
  }
  return null;
}
