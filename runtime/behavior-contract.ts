// What a behaviour promises the activation that runs it (runtime/behavior.ts
// has the function and machine behaviours, runtime/model/ the model loop),
// and the value `handle` returns when it answers an ask itself, later or
// already, through the activation's `answer` (a model agent's request that
// waits for an approval, say): then the activation sends no reply.

import type { HostContext } from "./host-context.js";

/** Returned by `handle`: the ask is (or will be) answered by the behaviour itself. */
export const ANSWERED_LATER: unique symbol = Symbol("answered later");

/** One activation's behaviour. */
export interface Behavior {
  /** Set up the activation's state: from what was persisted (when `persisted.found`), else from the type's initial state. */
  start(ctx: HostContext, persisted: { found: boolean; value?: unknown }): void;
  /** Handle one message; the value answers an ask. May return a promise. */
  handle(msg: unknown, ctx: HostContext): unknown;
  /**
   * Whether the state may have changed since the last call, without encoding
   * it: O(1) whatever the state's size.
   */
  takeChange(ctx: HostContext): boolean;
  /** The value to persist as the agent's state (encoded once per commit). */
  persistable(ctx: HostContext): unknown;
  /** Release what the activation holds. */
  stop(): void;
}
