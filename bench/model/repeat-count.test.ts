// The resume check's counting: repeats of finished tool calls, in-flight calls
// run again, model calls whose answer the journal held, and step intervals.

import { describe, expect, it } from "vitest";
import { countToolRepeats, journaledCallLengths, repeatedModelCalls, stepIntervals, type ToolEvent } from "./repeat-count.js";

const start = (key: string): ToolEvent => ({ key, phase: "start" });
const end = (key: string): ToolEvent => ({ key, phase: "end" });

describe("countToolRepeats", () => {
  it.each([
    { name: "nothing ran", events: [], want: { executions: 0, keys: 0, repeatedCompleted: 0, rerunInFlight: 0 } },
    { name: "each call once, finished", events: [start("a"), end("a"), start("b"), end("b")], want: { executions: 2, keys: 2, repeatedCompleted: 0, rerunInFlight: 0 } },
    {
      name: "the call in flight at the crash runs again with its key",
      events: [start("a"), end("a"), start("b"), start("b"), end("b"), start("c"), end("c")],
      want: { executions: 4, keys: 3, repeatedCompleted: 0, rerunInFlight: 1 },
    },
    { name: "a finished call runs again", events: [start("a"), end("a"), start("a"), end("a")], want: { executions: 2, keys: 1, repeatedCompleted: 1, rerunInFlight: 0 } },
    {
      name: "a finished call runs twice more",
      events: [start("a"), end("a"), start("a"), start("a")],
      want: { executions: 3, keys: 1, repeatedCompleted: 2, rerunInFlight: 0 },
    },
    { name: "an end without a start is ignored", events: [end("a"), start("a"), end("a")], want: { executions: 1, keys: 1, repeatedCompleted: 0, rerunInFlight: 0 } },
    { name: "a call that never finished and did not run again", events: [start("a")], want: { executions: 1, keys: 1, repeatedCompleted: 0, rerunInFlight: 0 } },
  ])("$name", ({ events, want }) => {
    expect(countToolRepeats(events)).toEqual(want);
  });
});

describe("model calls the journal had answered", () => {
  const journal = [{ role: "user" }, { role: "assistant" }, { role: "tool" }, { role: "assistant" }, { role: "tool" }];

  it("knows the length of each call whose answer is journaled, after the leading instructions", () => {
    expect([...journaledCallLengths(journal, 1)]).toEqual([2, 4]);
    expect([...journaledCallLengths(journal, 0)]).toEqual([1, 3]);
  });

  it("counts calls after the crash that asked for a journaled answer, and not the next one", () => {
    const journaled = journaledCallLengths(journal, 1);
    expect(repeatedModelCalls([6, 8, 10], journaled)).toBe(0);
    expect(repeatedModelCalls([4, 6, 8], journaled)).toBe(1);
    expect(repeatedModelCalls([2, 4, 6], journaled)).toBe(2);
  });
});

describe("stepIntervals", () => {
  it("is the time between consecutive calls", () => {
    expect(stepIntervals([10, 13, 20])).toEqual([3, 7]);
    expect(stepIntervals([5])).toEqual([]);
  });
});
