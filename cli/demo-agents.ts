// The agent types of `agentctl demo`: a worker that drops every third job,
// and a team supervisor that restarts it.

import { defineAgent, defineSupervisor, type AgentType, type SupervisorType } from "../actors/index.js";

/** A job for the flaky worker. */
export interface Job {
  job: number;
}

/** Does jobs and counts them in its persisted state; every third job makes it crash. */
export const flakyWorker: AgentType = defineAgent({
  type: "flaky",
  state: () => ({ done: 0 }),
  receive(msg: Job, ctx) {
    const state = ctx.state as { done: number };
    if (msg.job % 3 === 0) throw new Error(`dropped job ${msg.job}`);
    state.done += 1;
    return { job: msg.job, done: state.done };
  },
});

/** A one_for_one team: a planner (an echo agent) and the flaky worker, up to 10 restarts in 10 s. */
export const team: SupervisorType = defineSupervisor({
  type: "team",
  strategy: "one_for_one",
  intensity: 10,
  periodMs: 10_000,
  children: [
    { id: "planner", type: "echo", key: "planner" },
    { id: "worker", type: "flaky", key: "w1" },
  ],
});
