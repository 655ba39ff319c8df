// The agent of the timers bench: armed with one ask that schedules its timers
// (`t0`, `t1`, ...) at given due times; each firing records, in its persisted
// state, the timer's index and its delay (receive time minus due time), and
// tells an in-process listener if one is set (the bench without kills).

import { defineAgent } from "../../actors/index.js";

export type TimerBenchMsg = { op: "arm"; dues: number[] } | { op: "fire"; i: number; due: number };

/** What the agent's state holds: per firing, [timer index, delay ms]. */
export interface TimerBenchState {
  fired: Array<[number, number]>;
}

/** Hears each firing in this process (the agent's key, the timer's index, its delay). */
let listener: ((key: string, i: number, delayMs: number) => void) | undefined;

/** Set (or clear) the in-process listener. */
export function onTimerFired(l: typeof listener): void {
  listener = l;
}

export const TIMER_BENCH_TYPE = "timerbench";

export const timerBenchAgent = defineAgent({
  type: TIMER_BENCH_TYPE,
  state: (): TimerBenchState => ({ fired: [] }),
  receive(msg: TimerBenchMsg, ctx) {
    if (msg.op === "arm") {
      msg.dues.forEach((due, i) => ctx.schedule(`t${i}`, { at: due }, { op: "fire", i, due }));
      return null;
    }
    const delay = Date.now() - msg.due;
    ctx.state.fired.push([msg.i, delay]);
    listener?.(ctx.key, msg.i, delay);
    return null;
  },
});
