// Public names of actors/: defining agent types, their lifecycle, and the built-ins.

export { defineAgent, DEFAULT_MAILBOX_CAPACITY } from "./define-agent.js";
export type { AgentContext, AgentType, FunctionAgentOptions, MachineAgentOptions, MessageSchema } from "./define-agent.js";
export type { MachineReply } from "./behavior.js";
export { LifecycleState, lifecycleMachine } from "./lifecycle.js";
export { builtinAgents, counter, echo, type CounterMsg } from "./builtins.js";
