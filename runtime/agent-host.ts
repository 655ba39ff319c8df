// An agent on this node, as its supervisor drives it: its inbox
// subscription, its mailbox, its lifecycle machine and its persisted state,
// across activations. Each activation (runtime/activation.ts) handles
// messages between its start and its end; this host starts one, and ends it
// for a restart, a stop, a kill or a fence. The lifecycle machine says where
// the agent is, and whether its activation takes messages.
//
// Persisted state uses group commit (runtime/state-committer.ts): after each
// message the behaviour says, without encoding anything, whether the state
// may have changed; replies wait while a change is uncommitted; each commit
// encodes the state once and writes it with compare-and-set.

import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { AgentType } from "./define-agent.js";
import { Activation, type AgentParts, type HandlingCounts } from "./activation.js";
import { AgentInbox } from "./agent-inbox.js";
import type { SenderVerifier } from "./auth/sender-proof.js";
import { behaviorOf } from "./behavior.js";
import { Lifecycle, LifecycleState } from "./lifecycle.js";
import type { Clock } from "./clock.js";
import { encodeValue } from "./codec.js";
import type { DeadLetters } from "./dead-letters.js";
import { AgentFencedError, AgentStoppedError, errorText, InvalidConfigError } from "./errors.js";
import { agentFailure } from "./wire-error.js";
import { MailboxKind } from "./mailbox-kind.js";
import { decodeDurableRecord } from "./durable/durable-record.js";
import { ActivationMode } from "./define-agent.js";
import { decodeTimerRecord, encodeTimerRecord, storedStateBytes } from "./timer-record.js";
import { WakeEntry, type TimerIndex } from "./timer-index.js";
import { DurableState } from "./durable/durable-state.js";
import { DurableFeed } from "./durable/durable-feed.js";
import { EventKind, type EventPublisher } from "./events.js";
import type { MailboxBudget } from "./mailbox.js";
import type { TurnBudget } from "./turn-budget.js";
import type { Messenger } from "./messenger.js";
import type { Memory } from "./memory/index.js";
import type { PermissionDenials } from "./permission-denials.js";
import type { PoolBoard } from "./pool-board.js";
import { neverStored, StateCommitter } from "./state-committer.js";
import type { StateStore } from "./state-store.js";
import { formatAgentId, type AgentId } from "./subjects.js";
import { messageTypeOf } from "./inbound.js";
import type { Child, ChildEnd, ChildExit, ChildInfo, Parent } from "./child.js";
import { AgentTopics } from "./agent-topics.js";
import type { Topic } from "./define-topic.js";
import { DurableTopicFeed } from "./durable-topic-feed.js";
import { DurableSender } from "./durable/durable-sender.js";
import type { TopicRouter } from "./topic-router.js";
import type { McpHub } from "./model/mcp-hub.js";
import type { TopicPublisher } from "./topic-publisher.js";
import type { SubscriptionStore } from "./subscription-store.js";

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
  /** Counts and reports what agents' `can` declarations refuse. */
  denials: PermissionDenials;
  maxMessageBytes: number;
  /** The bytes all mailboxes of the node may hold together. */
  mailboxBudget: MailboxBudget;
  /** The node's message handling per turn of the event loop, shared by all its agents. */
  turns: TurnBudget;
  /** JetStream and the mailbox stream, for agents with durable mailboxes (absent when the node hosts none). */
  durable?: { js: JetStreamClient; jsm: JetStreamManager; stream: string };
  /** Checks senders' proofs for agents that accept only verified senders (absent when the node has no credentials). */
  verifier?: SenderVerifier;
  /** The node's pools, for ctx.pool. */
  pools?: PoolBoard;
  /** The timer wake index, for on-demand agents with durable timers (absent when the node hosts no on-demand type). */
  timerIndex?: TimerIndex;
  /** The node's core topic subscriptions, its topic publisher, and where run-time subscriptions are kept. */
  topics?: TopicRouter;
  topicPublisher?: TopicPublisher;
  subscriptions?: SubscriptionStore;
  /** The node's MCP connections (model agents' mcpTools). */
  mcp?: McpHub;
}

