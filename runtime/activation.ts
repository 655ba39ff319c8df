// One activation of an agent, from its start to its end: the `ctx` its code
// sees, its behaviour, and the loop that takes messages from the agent's
// mailbox one at a time while its lifecycle says it is handling. A
// synchronous `receive` is handled inline, without a promise per message.
//
// An ended activation is done for good: its signal has fired, whatever its
// receive still does is ignored, and a restart makes a new Activation with a
// new context. The agent host decides when an activation starts and ends;
// this module is what happens in between.

import type { InboxTarget, Queued } from "./agent-inbox.js";
import { ANSWERED_LATER, type Behavior } from "./behavior-contract.js";
import type { ChildEnd } from "./child.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { AgentType } from "./define-agent.js";
import { AgentKilledError, errorText, InvalidConfigError, ReceiveTimeoutError, type WireError } from "./errors.js";
import { ActivationTimers } from "./activation-timers.js";
import { makeTimer, type Timer, type TimerInfo, type TimerWhen } from "./timer-table.js";
import { outcomeOf, type DurableState } from "./durable/durable-state.js";
import type { DurableFeed } from "./durable/durable-feed.js";
import { HostContext, type AnswerChannel, type ContextEnv, type ContextOwner } from "./host-context.js";
import { HandlingTimes } from "./handling-times.js";
import { messageTypeOf, type Inbound, type Item } from "./inbound.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Topic } from "./define-topic.js";
import type { Mailbox } from "./mailbox.js";
import type { StateCommitter } from "./state-committer.js";
import type { AgentId } from "./subjects.js";
import { endConsumerSpan, startConsumerSpan, withSpan } from "./telemetry.js";
import { nextTurn, type TurnBudget } from "./turn-budget.js";
import { agentFailure } from "./wire-error.js";

/** What an activation needs from its node. */
export interface ActivationEnv extends ContextEnv {
  readonly clock: Clock;
  /** The node's message handling per turn of the event loop, shared by all its agents. */
  readonly turns: TurnBudget;
}

/** Counts kept across activations, shown in `ps`. */
export interface HandlingCounts {
  handled: number;
  failures: number;
  /** Recent handling times (for the p99 in `ps --json` and `top`); added on the first message, so an idle agent has no slot for it. */
  times?: HandlingTimes;
}

/** What the activations of one agent share with its host. */
export interface AgentParts {
  readonly id: AgentId;
  readonly key: string;
  readonly args: unknown;
  readonly def: AgentType;
  readonly subject: string;
  readonly env: ActivationEnv;
  readonly lifecycle: Lifecycle;
  readonly mailbox: Mailbox<Queued>;
  readonly inbound: Inbound;
  /** Only for an agent that persists its state (so for every durable one). */
  readonly committer: StateCommitter | undefined;
  readonly counts: HandlingCounts;
  /** A durable message left the mailbox. */
  tookDurable(bytes: number): void;
  /** The earliest timer's due time changed (undefined: none left): the host keeps the wake index of an on-demand agent. */
  earliestTimer?(due: number | undefined): void;
  /** ctx.subscribe and ctx.unsubscribe go to the host (an object, not a closure per agent: most never call it). */
  readonly topics: { changeTopic(topic: Topic, on: boolean): Promise<void> };
  /** The activation ends on its own: it failed, or it stopped itself. */
  exit(end: ChildEnd, reason: string): void;
  /** A bug in the host, not in the agent: report it, fail the agent, keep the node. */
  internalError(where: string, err: unknown): void;
}

/** One activation: its context, behaviour, the message in flight, and its drain loop. */
export class Activation implements ContextOwner, InboxTarget {
  readonly ctx: HostContext;
  /** Set once its state is loaded; released by {@link runOnStop}. */
  behavior: Behavior | undefined;
  private ended = false;
  private stopRequested = false;
  /** The agent asked to exit as failed once its message is handled (a model agent past its budget): why. */
  private failureRequested: string | undefined;
  /** The message being handled. */
  private inflight: Item | undefined;
  /** Stop waiting for the async receive in flight (it was killed, or outlived its shutdown time). */
  private abandonInflight: (() => void) | undefined;
  /** The drain loop at work, if any. */
  private draining: Promise<void> | undefined;
  /** A durable agent's place in its mailbox, and the reader of its mailbox. */
  durable: DurableState | undefined;
  feed: DurableFeed | undefined;
  /** The forwarder of its durable topics into its durable mailbox, when it takes any. */
  topicFeed: { stop(): void } | undefined;
  /** The durable message whose failure ended this activation: the state goes back to the last commit, and it is tried again. */
  failedDurable: { seq: number; reason: string } | undefined;
  /** Its durable timers; made when the stored record has some, or on the first ctx.schedule. */
  timers: ActivationTimers | undefined;
  /** A timer's message failed (or was killed): the exit commit writes the last committed state with the timers as they are now (an attempt counted). */
  failedTimer = false;
  /** The drain's last turn went to a timer: the next goes to the mailbox if a message waits. */
  private timerWent = false;

