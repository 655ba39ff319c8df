// Two small agents to start from: a counter, and a greeter that asks the
// counter. Run them with `agentctl node start --agents actors/examples/agents.ts`,
// then `agentctl spawn greeter --key g1` and `agentctl ask greeter/g1 '{"name":"Ada"}'`.
// In your own project, copy this file, `npm install troupe`, and import from
// "troupe" instead of "../index.js".

import { defineAgent } from "../index.js"; // in your project: from "troupe"

/** The messages the tally takes: add one, or say the count. */
type TallyMessage = { op: "inc" } | { op: "get" };

/** A counter: `{ op: "inc" }` adds one, and every ask answers the count. */
export const tally = defineAgent({
  type: "tally", // its address is tally/<key>; `echo` and `counter` are built in already
  activation: "on-demand", // every tally/<key> exists: the first message to one starts it
  state: () => ({ count: 0 }), // the initial state; changes are persisted in JetStream KV
  receive(msg: TallyMessage, ctx) {
    // one message at a time: no locks needed
    if (msg.op === "inc") ctx.state.count += 1; // mutate ctx.state; the runtime commits it
    return ctx.state.count; // the answer to an ask (ignored for a tell)
  },
});

/** A greeter: asks tally/visits to count the visit, and answers with a greeting and the count. */
export const greeter = defineAgent({
  type: "greeter", // its address is greeter/<key>
  persist: false, // no state of its own to keep
  async receive(msg: { name: string }, ctx) {
    const visits = ctx.ref<TallyMessage, number>("tally", "visits"); // a ref to another agent, by type and key
    const count = await visits.ask({ op: "inc" }); // ask it and wait for the answer (tally/visits starts on demand)
    return `hello, ${msg.name}: visitor number ${count}`; // the answer to this ask
  },
});