/** A row of `node.list()` / `agentctl ps`. */
export type AgentInfo = ChildInfo;

/** Runs one agent on this node. */
export class AgentHost implements Child {
  readonly id: AgentId;
  readonly type: string;
  readonly subject: string;
  /** Restarts so far, as its supervisor counts them. */
  private restarts = 0;
  private readonly counts: HandlingCounts = { handled: 0, failures: 0 };
  /** Failures no caller could be told about; each was published as an `agent_error` event. */
  private errors = 0;
  private startedAt: number;

  /** Where the agent is: the one source of truth, also for whether its activation takes messages. */
  private readonly lifecycle: Lifecycle;
  /** Its subscription, intake checks and mailbox, kept across activations. */
  private readonly inbox: AgentInbox;
  /** Its topic subscriptions, kept across activations: made when its type declares some, it has stored ones, or it subscribes. */
  private topics: AgentTopics | undefined;
  /** Stores its durable topics' messages in its durable mailbox (made when first needed). */
  private topicSender: DurableSender | undefined;
  /** Group commit of the persisted state, and the answers that wait for it; only for an agent that persists. */
  private readonly committer: StateCommitter | undefined;
  /** What every activation of this agent shares with the host. */
  private readonly parts: AgentParts;
  /** The current (or last) activation; undefined until the first start. */
  private current: Activation | undefined;
  private activations = 0;

