// The line of one event in `agentctl events`: time, kind, agent, node, then
// the key fields of its kind, in order; text from the wire shown with its
// control characters escaped; colour only when the caller asks for it.

import { describe, expect, it } from "vitest";
import { EVENT_KINDS, EventKind, type TroupeEvent } from "../actors/index.js";
import { formatEventLine, safeText, wantsColour } from "./event-line.js";

const AT = Date.UTC(2026, 0, 2, 10, 0, 0, 0);
const TIME = "2026-01-02T10:00:00.000Z";

/** An event of `kind` about counter/c1 on node-a, with `fields`. */
function ev(kind: EventKind, fields: Record<string, unknown> = {}): TroupeEvent {
  return { kind, id: "counter/c1", node: "node-a", at: AT, ...fields };
}

/** What follows `time  kind  agent  node` for each kind, from an event carrying its fields and one that is not shown. */
const ROWS: Array<[EventKind, Record<string, unknown>, string]> = [
  [EventKind.Lifecycle, { from: "running", to: "failed", reason: "boom" }, "running→failed  reason=boom"],
  [EventKind.InvalidMessage, { reason: "too large", sender: "client:x" }, 'reason="too large"  sender=client:x'],
  [EventKind.Fenced, { reason: "newer activation" }, 'reason="newer activation"'],
  [EventKind.ChildStarted, { supervisor: "root" }, "supervisor=root"],
  [EventKind.ChildFailed, { reason: "boom", messageType: "inc", restartCount: 2, supervisor: "root" }, "reason=boom  messageType=inc  restartCount=2  supervisor=root"],
  [EventKind.ChildRestarted, { attempt: 3, delayMs: 200 }, "attempt=3  delayMs=200"],
  [EventKind.MaxIntensity, { supervisor: "root", intensity: 10, periodMs: 10000 }, "supervisor=root  intensity=10  periodMs=10000"],
  [EventKind.ChildStopped, { reason: "normal", supervisor: "root" }, "reason=normal  supervisor=root"],
  [EventKind.Failover, { from: "node-b" }, "from=node-b"],
  [EventKind.AgentError, { where: "onStop", reason: "threw" }, "where=onStop  reason=threw"],
  [EventKind.InvalidEntry, { bucket: "registry", key: "counter.c1", reason: "bad", revision: 4 }, "bucket=registry  key=counter.c1  reason=bad"],
  [EventKind.NameLost, { instance: "i-2" }, "instance=i-2"],
  [EventKind.FailoverFailed, { phase: "adopt", agent: "counter/c2", error: "timeout" }, "phase=adopt  agent=counter/c2  error=timeout"],
  [EventKind.SupervisorError, { supervisor: "sup/s1", job: "restart", error: "threw" }, "supervisor=sup/s1  job=restart  error=threw"],
  [EventKind.Activated, {}, ""],
  [EventKind.HandedOver, { to: "node-b" }, "to=node-b"],
  [EventKind.Passivated, { idleMs: 30000 }, "idleMs=30000"],
  [EventKind.PermissionDenied, { operation: "message", target: "orders/o1" }, "operation=message  target=orders/o1"],
  [EventKind.ToolRefused, { tool: "refund", refusal: "schema", error: "amount missing", request: "r1" }, 'tool=refund  refusal=schema  error="amount missing"'],
  [EventKind.ApprovalRequested, { tool: "refund", approval: "a1", deadline: 1700000000000, args: { amount: 5 } }, "tool=refund  approval=a1  deadline=1700000000000"],
  [EventKind.ApprovalDecided, { tool: "refund", decision: "deny", by: "ops", reason: "too much" }, 'tool=refund  decision=deny  by=ops  reason="too much"'],
  [EventKind.ApprovalTimeout, { tool: "refund", reason: "no answer" }, 'tool=refund  reason="no answer"'],
  [EventKind.BudgetExceeded, { scope: "request", limit: "tokens", allowed: 1000, spent: 1200 }, "scope=request  limit=tokens  allowed=1000  spent=1200"],
];

