// The counter the `cluster` scenario's node processes host: the built-in
// persisted `counter`, plus a line in an activation log at each start and
// stop of an activation, so the bench can tell whether an agent ever ran on
// two nodes at once.

import { randomUUID } from "node:crypto";
import { counter, defineAgent, type AgentContext, type AgentType } from "../../actors/index.js";
import { ActivationEvent, appendActivation } from "./activation-log.js";

/**
 * A persisted counter (type `counter`, the built-in one's messages and answers)
 * that appends each activation's start and stop to `logFile`.
 *
 * @example
 * startNode({ agents: [loggedCounter("/tmp/n1.jsonl")], ... })
 */
export function loggedCounter(logFile: string): AgentType {
  // Per activation (its context object): its id. Dropped with the context.
  const ids = new WeakMap<AgentContext<unknown>, string>();
  const record = (ev: ActivationEvent, ctx: AgentContext<unknown>, act: string): void =>
    appendActivation(logFile, { ev, key: ctx.key, act, node: ctx.node, at: Date.now() });
  return defineAgent<unknown, unknown, unknown>({
    type: counter.type,
    state: counter.initialState,
    schema: counter.parse,
    receive: counter.receive!,
    onStart(ctx) {
      const act = randomUUID();
      ids.set(ctx, act);
      record(ActivationEvent.Start, ctx, act);
    },
    onStop(ctx) {
      const act = ids.get(ctx);
      if (act !== undefined) record(ActivationEvent.Stop, ctx, act);
    },
  });
}
