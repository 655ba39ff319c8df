// What an agent's code sees: the `ctx` that `receive` and the hooks get (its
// address, its state, refs, memory, stop, emit, and its activation's signal).
// The runtime's implementation is HostContext (runtime/host-context.ts).

import type { AgentRef } from "./agent-ref.js";
import type { Chunk } from "./chunk.js";
import type { Topic } from "./define-topic.js";
import type { Memory } from "./memory/index.js";
import type { AgentId } from "./subjects.js";

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