  constructor(
    /** 1 for an agent's first activation, then one more for each. */
    readonly number: number,
    private readonly parts: AgentParts,
  ) {
    this.ctx = new HostContext(this, parts.env);
  }

  get id(): AgentId {
    return this.parts.id;
  }

  get key(): string {
    return this.parts.key;
  }

  get args(): unknown {
    return this.parts.args;
  }

  get def(): AgentType {
    return this.parts.def;
  }

  /** ctx.stop(): exit normally once the current message is handled. */
  requestStop(): void {
    this.stopRequested = true;
  }

  requestFailure(reason: string): void {
    this.failureRequested ??= reason;
  }

  async commit(): Promise<void> {
    const committer = this.parts.committer;
    if (committer && this.behavior && this.behavior.takeChange(this.ctx)) {
      this.durable?.stateChange();
      committer.changed();
    }
    await committer?.settle();
    const ended = this.ctx.endedWith;
    if (ended) throw ended;
  }

  answer(reply: string, id: string, value: unknown, error: WireError | null): void {
    const committer = this.parts.committer;
    if (committer) committer.answer(reply, id, value, error);
    else this.parts.env.messenger.reply(reply, id, this.parts.id, value, error);
  }

  // ---- timers --------------------------------------------------------------

  /** ctx.schedule: add or replace a durable timer (applied with the message being handled, when it succeeds). */
  schedule(name: string, when: TimerWhen, msg: unknown): void {
    if (!this.parts.committer) throw new InvalidConfigError("persist", `agent type ${this.def.type} persists no state, and timers live in its persisted state: remove persist: false`);
    const { clock, maxMessageBytes } = this.parts.env;
    const timer = makeTimer(name, when, msg, clock.now(), maxMessageBytes);
    this.loadTimers([]).schedule(timer, this.inflight !== undefined);
  }

  /** ctx.cancel: true when there was such a timer. */
  cancel(name: string): boolean {
    return this.timers?.cancel(name, this.inflight !== undefined) ?? false;
  }

  /** ctx.timers(). */
  listTimers(): TimerInfo[] {
    return this.timers?.list() ?? [];
  }

  /** The timers, made (from `loaded`, the stored ones) unless they are already. */
  loadTimers(loaded: readonly Timer[]): ActivationTimers {
    if (this.timers) return this.timers;
    const committer = this.parts.committer!;
    this.timers = new ActivationTimers(
      {
        clock: this.parts.env.clock,
        maxDeliver: this.def.maxDeliver,
        kick: () => this.kick(),
        changedOutside: () => {
          committer.changed();
          if (this.handling) committer.flush();
        },
        earliestChanged: (due) => this.parts.earliestTimer?.(due),
      },
      loaded,
    );
    if (this.ended) this.timers.stop();
    return this.timers;
  }

  deadLetter(reason: string): void {
    if (this.inflight) this.parts.inbound.deadLetter(this.inflight, reason);
  }

  changeTopic(topic: Topic, on: boolean): Promise<void> {
    return this.parts.topics.changeTopic(topic, on);
  }

  awaitingApproval(waiting: boolean): void {
    if (!this.handling) return;
    this.parts.lifecycle.send({ type: waiting ? "AWAIT_APPROVAL" : "APPROVAL_SETTLED" });
  }

  /** Exit now if the agent asked to (ctx.stop(), or a failure it asked for); true when it did. */
  private exitIfAsked(): boolean {
    if (this.failureRequested !== undefined) {
      const reason = this.failureRequested;
      this.parts.counts.failures++;
      this.parts.exit({ kind: "failure", reason, messageType: null }, reason);
      return true;
    }
    if (this.stopRequested) {
      this.parts.exit({ kind: "normal" }, "stopped itself");
      return true;
    }
    return false;
  }

  /** Whether it has ended (its work from now on is ignored). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Taking messages: the lifecycle says so, and this activation has not ended. */
  private get handling(): boolean {
    return !this.ended && this.parts.lifecycle.handling;
  }

  /** Handling, with nothing in flight and nothing waiting: a message that arrives may be handled at once. */
  get idle(): boolean {
    return this.handling && this.draining === undefined && this.parts.mailbox.size === 0 && !this.timers?.ready;
  }

