// Control requests between nodes (and from agentctl): spawn, activate, stop,
// kill, fence, list, tree. They arrive from the wire, so the body of a `system`
// envelope is checked field by field here before a node acts on it. `list`
// asks for one page of a node's agents, in agent-id order, after a given id.

import { RestartType } from "../supervisors/strategy.js";
import { InvalidArgumentError } from "./errors.js";
import type { Takeover } from "./registry.js";
import { parseAgentId, validateToken, type AgentId, type Subjects } from "./subjects.js";

/** A control request, checked. */
export type Control =
  | { op: "spawn"; type: string; key: string; args?: unknown; supervisor?: string; restart?: RestartType; shutdownMs?: number; takeover?: Takeover }
  | { op: "activate"; type: string; key: string }
  | { op: "stop"; id: AgentId }
  | { op: "kill"; id: AgentId; reason?: string }
  | { op: "fence"; id: AgentId }
  | ListRequest
  | { op: "tree" };

/**
 * A request for one page of a node's agents: those whose id sorts after
 * `after` (code-unit order), at most `limit` of them, fewer when the page
 * would not fit one message. Without `after`, the first page.
 */
export interface ListRequest {
  op: "list";
  after?: AgentId;
  limit?: number;
}

/** The most agents one list page may be asked for (a page is also bounded by the message size). */
export const MAX_LIST_LIMIT = 10_000;

/** The operations a node answers. */
export const ControlOp = ["spawn", "activate", "stop", "kill", "fence", "list", "tree"] as const;

/**
 * The subjects a node takes requests on (each a lane: `ctl`, `info`, `spawn`,
 * `activate`), and the operations each takes. They are apart so that a
 * credential can be granted one and not the others: every client may
 * activate, an observer may list, only nodes and admins may spawn, stop, kill
 * or fence. Every lane but `info` names an agent type, and takes requests
 * about agents of that type only, so that a credential narrowed to types may
 * act only on its types' agents.
 */
export const ControlLane = {
  /** `troupe.<ns>.node.<id>.ctl.<type>`: what changes a node's agents of one type. */
  Control: "ctl",
  /** `troupe.<ns>.node.<id>.info`: reads. */
  Info: "info",
  /** `troupe.<ns>.pool.<type>.spawn`: placement of a spawn. */
  Spawn: "spawn",
  /** `troupe.<ns>.pool.<type>.activate`: on-demand activation. */
  Activate: "activate",
} as const;
export type ControlLane = (typeof ControlLane)[keyof typeof ControlLane];

const LANE_OPS: Record<ControlLane, ReadonlySet<Control["op"]>> = {
  [ControlLane.Control]: new Set(["spawn", "stop", "kill", "fence"]),
  [ControlLane.Info]: new Set(["list", "tree"]),
  [ControlLane.Spawn]: new Set(["spawn"]),
  [ControlLane.Activate]: new Set(["activate"]),
};

/** Where a request came in: its lane and, on a subject that names one, the agent type it takes requests for. */
export interface ControlRoute {
  lane: ControlLane;
  type?: string;
}

/** The route of a node's control, info or pool subject, or undefined for any other subject. */
export function routeOf(subjects: Subjects, subject: string): ControlRoute | undefined {
  const parsed = subjects.parseNodeRequest(subject);
  if (parsed === undefined || !Object.hasOwn(LANE_OPS, parsed.lane)) return undefined;
  return parsed.type === undefined ? { lane: parsed.lane as ControlLane } : { lane: parsed.lane as ControlLane, type: parsed.type };
}

/** The agent type a request acts on; undefined for the requests about a whole node (list, tree). */
export function typeOf(c: Control): string | undefined {
  switch (c.op) {
    case "spawn":
    case "activate":
      return c.type;
    case "stop":
    case "kill":
    case "fence":
      return parseAgentId(c.id).type;
    case "list":
    case "tree":
      return undefined;
  }
}

/**
 * Throw InvalidArgumentError when `c` is not taken on `route`: an operation
 * sent to a lane that does not take it (a kill sent to a read-only subject,
 * say), or a request about an agent of another type than the subject names.
 */
export function checkRoute(c: Control, route: ControlRoute | undefined): void {
  if (route === undefined || !LANE_OPS[route.lane].has(c.op)) {
    const where = route === undefined ? "this subject" : `".${route.lane}" subjects`;
    const right = (Object.keys(LANE_OPS) as ControlLane[]).find((l) => LANE_OPS[l].has(c.op) && l !== ControlLane.Spawn);
    throw new InvalidArgumentError("op", `"${c.op}" is not taken on ${where}${right ? ` (send it to the ".${right}" subject)` : ""}`);
  }
  const type = typeOf(c);
  if (route.type !== undefined && type !== route.type) {
    const right = route.lane === ControlLane.Control ? `".${route.lane}.${type}"` : `"pool.${type}.${route.lane}"`;
    throw new InvalidArgumentError(
      "type",
      `"${c.op}" of a ${JSON.stringify(type)} agent is not taken on a subject of agent type ${JSON.stringify(route.type)} (send it to the ${right} subject)`,
    );
  }
}

