// The journal's reading of where a request stands (nextStep), and how a
// conversation is made to fit the agent's state (fitJournal).

import { describe, expect, it } from "vitest";
import { fitJournal, newJournal, nextStep, openRequest, toolCallIds, type Journal } from "./journal.js";
import type { ModelMessage } from "./model-client.js";

function call(id: string, name = "t"): { id: string; type: "function"; function: { name: string; arguments: string } } {
  return { id, type: "function", function: { name, arguments: "{}" } };
}

function journalWith(...messages: ModelMessage[]): Journal {
  const j = newJournal();
  openRequest(j, "r1", "go", 0, null);
  j.messages.push(...messages);
  return j;
}

describe("nextStep", () => {
  it("calls the model first, and after every tool call of the last answer has its result", () => {
    expect(nextStep(journalWith(), journalWith().request!)).toEqual({ kind: "model" });
    const j = journalWith({ role: "assistant", content: null, tool_calls: [call("a")] }, { role: "tool", tool_call_id: "a", content: "1" });
    expect(nextStep(j, j.request!)).toEqual({ kind: "model" });
  });

  it("runs the calls of the last answer that have no result, also when some of them have one", () => {
    const j = journalWith({ role: "assistant", content: null, tool_calls: [call("a"), call("b"), call("c")] }, { role: "tool", tool_call_id: "b", content: "2" });
    expect(nextStep(j, j.request!)).toEqual({ kind: "tools", calls: [call("a"), call("c")] });
  });

  it("counts only the results after the last answer: an earlier answer's result does not answer a later call", () => {
    const j = journalWith(
      { role: "assistant", content: null, tool_calls: [call("x")] },
      { role: "tool", tool_call_id: "x", content: "1" },
      { role: "assistant", content: null, tool_calls: [call("x")] },
    );
    expect(nextStep(j, j.request!)).toEqual({ kind: "tools", calls: [call("x")] });
  });

  it("is done when the last answer calls no tool", () => {
    const j = journalWith({ role: "assistant", content: "hi" });
    expect(nextStep(j, j.request!)).toEqual({ kind: "done", text: "hi" });
  });

  it("does not take an answer of an earlier request for this one's", () => {
    const j = newJournal();
    j.messages.push({ role: "user", content: "before" }, { role: "assistant", content: "old answer" });
    openRequest(j, "r2", "now", 0, null);
    expect(nextStep(j, j.request!)).toEqual({ kind: "model" });
  });

  it("lists the ids of the request's tool calls", () => {
    const j = journalWith({ role: "assistant", content: null, tool_calls: [call("a"), call("b")] }, { role: "tool", tool_call_id: "a", content: "" });
    expect([...toolCallIds(j, j.request!)]).toEqual(["a", "b"]);
  });
});

describe("fitJournal", () => {
  const size = (j: Journal): number => JSON.stringify(j.messages).length;

  it("drops the oldest whole exchanges until the journal fits, keeping the open request where it was", () => {
    const j = newJournal();
    for (let i = 0; i < 3; i++) j.messages.push({ role: "user", content: `q${i}` }, { role: "assistant", content: "x".repeat(100) });
    openRequest(j, "r", "now", 0, null);
    const limit = size(j) - 50;
    expect(fitJournal(j, limit, size)).toBe(true);
    expect(j.messages.map((m) => (m.role === "user" ? m.content : m.role))).toEqual(["q1", "assistant", "q2", "assistant", "now"]);
    expect(j.messages[j.request!.first]).toEqual({ role: "user", content: "now" });
  });

  it("says no when the open request alone is over the limit", () => {
    const j = newJournal();
    j.messages.push({ role: "user", content: "old" });
    openRequest(j, "r", "y".repeat(500), 0, null);
    expect(fitJournal(j, 100, size)).toBe(false);
    expect(j.messages).toEqual([{ role: "user", content: "y".repeat(500) }]);
  });
});