  // Operations in progress, each single-flight: the others wait for them.
  /** The start of the current activation (stop and kill wait for it, so onStop never runs beside onStart). */
  private starting: Promise<void> | undefined;
  /** The activation ending on its own (a failure, ctx.stop(), a fence). */
  private ending: Promise<void> | undefined;
  /** The stop for good. */
  private stopping: Promise<void> | undefined;
  /** The ending activation's commit lost compare-and-set: it leaves fenced, whatever ended it. */
  private fencedWhileEnding = false;
  /** Its entry in the timer wake index (an on-demand agent that persists, on a node with the index). */
  private readonly wake: WakeEntry | undefined;

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
    this.startedAt = env.clock.now();
    this.inbox = new AgentInbox(this.id, key, def, this.subject, env, {
      target: () => this.current,
      internalError: (where, err) => this.internalError(where, err),
      subscriptionLost: (err) => {
        this.reportError("subscription", err);
        this.failNow(`subscription failed: ${errorText(err)}`);
      },
    });
    this.lifecycle = new Lifecycle((from, to, reason) => env.events.publish(EventKind.Lifecycle, def.type, key, { from, to, reason }));
    this.committer = def.persist ? this.newCommitter() : undefined;
    this.wake =
      def.persist && def.activation === ActivationMode.OnDemand && env.timerIndex
        ? new WakeEntry(env.timerIndex, def.type, key, (err) => this.reportError("timer index", err))
        : undefined;
    this.parts = {
      id: this.id,
      key,
      args,
      def,
      subject: this.subject,
      env,
      lifecycle: this.lifecycle,
      mailbox: this.inbox.mailbox,
      inbound: this.inbox.inbound,
      committer: this.committer,
      counts: this.counts,
      tookDurable: (bytes) => this.inbox.tookDurable(bytes),
      topics: this,
      exit: (end, reason) => void this.exit(end, reason),
      internalError: (where, err) => this.internalError(where, err),
      earliestTimer: this.wake ? (due) => this.wake!.earliest(due, env.clock.now()) : undefined,
    };
  }

  /** The committer of a persisted agent's state. */
  private newCommitter(): StateCommitter {
    const { def, key, env } = this;
    const committer: StateCommitter = new StateCommitter({
      id: this.id,
      type: def.type,
      key,
      store: env.stateStore,
      encodeState: () => {
        const act = this.current!;
        const persistable = (): unknown => act.behavior!.persistable(act.ctx);
        const timers = act.timers;
        if (act.durable) return act.durable.encode(persistable, timers?.snapshot());
        return encodeTimerRecord(encodeValue(persistable()), timers ? timers.snapshot() : []);
      },
      landed: () => {
        // What the commit covers leaves the durable mailbox.
        const act = this.current;
        if (act?.durable) act.feed?.purgeThrough(act.durable.landed());
      },
      answer: (reply, id, value, error) => env.messenger.reply(reply, id, this.id, value, error),
      isActive: () => this.lifecycle.handling,
      fenced: (revision) => {
        env.events.publish(EventKind.Fenced, def.type, key, { revision });
        // Also when the activation is already ending (a failure's commit lost): it writes nothing more, and leaves fenced.
        committer.fence();
        this.fencedWhileEnding = this.ending !== undefined;
        void this.exit({ kind: "fenced" }, "fenced");
      },
      failed: (reason, err) => {
        // A durable message whose state can never be stored (not encodable, over the server's max_payload) fails like one
        // whose receive threw: tried again from the last commit, then dead-lettered. A write JetStream did not answer may
        // have landed: the next activation reads what is stored instead.
        const act = this.current;
        const seq = act?.durable?.firstUnlanded;
        if (act && seq !== undefined && !act.failedDurable && !act.isEnded && neverStored(err)) act.failedDurable = { seq, reason };
        void this.exit({ kind: "failure", reason, messageType: null }, "state write failed");
      },
      internalError: (err) => this.internalError("commit", err),
    });
    return committer;
  }

  /** The lifecycle state. */
  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** Starting or running (also while it waits for an approval). */
  get up(): boolean {
    return this.lifecycle.running || this.state === LifecycleState.Starting;
  }

  get activation(): number {
    return this.activations;
  }

  /** A counter that moves whenever the agent handles a message, fails or starts again (idle passivation watches it). */
  get activity(): number {
    return this.counts.handled + this.counts.failures + this.activations;
  }

  /** Running, with nothing in flight and nothing waiting. */
  get idle(): boolean {
    return this.state === LifecycleState.Running && this.current !== undefined && this.current.idle;
  }

  /**
   * Before a passivation: stop listening if idle, taking what was already on
   * its way. True when it stayed idle (nothing reaches it any more); false,
   * listening again, when a message came in meanwhile.
   */
  async quietDown(): Promise<boolean> {
    if (!this.idle) return false;
    await this.inbox.pause();
    if (this.idle) return true;
    await this.inbox.open();
    return false;
  }

  /**
   * Before a handover: stop listening, taking what was already on its way,
   * then give what reached it up to `ms` to be handled.
   */
  async stopListening(ms: number): Promise<void> {
    await this.inbox.pause();
    if (this.starting) await this.starting.catch(() => {});
    if (ms > 0) await this.current?.finishWithin(ms);
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
      handled: this.counts.handled,
      failures: this.counts.failures,
      restarts: this.restarts,
      mailbox: this.inbox.mailbox.size,
      mailboxBytes: this.inbox.mailbox.bytes,
      rejected: this.inbox.inbound.rejected,
      asksWithoutReply: this.inbox.inbound.asksWithoutReply,
      errors: this.errors,
      handlingP99Ms: this.counts.times?.p99(performance.now()) ?? null,
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
    if (this.lifecycle.running) return;
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
    const act = new Activation(++this.activations, this.parts);
    this.current = act;
    this.startedAt = this.env.clock.now();
    const ctx = act.ctx;
    const behavior = behaviorOf(this.def);
    try {
      // Read once per host (a restart keeps them), beside the subscription's flush and the state's load.
      const topicsLoaded = this.takesTopics() ? this.topicsOf().load() : undefined;
      topicsLoaded?.catch(() => {});
      await this.inbox.open();
      const committer = this.committer;
      committer?.reset(0, undefined);
      if (this.def.mailbox === MailboxKind.Durable) {
        if (!this.env.durable) throw new InvalidConfigError("mailbox", `agent type ${this.def.type} takes a durable mailbox, but this node has no mailbox stream`);
        const stored = await this.env.stateStore.load(this.def.type, this.key);
        const record = stored.bytes ? decodeDurableRecord(stored.bytes) : undefined;
        behavior.start(ctx, record ? { found: true, value: record.state } : { found: false });
        act.durable = new DurableState(record, this.def.maxDeliver);
        if (record && record.timers.length > 0) act.loadTimers(record.timers);
        // The baseline, as if committed: the stored bytes, or the initial state at sequence 0.
        const baseline = act.durable.encode(() => behavior.persistable(ctx), act.timers?.snapshot());
        act.durable.landed();
        committer!.reset(stored.revision, stored.bytes ?? baseline);
      } else if (committer) {
        const stored = await this.env.stateStore.load(this.def.type, this.key);
        const record = stored.bytes ? decodeTimerRecord(stored.bytes) : undefined;
        behavior.start(ctx, record ? { found: true, value: record.state } : { found: false });
        if (record && record.timers.length > 0) act.loadTimers(record.timers);
        // What is stored (or, for a new agent, its initial state) is the baseline: only a change is written.
        committer.reset(stored.revision, stored.bytes ?? encodeValue(behavior.persistable(ctx)));
      } else {
        behavior.start(ctx, { found: false });
      }
      act.behavior = behavior;
      await topicsLoaded;
      if (this.def.onStart) await this.def.onStart(ctx);
      // Stopped, restarted, killed or fenced while onStart ran: never running; whoever did it ends the activation.
      if (ctx.endedWith) throw ctx.endedWith;
      if (committer && behavior.takeChange(ctx)) {
        act.durable?.stateChange();
        committer.changed();
      }
    } catch (err) {
      if (ctx.endedWith) throw ctx.endedWith;
      const reason = `start failed: ${errorText(err)}`;
      this.counts.failures++;
      act.end(new AgentStoppedError(this.id, "failed to start"));
      this.lifecycle.send({ type: "FAIL", reason });
      behavior.stop();
      act.behavior = undefined;
      if (options.report !== false) this.parent.childExited(this, { kind: "failure", reason, messageType: null, activation: act.number });
      throw err;
    }
    if (this.state !== LifecycleState.Starting) {
      // Stopped while onStart ran: the stop (waiting for this start) runs onStop.
      throw new AgentStoppedError(this.id, "was stopped while starting");
    }
    this.lifecycle.send({ type: "STARTED" });
    this.committer?.flush();
    if (act.durable) {
      this.openFeed(act);
      // Its topics consumer exists before the start resolves: what is published from then on waits for it.
      await this.openTopicFeed(act);
    }
    act.kick();
  }

  /** Read the durable mailbox from the first message after the committed place. */
  private openFeed(act: Activation): void {
    const durable = this.env.durable!;
    act.feed = new DurableFeed(
      {
        js: durable.js,
        jsm: durable.jsm,
        clock: this.env.clock,
        stream: durable.stream,
        subject: this.env.messenger.subjects.mailbox(this.def.type, this.key),
        deliver: (d) => this.inbox.offerDurable(d),
        trouble: (where, err) => this.reportError(where, err),
      },
      act.durable!.committedSeq,
    );
    act.feed.start();
  }

  /** ctx.subscribe (`on`) and ctx.unsubscribe. */
  changeTopic(topic: Topic, on: boolean): Promise<void> {
    return on ? this.topicsOf().subscribe(topic) : this.topicsOf().unsubscribe(topic);
  }

  private topicsOf(): AgentTopics {
    return (this.topics ??= new AgentTopics(this.def, this.key, this.inbox, this.env.subscriptions));
  }

  /** Whether it may take topics: its type declares some, or it subscribed (here, or anywhere before). Most agents do not, and pay nothing. */
  private takesTopics(): boolean {
    return this.topics !== undefined || (this.def.subscribe?.length ?? 0) > 0 || (this.env.subscriptions?.mayHave(this.def.type, this.key) ?? false);
  }

  /** Forward the durable topics it takes into its durable mailbox while this activation runs. */
  private async openTopicFeed(act: Activation): Promise<void> {
    const durable = this.env.durable!;
    const feed = new DurableTopicFeed({
      js: durable.js,
      jsm: durable.jsm,
      clock: this.env.clock,
      subjects: this.env.messenger.subjects,
      sender: (this.topicSender ??= new DurableSender(durable.js, this.env.clock)),
      id: this.id,
      type: this.def.type,
      key: this.key,
      trouble: (where, err) => this.reportError(where, err),
    });
    act.topicFeed = feed;
    const topics = this.topicsOf();
    topics.durable = feed;
    const patterns = topics.durablePatterns();
    if (patterns.length > 0) await feed.set(patterns).catch((err: unknown) => this.reportError("topic consumer", err));
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

  /** A bug in the host, not a bad message (those are rejected at intake): fail this agent, keep the node. */
  private internalError(where: string, err: unknown): void {
    this.reportError(where, err);
    this.failNow(`internal error: ${errorText(err)}`);
  }

  // ---- ending an activation ------------------------------------------------

  /**
   * The activation ends on its own (failure, ctx.stop(), fencing): stop
   * handling, commit what succeeded, run onStop, and tell the parent.
   */
  private exit(end: ChildEnd, reason: string): Promise<void> {
    if (this.ending) return this.ending;
    const act = this.current;
    if (!act) return Promise.resolve();
    if (this.lifecycle.handling) this.lifecycle.send({ type: "END" });
    act.end(new AgentStoppedError(this.id, end.kind === "failure" ? `failed: ${reason}` : reason));
    this.inbox.dropDurable();
    // Fenced: the state is another activation's now; asks waiting for a commit learn that, not a failed write.
    if (end.kind === "fenced") this.committer?.fence();
    this.fencedWhileEnding = false;
    this.ending = (async () => {
      if (end.kind !== "fenced") await this.commitQuietly(act);
      await this.runOnStop(act);
      // A failure whose commit found the state taken by another activation leaves fenced: not restarted here.
      const final: ChildEnd = this.fencedWhileEnding ? { kind: "fenced" } : end;
      if (final.kind === "failure") this.lifecycle.send({ type: "FAIL", reason });
      this.ending = undefined;
      this.parent.childExited(this, { ...final, activation: act.number });
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
    const act = this.current;
    if (!act) return;
    if (this.starting) {
      // onStart sees the signal now; the activation ends once its start settles.
      act.ctx.end(new AgentStoppedError(this.id, `was killed: ${reason}`));
      const then = (): void => this.failNow(reason);
      void this.starting.then(then, then);
      return;
    }
    if (!this.lifecycle.running && this.state !== LifecycleState.Starting) return;
    this.counts.failures++;
    const item = act.killInflight(reason);
    void this.exit({ kind: "failure", reason, messageType: item ? messageTypeOf(item.body) : null }, reason);
    act.abandon();
  }

  /**
   * Another node holds this agent's registry claim now (it took the agent over
   * while this node looked gone): stop handling at once, write nothing more,
   * and leave. The supervisor does not restart it.
   */
  fence(): void {
    const act = this.current;
    if (!act) return;
    if (this.starting) {
      // Never run onStop beside onStart: signal now, leave once the start settles.
      act.ctx.end(new AgentFencedError(this.id));
      const then = (): void => this.fence();
      void this.starting.then(then, then);
      return;
    }
    if (!this.lifecycle.running && this.state !== LifecycleState.Starting) return;
    this.env.events.publish(EventKind.Fenced, this.def.type, this.key, { revision: this.committer?.lastRevision ?? 0, by: "registry" });
    void this.exit({ kind: "fenced" }, "fenced");
  }

  /**
   * Stop handling for a restart ordered by the supervisor: wait up to
   * `shutdownMs` for the message in flight, commit, run onStop. The
   * subscription and the waiting messages stay for the next activation.
   */
  async prepareRestart(shutdownMs: number): Promise<void> {
    await this.quiesce(shutdownMs);
    if (this.lifecycle.running || this.state === LifecycleState.Failed) this.lifecycle.send({ type: "RESTART" });
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
    const wasUp = this.lifecycle.running || this.state === LifecycleState.Starting;
    if (wasUp) this.lifecycle.send({ type: "STOP" });
    if (this.starting) await this.starting.catch(() => {});
    await this.quiesce(shutdownMs);
    // Passivated or stopped: the wake index says exactly when its next timer is due (a stopped spawned agent's fire when it is spawned again).
    const timers = this.current?.timers;
    if (this.wake && timers) await this.wake.settle(timers.earliestDue);
    await this.inbox.close(why);
    if (this.lifecycle.live) {
      // A concurrent stop may have finished the machine meanwhile.
      this.lifecycle.send({ type: wasUp ? "STOPPED" : "STOP" });
      this.lifecycle.stop();
    }
  }

  /** Given up on by its supervisor: it stays `failed`, stops listening, and what waits is answered. */
  async abandon(): Promise<void> {
    await this.quiesce(0);
    await this.inbox.close("failed");
    // It stays `failed`; the actor itself is done.
    if (this.lifecycle.live) this.lifecycle.stop();
  }

  /**
   * End the current activation for the supervisor (a restart, a stop, a give-up):
   * it stops taking messages, gets up to `shutdownMs` for the one in flight
   * (then that one is killed), commits, and runs onStop, unless it ended on
   * its own meanwhile (then its exit did that).
   */
  private async quiesce(shutdownMs: number): Promise<void> {
    const act = this.current;
    if (!act) return;
    if (this.starting) {
      // A restart or give-up while onStart runs: signal it, and let it finish before onStop.
      act.ctx.end(new AgentStoppedError(this.id, "was stopped or restarted while starting"));
      await this.starting.catch(() => {});
    }
    if (this.lifecycle.handling) this.lifecycle.send({ type: "END" });
    if (this.ending) await this.ending;
    const timedOut = await act.finishWithin(shutdownMs);
    if (timedOut) act.killInflight(`not done within shutdown ${shutdownMs} ms`, `killed: not done within shutdown ${shutdownMs} ms`);
    // It failed meanwhile (the message in flight threw): its exit runs onStop, not this.
    const exited = act.isEnded;
    if (this.ending) await this.ending;
    act.end(() => new AgentStoppedError(this.id, timedOut ? `not done within shutdown ${shutdownMs} ms` : "stopped"));
    this.inbox.dropDurable();
    if (timedOut) act.abandon();
    if (!exited && act.behavior !== undefined) {
      await this.commitQuietly(act);
      await this.runOnStop(act);
    }
  }

  /**
   * Commit what the activation handled. After a durable message failed (or
   * was killed) the state goes back to the last commit instead, with that
   * message's failure counted: what it half-changed is not kept, and what was
   * applied since that commit comes again from the mailbox.
   */
  private async commitQuietly(act: Activation): Promise<void> {
    const committer = this.committer;
    if (!committer) return;
    try {
      const failed = act.failedDurable;
      if (failed && act.durable) {
        const gone = agentFailure(new AgentStoppedError(this.id, "failed before its answer was committed"));
        await committer.replace(() => act.durable!.rollback(failed.seq, failed.reason), gone);
      } else if (act.failedTimer && act.timers) {
        // A timer's message failed: the last commit stands (its receive changed nothing), with the attempt counted.
        const timers = act.timers;
        const gone = agentFailure(new AgentStoppedError(this.id, "failed before its answer was committed"));
        await committer.replace(
          () => (act.durable ? act.durable.committedWith(timers.snapshot()) : encodeTimerRecord(storedStateBytes(committer.lastCommitted!), timers.snapshot())),
          gone,
        );
      } else {
        await committer.settle();
      }
    } catch {
      // reported by the commit loop itself
    }
  }

  private runOnStop(act: Activation): Promise<void> {
    return act.runOnStop((err) => this.reportError("onStop", err));
  }
}