  /** End it: its signal fires with `reason` (or the error it makes), and whatever its receive still does is ignored. */
  end(reason: Error | (() => Error)): void {
    this.ended = true;
    this.ctx.end(reason);
    this.feed?.stop();
    this.timers?.stop();
    this.topicFeed?.stop();
  }

  // ---- handling messages ---------------------------------------------------

  /** Handle a message that arrived while {@link idle}. Only a receive that returns a promise makes the rest wait in the mailbox. */
  handleNow(data: Uint8Array, reply: string | undefined): void {
    const item = this.parts.inbound.decode(data, reply);
    if (item === undefined) return;
    this.handleItem(item);
  }

  /** Handle a message decoded already (a topic message) that arrived while {@link idle}. */
  handleItem(item: Item): void {
    const pending = this.process(item);
    if (pending !== undefined) this.track(pending.then(() => this.drain()));
    else if (this.handling) this.exitIfAsked();
  }

  /** Drain the mailbox unless a drain is at work (or the activation does not handle). */
  kick(): void {
    if (this.draining || !this.handling) return;
    this.track(this.drain());
  }

  /** Busy until `work` settles, then drain what arrived meanwhile. */
  private track(work: Promise<void>): void {
    this.draining = work
      // A bug inside the host must fail this agent, not crash the process with an unhandled rejection.
      .catch((err: unknown) => this.parts.internalError("drain", err))
      .finally(() => {
        this.draining = undefined;
        if (this.handling && (this.parts.mailbox.size > 0 || this.timers?.ready)) this.kick();
      });
  }

  /**
   * Handle what waits, one message at a time. The node's TurnBudget decides
   * when to yield to the event loop, so a backlog never holds up heartbeats,
   * timers or other agents; and while a commit is in flight, at most
   * MAX_ANSWERS_PER_COMMIT answered asks wait for it.
   */
  private async drain(): Promise<void> {
    const { mailbox, committer, inbound, env } = this.parts;
    while (this.handling) {
      if (this.exitIfAsked()) return;
      const timers = this.timers;
      // A due timer goes first, but never twice in a row while messages wait (a short `every` cannot starve the mailbox).
      if (timers !== undefined) {
        if (timers.ready && (!this.timerWent || mailbox.size === 0)) {
          this.timerWent = true;
          await this.fireTimer(timers);
          continue;
        }
        this.timerWent = false;
      }
      if (mailbox.size === 0) return;
      if (committer?.mustWait) {
        await committer.backpressure();
        continue;
      }
      if (!env.turns.take()) {
        await nextTurn();
        continue;
      }
      const queued = mailbox.shift()!;
      if (queued.seq !== undefined) {
        this.parts.tookDurable(queued.data.length);
        await this.handleDurable(queued);
        continue;
      }
      const item = queued.item ?? inbound.decode(queued.data, queued.reply);
      if (item === undefined) continue;
      const pending = this.process(item);
      if (pending !== undefined) await pending;
    }
  }

  /**
   * Handle the message of the timer due first. It waits for the commit of
   * what was handled before it, so that, if it fails, what the exit commits
   * is that commit with the timer's attempt counted (not what the failing
   * receive half-changed).
   */
  private async fireTimer(timers: ActivationTimers): Promise<void> {
    const committer = this.parts.committer!;
    if (committer.pending) {
      await committer.settle();
      return;
    }
    if (!this.parts.env.turns.take()) {
      await nextTurn();
      return;
    }
    const item = timers.take();
    if (item === undefined) return;
    const pending = this.process(item);
    if (pending !== undefined) await pending;
  }

  /** A message from the durable mailbox: applied once, answered from a stored outcome, tried again later, or given up. */
  private async handleDurable(queued: Queued): Promise<void> {
    const durable = this.durable!;
    const { inbound } = this.parts;
    const committer = this.parts.committer!;
    const seq = queued.seq!;
    if (queued.problem !== undefined) {
      inbound.reject(queued.data, queued.problem.reply, queued.problem.error);
      return this.moveOn(seq);
    }
    const item = inbound.decode(queued.data, queued.reply);
    if (item === undefined) return this.moveOn(seq); // refused (and dead-lettered) at the door
    item.seq = seq;
    item.key = queued.key;
    item.topic = queued.topic;
    let admission = durable.admit(seq, item.key);
    if (admission.action === "retry") {
      await this.parts.env.clock.sleep(admission.delayMs);
      // Ended while waiting: the next activation reads it again.
      if (!this.handling) return;
      admission = { action: "apply" };
    }
    switch (admission.action) {
      case "skip":
        return;
      case "answer":
        durable.done(seq);
        committer.changed();
        if (item.reply) committer.answer(item.reply, item.id, admission.outcome.value, admission.outcome.error, true);
        else committer.flush();
        return;
      case "give_up": {
        const reason = `gave up after ${admission.attempts} tries: ${admission.reason}`;
        const failure = agentFailure(Object.assign(new Error(reason), { name: "DeliveryFailed" }));
        this.parts.inbound.deadLetter(item, reason, admission.attempts);
        durable.done(seq, item.key, item.key !== undefined ? outcomeOf(null, failure) : undefined);
        committer.changed();
        if (item.reply) committer.answer(item.reply, item.id, null, failure, true);
        else committer.flush();
        return;
      }
      case "apply": {
        const pending = this.process(item);
        if (pending !== undefined) await pending;
      }
    }
  }

