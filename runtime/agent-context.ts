// What an agent's code sees: the `ctx` that `receive` and the hooks get (its
// address, its state, refs, memory, stop, emit, and its activation's signal).
// The runtime's implementation is HostContext (runtime/host-context.ts).

import type { AgentRef } from "./agent-ref.js";
import type { Chunk } from "./chunk.js";
import type { Topic } from "./define-topic.js";
import type { Memory } from "./memory/index.js";
import type { Pool } from "./pool.js";
import type { PoolOptions } from "./pool-options.js";
import type { AgentId } from "./subjects.js";
import type { TimerInfo, TimerWhen } from "./timer-table.js";

/** What `receive` (and the hooks) can see and do. */
export interface AgentContext<S = unknown> {
  /** `type/key` of this agent. */
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  /** The agent's private state; mutate it or reassign it. */
  state: S;
  /** The args this agent was spawned with. */
  readonly args: unknown;
  /** A ref to this agent. */
  readonly self: AgentRef;
  /** Who sent the message being handled (an AgentId or a client name), if known. */
  readonly sender: string | null;
  /** The id of the node this activation runs on. */
  readonly node: string;
  /** The namespace's shared memory. */
  readonly memory: Memory;
  /** A ref to another agent in the namespace. */
  ref<M = unknown, R = unknown>(type: string, key: string): AgentRef<M, R>;
  /**
   * A pool of agents of `type` (members `<type>/<name>-<i>`), sending as this agent:
   * `await ctx.pool("worker", { policy: "least_loaded", min: 2, max: 8 }).ask(job)`.
   * Pools of one type and name share their members and, within a node, their load.
   */
  pool<M = unknown, R = unknown>(type: string, options?: PoolOptions<M>): Pool<M, R>;
  /** Exit normally once the current message is handled (a `permanent` child is restarted, as in OTP). */
  stop(): void;
  /**
   * Send a chunk of the answer to the ask being handled, before the reply:
   * a caller of `ref.stream(msg)` gets it as it is; a caller of `ask` takes it
   * as a keep-alive (its timeout starts again, so a long receive that keeps
   * emitting does not time out). For a tell it goes nowhere. Call it while
   * `receive` runs (before it returns or its promise settles): the chunk goes
   * to the message being handled at that moment.
   *
   * @example
   * for (const part of parts) ctx.emit({ type: "text", delta: part });
   */
  emit(chunk: Chunk): void;
  /**
   * Aborted when this activation ends: killed, past `receiveTimeoutMs`, fenced,
   * stopped or failed. Pass it to your own I/O (`fetch(url, { signal: ctx.signal })`);
   * once it fired, sends through `ctx.self` and `ctx.ref(...)` reject with its reason.
   */
  readonly signal: AbortSignal;
  /**
   * Schedule a durable timer: when it is due, `msg` arrives in this agent's
   * own mailbox like any message, with `ctx.timer` set to `name` (and
   * `ctx.sender` to `timer:<name>`). Scheduling a name again replaces it.
   * `when`: `{ at: Date | epochMs }`, `{ afterMs }`, `{ every: ms, startAt?, afterMs? }`
   * or `{ cron: "*\/5 * * * *", tz? }`. Timers live in the persisted state (the
   * type needs `persist`) and survive restarts, passivation, failover and a
   * server restart; made while handling a message, they apply only if its
   * receive succeeds, in the same commit. Throws InvalidArgumentError for a bad
   * name, `when`, cron expression or message, InvalidConfigError without persist.
   *
   * @example
   * ctx.schedule("remind", { afterMs: 24 * 3600_000 }, { type: "remind" });
   */
  schedule(name: string, when: TimerWhen, msg: unknown): void;
  /** Cancel timer `name` (with the message being handled, when it succeeds); true when there was one. */
  cancel(name: string): boolean;
  /** This agent's timers, earliest first: name, kind, next due time (epoch ms), failed attempts. */
  timers(): TimerInfo[];
  /** The name of the timer whose message is being handled; undefined for any other message (this, not `sender`, proves it is a timer). */
  readonly timer: string | undefined;
  /** The topic the message being handled was published on; undefined for a message sent to the agent itself. */
  readonly topic: string | undefined;
  /**
   * Publish `msg` on a topic, as this agent (subscribers see it as `ctx.sender`).
   * A core topic (a name): resolves once handed to NATS, at most once. A
   * durable one (`defineTopic({ name, durable: true })`): resolves once stored.
   */
  publish(topic: Topic, msg: unknown): Promise<void>;
  /** Take a topic or pattern (`"orders.*"`) from now on, also after restarts and failover; resolves once stored and subscribed. */
  subscribe(topic: Topic): Promise<void>;
  /** No longer take a topic or pattern (also one the type declares, for this agent); resolves once stored. */
  unsubscribe(topic: Topic): Promise<void>;
}