describe("formatEventLine", () => {
  it("has a row here for every kind", () => {
    expect(ROWS.map((r) => r[0]).sort()).toEqual([...EVENT_KINDS].sort());
  });

  it.each(ROWS)("%s: time, kind, agent, node, then its key fields in order", (kind, fields, tail) => {
    const line = formatEventLine(ev(kind, { ...fields, unshown: "nope" }));
    expect(line).toBe([TIME, kind.padEnd(18), "counter/c1", "node-a", ...(tail === "" ? [] : [tail])].join("  "));
    expect(line).not.toContain("unshown");
  });

  it("leaves out fields that are missing or null, and quotes empty strings and ones with spaces, quotes or '='", () => {
    expect(formatEventLine(ev(EventKind.ChildFailed, { reason: "", restartCount: null }))).toBe(`${TIME}  ${"child_failed".padEnd(18)}  counter/c1  node-a  reason=""`);
    expect(formatEventLine(ev(EventKind.Fenced, { reason: 'a"b' }))).toContain('reason="a\\"b"');
    expect(formatEventLine(ev(EventKind.Fenced, { reason: "k=v" }))).toContain('reason="k=v"');
    expect(formatEventLine(ev(EventKind.ChildFailed, { reason: { code: "E" } }))).toContain('reason={"code":"E"}');
  });

  it("escapes control characters from the wire in the agent, node and fields: nothing reaches the terminal raw", () => {
    const hostile = ev(EventKind.ChildFailed, { reason: "boom\u001b[2J\r\nfake line", supervisor: "root\u0007" });
    hostile.id = "counter/c\u001b]0;title\u0007";
    hostile.node = "node\u009b31m";
    const line = formatEventLine(hostile);
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain("counter/c\\u001b]0;title\\u0007");
    expect(line).toContain("node\\u009b31m");
    expect(line).toContain("\\u001b[2J\\r\\nfake line");
    expect(line).toContain("supervisor=root\\u0007");
  });

  it("cuts a long field, so one event is one line of bounded length", () => {
    const line = formatEventLine(ev(EventKind.AgentError, { where: "x", reason: "r".repeat(5000) }));
    expect(line.length).toBeLessThan(400);
    expect(line).toMatch(/r…$/);
  });

  it("an event time that is no number is shown as it came", () => {
    expect(formatEventLine({ ...ev(EventKind.Activated), at: Number.NaN })).toMatch(/^NaN {2}activated/);
    // A number no Date can hold: shown as it came, not thrown (a throw would end `agentctl events`).
    expect(formatEventLine({ ...ev(EventKind.Activated), at: 1e20 })).toMatch(/^100000000000000000000 {2}activated/);
  });

  it("has no escape codes unless colour is asked for; with colour, failures are red and starts green", () => {
    const failed = ev(EventKind.ChildFailed, { reason: "boom" });
    expect(formatEventLine(failed)).not.toContain("\u001b[");
    expect(formatEventLine(failed, { colour: false })).not.toContain("\u001b[");
    const red = formatEventLine(failed, { colour: true });
    expect(red).toContain(`\u001b[31m${"child_failed".padEnd(18)}\u001b[39m`);
    expect(formatEventLine(ev(EventKind.ChildStarted), { colour: true })).toContain(`\u001b[32m${"child_started".padEnd(18)}\u001b[39m`);
    // Colour takes nothing away: without the escape codes, the same line.
    // eslint-disable-next-line no-control-regex
    expect(red.replace(/\u001b\[\d+m/g, "")).toBe(formatEventLine(failed));
  });
});

describe("wantsColour", () => {
  it("on a terminal unless NO_COLOR is set to something; never into a pipe", () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
  });
});

describe("safeText", () => {
  it("escapes C0, DEL and C1 controls and keeps other text", () => {
    expect(safeText("a\u0000b\u007fc\u0085d é ✓")).toBe("a\\u0000b\\u007fc\\u0085d é ✓");
    expect(safeText("abcdef", 4)).toBe("abc…");
  });
});
