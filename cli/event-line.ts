// One readable line per event, for `agentctl events` (and any view that shows
// events: the dashboard and top may reuse it): time, kind, agent, node, then
// the kind's key fields. Colour only when asked (the caller decides: a TTY and
// no NO_COLOR). Every text comes from the wire: control characters are shown
// escaped, so an event cannot move the cursor or recolour the terminal.

import { styleText } from "node:util";
import { EventKind, type TroupeEvent } from "../actors/index.js";

/** The fields worth a place on the line, per kind, in order. */
const KEY_FIELDS: Record<EventKind, readonly string[]> = {
  [EventKind.Lifecycle]: ["reason"],
  [EventKind.InvalidMessage]: ["reason", "sender"],
  [EventKind.Fenced]: ["reason"],
  [EventKind.ChildStarted]: ["supervisor"],
  [EventKind.ChildFailed]: ["reason", "messageType", "restartCount", "supervisor"],
  [EventKind.ChildRestarted]: ["attempt", "delayMs"],
  [EventKind.MaxIntensity]: ["supervisor", "intensity", "periodMs"],
  [EventKind.ChildStopped]: ["reason", "supervisor"],
  [EventKind.Failover]: ["from"],
  [EventKind.AgentError]: ["where", "reason"],
  [EventKind.InvalidEntry]: ["bucket", "key", "reason"],
  [EventKind.NameLost]: ["instance"],
  [EventKind.FailoverFailed]: ["phase", "agent", "error"],
  [EventKind.SupervisorError]: ["supervisor", "job", "error"],
  [EventKind.Activated]: [],
  [EventKind.HandedOver]: ["to"],
  [EventKind.Passivated]: ["idleMs"],
  [EventKind.PermissionDenied]: ["operation", "target"],
  [EventKind.ToolRefused]: ["tool", "refusal", "error"],
  [EventKind.ApprovalRequested]: ["tool", "approval", "deadline"],
  [EventKind.ApprovalDecided]: ["tool", "decision", "by", "reason"],
  [EventKind.ApprovalTimeout]: ["tool", "reason"],
  [EventKind.BudgetExceeded]: ["scope", "limit", "allowed", "spent"],
};

type Tone = "red" | "yellow" | "green" | "dim";

/** How each kind is coloured: failures red, recoveries and hand-offs yellow, starts green, routine dim. */
const TONE: Record<EventKind, Tone> = {
  [EventKind.Lifecycle]: "dim",
  [EventKind.InvalidMessage]: "red",
  [EventKind.Fenced]: "red",
  [EventKind.ChildStarted]: "green",
  [EventKind.ChildFailed]: "red",
  [EventKind.ChildRestarted]: "yellow",
  [EventKind.MaxIntensity]: "red",
  [EventKind.ChildStopped]: "dim",
  [EventKind.Failover]: "yellow",
  [EventKind.AgentError]: "red",
  [EventKind.InvalidEntry]: "red",
  [EventKind.NameLost]: "red",
  [EventKind.FailoverFailed]: "red",
  [EventKind.SupervisorError]: "red",
  [EventKind.Activated]: "green",
  [EventKind.HandedOver]: "yellow",
  [EventKind.Passivated]: "dim",
  [EventKind.PermissionDenied]: "red",
  [EventKind.ToolRefused]: "red",
  [EventKind.ApprovalRequested]: "yellow",
  [EventKind.ApprovalDecided]: "yellow",
  [EventKind.ApprovalTimeout]: "red",
  [EventKind.BudgetExceeded]: "red",
};

/** Longest text of one field on the line. */
const MAX_FIELD = 160;

/** Whether output to `stream` gets colour: a terminal, and NO_COLOR unset or empty. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

/** Text from the wire, safe for a terminal: control characters escaped, cut to `max` characters. */
export function safeText(text: string, max = MAX_FIELD): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return safeText(/[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value);
  try {
    return safeText(JSON.stringify(value) ?? String(value));
  } catch {
    return "?";
  }
}

/**
 * The line of one event: `2026-01-02T10:00:00.000Z  child_failed  counter/c1  node-a  reason="boom" restartCount=1`.
 * A lifecycle event shows its transition (`starting→running`).
 */
export function formatEventLine(e: TroupeEvent, options: { colour?: boolean } = {}): string {
  // An invalid date (NaN, or a number beyond a Date's range) is shown as it came: toISOString would throw.
  const date = new Date(e.at);
  const time = Number.isNaN(date.getTime()) ? String(e.at) : date.toISOString();
  const fields: string[] = [];
  if (e.kind === EventKind.Lifecycle) fields.push(`${fieldText(e.from)}→${fieldText(e.to)}`);
  for (const name of KEY_FIELDS[e.kind] ?? []) if (e[name] !== undefined && e[name] !== null) fields.push(`${name}=${fieldText(e[name])}`);
  const kind = e.kind.padEnd(18);
  // The caller has decided (wantsColour): styleText must not check process.stdout again, or colour asked for
  // by a view that writes elsewhere (or under a test) would silently be dropped.
  const paint = (tone: Tone, text: string): string => (options.colour ? styleText(tone, text, { validateStream: false }) : text);
  return [paint("dim", time), paint(TONE[e.kind] ?? "dim", kind), safeText(e.id), paint("dim", safeText(e.node)), ...fields].join("  ").trimEnd();
}
