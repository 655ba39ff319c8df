// The arithmetic of the `model` scenario's resume check, kept pure so it is
// tested on its own: which tool executions repeated one that had finished,
// which ran again a call that was in flight at the crash, which model calls
// after the crash asked for an answer the journal already held, and the time
// between consecutive model calls of one conversation (one step of the loop).

/** What a tool reported about one of its executions, in the order reported. */
export interface ToolEvent {
  /** The call's idempotency key. */
  key: string;
  phase: "start" | "end";
}

/** How the tool executions of a run went, by idempotency key. */
export interface ToolRepeats {
  /** Executions in all. */
  executions: number;
  /** Distinct idempotency keys. */
  keys: number;
  /** Executions that started after an execution with the same key had finished (the goal is 0). */
  repeatedCompleted: number;
  /** Keys whose first execution never finished and that ran again (a call in flight at the crash, run again with its key). */
  rerunInFlight: number;
}

/**
 * Count repeats among tool executions. An `end` closes the oldest open
 * execution of its key; an `end` without one is ignored.
 *
 * @example
 * countToolRepeats([{ key: "a", phase: "start" }, { key: "a", phase: "end" }, { key: "a", phase: "start" }])
 * // { executions: 2, keys: 1, repeatedCompleted: 1, rerunInFlight: 0 }
 */
export function countToolRepeats(events: readonly ToolEvent[]): ToolRepeats {
  /** Per key: executions open, whether one finished, how many started, and whether the first finished before another started. */
  const byKey = new Map<string, { open: number; finished: boolean; starts: number; firstFinished: boolean }>();
  let executions = 0;
  let repeatedCompleted = 0;
  for (const e of events) {
    let k = byKey.get(e.key);
    if (e.phase === "start") {
      executions++;
      if (!k) {
        k = { open: 0, finished: false, starts: 0, firstFinished: false };
        byKey.set(e.key, k);
      }
      if (k.finished) repeatedCompleted++;
      k.open++;
      k.starts++;
    } else if (k && k.open > 0) {
      if (!k.finished && k.starts === 1) k.firstFinished = true;
      k.open--;
      k.finished = true;
    }
  }
  let rerunInFlight = 0;
  for (const k of byKey.values()) if (k.starts > 1 && !k.firstFinished) rerunInFlight++;
  return { executions, keys: byKey.size, repeatedCompleted, rerunInFlight };
}

/**
 * The lengths (in messages, as sent to the model) of the model calls whose
 * answers a journal's conversation holds: the call that produced the
 * assistant message at index i was sent the `leading` messages the agent puts
 * first (1 for its instructions) and the i messages before it.
 */
export function journaledCallLengths(messages: readonly { role: string }[], leading: number): Set<number> {
  const lengths = new Set<number>();
  messages.forEach((m, i) => {
    if (m.role === "assistant") lengths.add(leading + i);
  });
  return lengths;
}

/** Model calls made after a crash that asked again for an answer the journal already held (the goal is 0). */
export function repeatedModelCalls(lengthsAfterCrash: readonly number[], journaled: ReadonlySet<number>): number {
  return lengthsAfterCrash.filter((n) => journaled.has(n)).length;
}

/** The times between consecutive model calls of one conversation: one step of the loop each (a model answer, its tool call, the next call). */
export function stepIntervals(arrivals: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < arrivals.length; i++) out.push(arrivals[i]! - arrivals[i - 1]!);
  return out;
}
