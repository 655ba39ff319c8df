// The transcript read back from a journal: requests matched to their
// exchanges (failed ones have none, old ones lost their outcome), log lines
// placed after the tool call they are about, hostile text cleaned and cut.

import { describe, expect, it } from "vitest";
import { newJournal, type Journal } from "../runtime/model/journal.js";
import type { ModelMessage } from "../runtime/model/model-client.js";
import { journalOf, NotAConversationError, TRANSCRIPT_WIDTH, transcriptJson, transcriptOf, transcriptText } from "./transcript-view.js";

const call = (id: string, name: string, args: unknown): ModelMessage => ({
  role: "assistant",
  content: null,
  tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }],
});
const usage = (n: number) => ({ inputTokens: n, outputTokens: n });

function journal(): Journal {
  const j = newJournal();
  j.messages.push(
    // an exchange whose outcome is no longer kept
    { role: "user", content: "old" },
    { role: "assistant", content: "old answer" },
    // r2: two calls of one tool, each approved or denied
    { role: "user", content: "pay twice" },
    call("c1", "pay", { to: "a" }),
    { role: "tool", tool_call_id: "c1", content: '{"paid":"a"}' },
    call("c2", "pay", { to: "b" }),
    { role: "tool", tool_call_id: "c2", content: '{"error":"a person denied this call: no"}' },
    { role: "assistant", content: "paid a, not b" },
    // r4 is open and waits
    { role: "user", content: "pay c" },
    call("c3", "pay", { to: "c" }),
  );
  j.outcomes.push(
    { id: "r1", error: { name: "ModelError", code: "MODEL_ERROR", message: "context too long" } },
    { id: "r2", value: { text: "paid a, not b", usage: usage(10), steps: 3 } },
    { id: "r3", error: { name: "BudgetExceededError", code: "BUDGET_EXCEEDED", message: "over budget" } },
  );
  j.request = { id: "r4", first: 8, startedAt: 0, inputTokens: 5, outputTokens: 1, modelCalls: 1, approved: [], approval: { id: "ap3", toolCallId: "c3", tool: "pay", args: { to: "c" }, deadline: 1_000 }, channel: null };
  j.log.push(
    { at: 1, request: "r0", event: "tool_refused", tool: "rm", refusal: "unknown_tool", error: "no such tool" },
    { at: 2, request: "r1", event: "model_error", error: "context too long" },
    { at: 3, request: "r2", event: "approval_requested", approval: "ap1", tool: "pay", args: { to: "a" } },
    { at: 4, request: "r2", event: "approved", approval: "ap1", tool: "pay", by: "alice" },
    { at: 5, request: "r2", event: "approval_requested", approval: "ap2", tool: "pay", args: { to: "b" } },
    { at: 6, request: "r2", event: "denied", approval: "ap2", tool: "pay", by: "bob", reason: "no" },
    { at: 7, request: "r3", event: "budget_exceeded", error: "over budget" },
    { at: 8, request: "r4", event: "approval_requested", approval: "ap3", tool: "pay", args: { to: "c" } },
  );
  j.spent = { tokens: 42, modelCalls: 5, wallMs: 3_000 };
  return j;
}

describe("transcriptOf", () => {
  it("puts requests in order: earlier exchanges, earlier log-only requests, then the kept outcomes and the open request", () => {
    const t = transcriptOf("bot/1", journal());
    expect(t.requests.map((r) => [r.id, r.status])).toEqual([
      [null, "earlier"],
      ["r0", "earlier"],
      ["r1", "failed"],
      ["r2", "done"],
      ["r3", "failed"],
      ["r4", "open"],
    ]);
    expect(t.requests[0]!.entries).toEqual([
      { kind: "user", text: "old" },
      { kind: "assistant", text: "old answer" },
    ]);
    expect(t.requests[3]).toMatchObject({ usage: usage(10), steps: 3 });
    expect(t.requests[5]).toMatchObject({ usage: { inputTokens: 5, outputTokens: 1 }, steps: 1 });
    expect(t.waiting).toMatchObject({ id: "ap3", tool: "pay" });
  });

  it("places each approval after the call it is about, even when one tool is called twice", () => {
    const r2 = transcriptOf("bot/1", journal()).requests[3]!;
    const shown = r2.entries.map((e) => (e.kind === "log" ? `${e.entry.event}:${String(e.entry.approval)}` : e.kind === "tool_call" ? `call:${e.id}` : e.kind === "tool_result" ? `result:${e.id}` : e.kind));
    expect(shown).toEqual(["user", "call:c1", "approval_requested:ap1", "approved:ap1", "result:c1", "call:c2", "approval_requested:ap2", "denied:ap2", "result:c2", "assistant"]);
    expect(r2.entries[1]).toEqual({ kind: "tool_call", id: "c1", name: "pay", args: { to: "a" } });
    expect(r2.entries[4]).toEqual({ kind: "tool_result", id: "c1", name: "pay", result: { paid: "a" } });
  });

  it("refuses a state that is not a conversation", () => {
    expect(() => journalOf("counter/c1", { count: 1 })).toThrow(NotAConversationError);
    expect(() => journalOf("counter/c1", { count: 1 })).toThrow("counter/c1 is not a model agent (its state is not a conversation)");
    expect(journalOf("bot/1", newJournal())).toEqual(newJournal());
  });
});

describe("transcriptText", () => {
  it("prints one line per message and log line, with the usage", () => {
    const text = transcriptText(transcriptOf("bot/1", journal())).join("\n");
    expect(text).toContain("request r2: done, 3 model calls, 10 input + 10 output tokens\n  user       pay twice\n  tool call  pay({\"to\":\"a\"})\n  event      approval ap1 requested for pay({\"to\":\"a\"})\n  event      approval ap1 approved by alice\n  result     pay: {\"paid\":\"a\"}");
    expect(text).toContain("  event      approval ap2 denied by bob: no");
    expect(text).toContain("request r1: failed, ModelError: context too long\n  event      model error: context too long");
    expect(text).toContain("request r3: failed, BudgetExceededError: over budget\n  event      stopped by its budget: over budget");
    expect(text).toContain("request r0 (its outcome is no longer kept)\n  event      tool call rm refused (unknown_tool): no such tool");
    expect(text).toContain("request r4: in progress, 1 model call, 5 input + 1 output tokens so far");
    expect(text).toMatch(/\nusage: 42 tokens, 5 model calls, 3s wall time over the finished requests$/);
  });

  it("cuts long text to a line and shows control characters as ?, while --json keeps the text whole", () => {
    const j = newJournal();
    const long = `${"x".repeat(300)}`;
    j.messages.push({ role: "user", content: "line one\nline two \u001b[31mred" }, { role: "assistant", content: long });
    j.outcomes.push({ id: "r1", value: { text: long, usage: usage(1), steps: 1 } });
    const lines = transcriptText(transcriptOf("bot/1", j));
    expect(lines).toContain("  user       line one line two ?[31mred");
    const answer = lines.find((l) => l.startsWith("  assistant"))!;
    expect(answer).toBe(`  assistant  ${"x".repeat(TRANSCRIPT_WIDTH - 1)}…`);
    const json = transcriptJson(transcriptOf("bot/1", j)) as { requests: Array<{ entries: Array<{ text?: string }> }> };
    expect(json.requests[0]!.entries[1]!.text).toBe(long);
  });

  it("says when there is nothing yet", () => {
    expect(transcriptText(transcriptOf("bot/1", newJournal()))).toEqual(["conversation of bot/1", "", "no requests yet", "", "usage: 0 tokens, 0 model calls, 0ms wall time over the finished requests"]);
  });
});