/** Longest kill reason carried (it ends up in events and dead letters). */
const MAX_REASON = 1024;

/**
 * Check a decoded control body and return it typed; anything else is an
 * InvalidArgumentError naming the field.
 */
export function decodeControl(body: unknown): Control {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidArgumentError("op", "a control request is an object with an `op`");
  }
  const c = body as Record<string, unknown>;
  switch (c.op) {
    case "spawn": {
      const spawn: Extract<Control, { op: "spawn" }> = {
        op: "spawn",
        type: validateToken("agent type", c.type as string),
        key: validateToken("agent key", c.key as string),
      };
      if (c.args !== undefined) spawn.args = c.args;
      if (c.supervisor !== undefined && c.supervisor !== null) spawn.supervisor = agentIdField("supervisor", c.supervisor);
      if (c.restart !== undefined && c.restart !== null) {
        if (!Object.values(RestartType).includes(c.restart as RestartType)) {
          throw new InvalidArgumentError("restart", `restart must be one of ${Object.values(RestartType).join(", ")}, got ${JSON.stringify(c.restart)}`);
        }
        spawn.restart = c.restart as RestartType;
      }
      if (c.shutdownMs !== undefined && c.shutdownMs !== null) {
        if (typeof c.shutdownMs !== "number" || !Number.isFinite(c.shutdownMs) || c.shutdownMs < 0) {
          throw new InvalidArgumentError("shutdownMs", `shutdownMs must be a non-negative number, got ${JSON.stringify(c.shutdownMs)}`);
        }
        spawn.shutdownMs = c.shutdownMs;
      }
      if (c.takeover !== undefined && c.takeover !== null) spawn.takeover = takeoverField(c.takeover);
      return spawn;
    }
    case "activate":
      return { op: "activate", type: validateToken("agent type", c.type as string), key: validateToken("agent key", c.key as string) };
    case "stop":
    case "fence":
      return { op: c.op, id: agentIdField("id", c.id) };
    case "kill": {
      const kill: Extract<Control, { op: "kill" }> = { op: "kill", id: agentIdField("id", c.id) };
      if (c.reason !== undefined && c.reason !== null) {
        if (typeof c.reason !== "string") throw new InvalidArgumentError("reason", "a kill reason is a string");
        kill.reason = c.reason.length > MAX_REASON ? `${c.reason.slice(0, MAX_REASON - 1)}…` : c.reason;
      }
      return kill;
    }
    case "list":
      return listRequest(c);
    case "tree":
      return { op: c.op };
    default: {
      const op = typeof c.op === "string" && c.op.length <= 32 ? JSON.stringify(c.op) : "missing or malformed";
      throw new InvalidArgumentError("op", `unknown control operation ${op} (one of ${ControlOp.join(", ")})`);
    }
  }
}

/** A handed-over claim: the node that let go of the agent, and its claim's revision. */
function takeoverField(value: unknown): Takeover {
  const t = value as { node?: unknown; revision?: unknown } | null;
  if (t === null || typeof t !== "object" || Array.isArray(t)) throw new InvalidArgumentError("takeover", "takeover is { node, revision }");
  if (typeof t.node !== "string") throw new InvalidArgumentError("takeover.node", "takeover.node must be a node id");
  validateToken("node id", t.node);
  if (typeof t.revision !== "number" || !Number.isSafeInteger(t.revision) || t.revision < 1) {
    throw new InvalidArgumentError("takeover.revision", `takeover.revision must be a positive whole number, got ${JSON.stringify(t.revision)}`);
  }
  return { node: t.node, revision: t.revision };
}

/** A list request: `after` an agent id, `limit` a bounded whole number. */
function listRequest(c: Record<string, unknown>): ListRequest {
  const list: ListRequest = { op: "list" };
  if (c.after !== undefined && c.after !== null) list.after = agentIdField("after", c.after);
  if (c.limit !== undefined && c.limit !== null) {
    if (typeof c.limit !== "number" || !Number.isInteger(c.limit) || c.limit < 1 || c.limit > MAX_LIST_LIMIT) {
      const shown = typeof c.limit === "number" ? String(c.limit) : typeof c.limit;
      throw new InvalidArgumentError("limit", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${shown}`);
    }
    list.limit = c.limit;
  }
  return list;
}

function agentIdField(field: string, value: unknown): AgentId {
  if (typeof value !== "string") throw new InvalidArgumentError(field, `${field} must be an agent id (TYPE/KEY)`);
  parseAgentId(value);
  return value as AgentId;
}
