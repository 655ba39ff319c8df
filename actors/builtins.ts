// Built-in agent types every `agentctl node start` hosts: `echo` answers with
// what it got; `counter` counts (`{op:"inc", by?}`, `{op:"get"}`, `{op:"reset"}`).

import { InvalidMessageError } from "../runtime/errors.js";
import { defineAgent, type AgentType } from "../runtime/define-agent.js";

/** Answers every ask with the message it got. */
export const echo: AgentType = defineAgent({
  type: "echo",
  persist: false,
  receive: (msg: unknown) => msg,
});

/** The messages `counter` understands. */
export type CounterMsg = { op: "inc"; by?: number } | { op: "get" } | { op: "reset" };

/** A persisted counter: `inc` adds `by` (default 1), `get` reads, `reset` sets 0. Every op answers the count. */
export const counter: AgentType = defineAgent({
  type: "counter",
  state: (args) => ({ count: typeof (args as { start?: unknown })?.start === "number" ? (args as { start: number }).start : 0 }),
  schema: (msg: unknown): CounterMsg => {
    const op = (msg as { op?: unknown } | null)?.op;
    if (op !== "inc" && op !== "get" && op !== "reset") throw new InvalidMessageError('counter takes {op:"inc", by?}, {op:"get"} or {op:"reset"}');
    const by = (msg as { by?: unknown }).by;
    if (op === "inc" && by !== undefined && (typeof by !== "number" || !Number.isFinite(by))) throw new InvalidMessageError("counter inc `by` must be a finite number");
    return msg as CounterMsg;
  },
  receive(msg: CounterMsg, ctx) {
    if (msg.op === "inc") ctx.state.count += msg.by ?? 1;
    else if (msg.op === "reset") ctx.state.count = 0;
    return ctx.state.count;
  },
});

/** Every built-in type. */
export const builtinAgents: readonly AgentType[] = [echo, counter];