  /** Past a durable message that was refused: the cursor moves on, and the commit says so. */
  private moveOn(seq: number): void {
    this.durable!.done(seq);
    this.parts.committer!.changed();
    this.parts.committer!.flush();
  }

  private process(item: Item): Promise<void> | undefined {
    const ctx = this.ctx;
    const behavior = this.behavior!;
    ctx.sender = item.sender;
    ctx.timer = item.timer;
    ctx.answering = item.reply === undefined ? undefined : (item as AnswerChannel);
    ctx.messageId = item.key ?? item.id;
    ctx.topic = item.topic;
    this.inflight = item;
    const span = startConsumerSpan(this.parts.id, this.parts.subject, item.trace);
    // A busy agent times one message in a few (see HandlingTimes.timeNext); -1: not timed.
    const times = this.parts.counts.times;
    const began = times === undefined || times.timeNext() ? performance.now() : -1;
    let result: unknown;
    try {
      result = span ? withSpan(span, () => behavior.handle(item.body, ctx)) : behavior.handle(item.body, ctx);
    } catch (err) {
      this.timed(began);
      endConsumerSpan(span, err);
      this.onFailure(item, err);
      return undefined;
    }
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      return this.settle(item, result as PromiseLike<unknown>, span, began);
    }
    this.timed(began);
    endConsumerSpan(span);
    this.onSuccess(item, result);
    return undefined;
  }

  /** Count the handling time of the message that began at `began` (performance.now(), monotonic; -1 when not timed). */
  private timed(began: number): void {
    if (began < 0) return;
    const now = performance.now();
    const counts = this.parts.counts;
    (counts.times ??= new HandlingTimes(now)).record(now - began, now);
  }

  private async settle(item: Item, pending: PromiseLike<unknown>, span: ReturnType<typeof startConsumerSpan>, began: number): Promise<void> {
    const { clock } = this.parts.env;
    let value: unknown;
    let timer: TimerHandle | undefined;
    try {
      const limit = this.parts.def.receiveTimeoutMs;
      value = await new Promise((resolve, reject) => {
        if (limit) timer = clock.setTimeout(() => reject(new ReceiveTimeoutError(this.parts.id, limit)), limit);
        // A hung receive must not hold the mailbox of the next activation.
        this.abandonInflight = () => reject(new AgentKilledError(this.parts.id, "activation ended"));
        pending.then(resolve, reject);
      });
    } catch (err) {
      this.timed(began);
      endConsumerSpan(span, err);
      if (!this.ended) this.onFailure(item, err);
      return;
    } finally {
      if (timer) clock.clearTimeout(timer);
      this.abandonInflight = undefined;
    }
    this.timed(began);
    endConsumerSpan(span);
    if (!this.ended) this.onSuccess(item, value);
  }

  private onSuccess(item: Item, value: unknown): void {
    const { env, counts, committer } = this.parts;
    this.inflight = undefined;
    // Work the receive left behind cannot emit into the next caller's answer.
    this.ctx.answering = undefined;
    counts.handled++;
    // What the message did to the timers (and a timer's own firing) commits with the state it produced.
    if (this.timers !== undefined && this.timers.succeeded(item)) committer?.changed();
    if (value === ANSWERED_LATER) {
      // The behaviour answers (or answered) the ask itself; what it changed is committed as after any message.
      if (item.seq !== undefined) this.durable!.done(item.seq);
      if (committer && this.behavior!.takeChange(this.ctx)) {
        this.durable?.stateChange();
        committer.changed();
      }
      committer?.flush();
      return;
    }
    if (!committer) {
      // Persists nothing: answered at once.
      if (item.reply) env.messenger.reply(item.reply, item.id, this.parts.id, value, null);
      return;
    }
    if (item.seq !== undefined) {
      // Applied: the cursor moves past it in the same commit as the state it produced.
      const durable = this.durable!;
      // A keyed message is remembered: an ask with its answer, a tell as applied.
      durable.done(item.seq, item.key, item.key !== undefined ? outcomeOf(item.reply ? value : null, null) : undefined);
      if (this.behavior!.takeChange(this.ctx)) durable.stateChange();
      committer.changed();
      if (item.reply) committer.answer(item.reply, item.id, value, null, true);
      else committer.flush();
      return;
    }
    // O(1) whatever the state's size: the state is encoded once, by the commit that writes it.
    if (this.behavior!.takeChange(this.ctx)) {
      // A durable agent handling a core message: its state changed all the same.
      this.durable?.stateChange();
      committer.changed();
    }
    if (item.reply) committer.answer(item.reply, item.id, value);
    else committer.flush();
  }

  private onFailure(item: Item, err: unknown): void {
    this.inflight = undefined;
    this.ctx.answering = undefined;
    this.parts.counts.failures++;
    const reason = errorText(err);
    if (this.timers !== undefined && this.timerFailed(item, reason)) {
      this.parts.exit({ kind: "failure", reason, messageType: messageTypeOf(item.body) }, reason);
      return;
    }
    if (item.seq !== undefined) {
      // Tried again by the next activation, after the state went back to the last commit.
      this.failedDurable = { seq: item.seq, reason };
      this.parts.exit({ kind: "failure", reason, messageType: messageTypeOf(item.body) }, reason);
      return;
    }
    if (item.reply) this.parts.env.messenger.reply(item.reply, item.id, this.parts.id, null, agentFailure(err));
    this.parts.inbound.deadLetter(item, reason);
    this.parts.exit({ kind: "failure", reason, messageType: messageTypeOf(item.body) }, reason);
  }

  /**
   * A message failed: what it changed in the timers is dropped. When it was a
   * timer's, its attempt is counted (at maxDeliver the message is
   * dead-lettered and the timer moves on) and the exit commit writes that;
   * true then.
   */
  private timerFailed(item: Item, reason: string): boolean {
    const outcome = this.timers!.failed(item);
    if (outcome === undefined) return false;
    if (outcome === "give_up") this.parts.inbound.deadLetter(item, `gave up after ${this.def.maxDeliver} tries: ${reason}`, this.def.maxDeliver);
    this.failedTimer = true;
    return true;
  }

  // ---- ending --------------------------------------------------------------

  /**
   * The message in flight, if any, is given up: its asker gets
   * AgentKilledError(`reason`) and it is dead-lettered with `deadLetterReason`.
   * Returns it.
   */
  killInflight(reason: string, deadLetterReason = reason): Item | undefined {
    const item = this.inflight;
    if (item === undefined) return undefined;
    this.inflight = undefined;
    if (this.timers !== undefined && this.timerFailed(item, reason)) return item;
    if (item.seq !== undefined) {
      // A durable message is tried again, not answered or dead-lettered now.
      this.failedDurable = { seq: item.seq, reason };
      return item;
    }
    if (item.reply) this.parts.env.messenger.reply(item.reply, item.id, this.parts.id, null, agentFailure(new AgentKilledError(this.parts.id, reason)));
    this.parts.inbound.deadLetter(item, deadLetterReason);
    return item;
  }

  /** Stop waiting for an async receive still in flight (call after {@link end}, so its outcome is ignored). */
  abandon(): void {
    this.abandonInflight?.();
  }

  /** Wait up to `ms` for the drain loop (the message in flight) to be done. True when it was not. */
  async finishWithin(ms: number): Promise<boolean> {
    if (!this.draining) return false;
    const { clock } = this.parts.env;
    let timer: TimerHandle | undefined;
    const timedOut = await Promise.race([
      this.draining.then(() => false),
      new Promise<boolean>((resolve) => (timer = clock.setTimeout(() => resolve(true), ms))),
    ]);
    if (timer) clock.clearTimeout(timer);
    return timedOut;
  }

  /** Run onStop (once: the first of concurrent stops does it) and release the behaviour; `report` hears onStop failing. */
  async runOnStop(report: (err: unknown) => void): Promise<void> {
    const behavior = this.behavior;
    if (!behavior) return;
    this.behavior = undefined;
    try {
      if (this.parts.def.onStop) await this.parts.def.onStop(this.ctx);
    } catch (err) {
      // onStop failing must not block the stop, but it is reported.
      report(err);
    } finally {
      behavior.stop();
    }
  }
}
