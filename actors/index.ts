// The package's entry, `import { defineAgent, startNode, counter } from "troupe"`:
// the runtime's public names and the built-in agent types. actors/ is the top
// of the library: it builds on the runtime and nothing in the runtime imports it.

export * from "../runtime/index.js";
export { builtinAgents, counter, echo, type CounterMsg } from "./builtins.js";
