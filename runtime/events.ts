// Lifecycle and supervision events, published on
// `troupe.<ns>.events.<kind>.<type>.<key>`. Publishing an event never throws
// into the agent that caused it.

import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import { encodeEnvelope, Kind } from "./envelope.js";
import type { Clock } from "./clock.js";
import { formatAgentId, type Subjects } from "./subjects.js";

/** The kinds of event Troupe publishes (the `<kind>` token of the subject). */
export const EventKind = {
  /** A lifecycle transition: `{ from, to, reason }`. */
  Lifecycle: "lifecycle",
  /** A message was rejected before it reached the agent (did not decode, too large, failed the schema, mailbox full). */
  InvalidMessage: "invalid_message",
  /** An agent's state write lost compare-and-set to a newer activation; this one stopped. */
  Fenced: "fenced",
  /** A child started under its supervisor. */
  ChildStarted: "child_started",
  /** A child failed: the crash report (supervisor, child, reason, messageType, restartCount). */
  ChildFailed: "child_failed",
  /** A child is being restarted: `{ attempt, delayMs }`. */
  ChildRestarted: "child_restarted",
  /** A supervisor (or the root, for one child) went past its restart intensity. */
  MaxIntensity: "max_intensity",
  /** A child stopped and will not be restarted. */
  ChildStopped: "child_stopped",
  /** An agent whose node is gone was started here: `{ from }` names the lost node. */
  Failover: "failover",
  /** A failure no caller could be told about (`onStop` threw, the subscription or lifecycle actor failed): `{ where, reason }`. */
  AgentError: "agent_error",
  /**
   * A node skipped an entry of the membership or registry bucket that does not decode or lacks a field:
   * `{ bucket, key, revision, reason }`. Published about `node/<node id>` of the node that found it.
   */
  InvalidEntry: "invalid_entry",
  /**
   * Another process took this node's name (its heartbeat entry was overwritten, e.g. after this
   * process stalled past the lapse window): the node fenced its agents and closed. About `node/<node id>`.
   */
  NameLost: "name_lost",
  /** Failover could not read the cluster or adopt an agent; it tries again next round: `{ phase, error, agent? }`. About `node/<node id>`. */
  FailoverFailed: "failover_failed",
  /**
   * A supervisor could not carry out a decision about the agent (stopping,
   * restarting or releasing it threw): `{ supervisor, job, error }`. The
   * supervisor goes on with its next decision.
   */
  SupervisorError: "supervisor_error",
  /** An on-demand agent was activated here by a message (the event's `node`). */
  Activated: "activated",
  /** A closing node handed the agent over: `{ to }` names the peer that took over its claim and runs it now. */
  HandedOver: "handed_over",
  /** An on-demand agent was passivated after `{ idleMs }` without a message: state committed, claim released. */
  Passivated: "passivated",
  /**
   * The agent tried what its type's `can` declaration does not grant and was refused with
   * PermissionDeniedError: `{ operation, target }` (`message` and an agent id, or
   * `memory.read` / `memory.write` and `bucket:key`).
   */
  PermissionDenied: "permission_denied",
  /**
   * A model agent refused a tool call of its model (an unknown tool, arguments that are not JSON or fail the
   * tool's schema, a target its `can` does not grant): `{ request, tool, refusal, error }`. The model was told.
   */
  ToolRefused: "tool_refused",
  /** A model agent's tool call waits for a person: `{ request, approval, tool, args, deadline }`. */
  ApprovalRequested: "approval_requested",
  /** A tool call's approval was answered: `{ request, approval, tool, decision, reason?, by }`. */
  ApprovalDecided: "approval_decided",
  /** Nobody answered an approval in time: the call was denied (`{ request, approval, tool, reason }`). */
  ApprovalTimeout: "approval_timeout",
  /** A model agent's request went past its budget and failed: `{ request, scope, limit, allowed, spent }`. */
  BudgetExceeded: "budget_exceeded",
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** What every event carries, plus kind-specific fields. */
export interface TroupeEvent {
  kind: EventKind;
  /** AgentId the event is about. */
  id: string;
  node: string;
  at: number;
  [field: string]: unknown;
}

/** Publishes events for one node. */
export class EventPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly nodeId: string,
    private readonly clock: Clock,
    private readonly maxBytes: number,
  ) {}

  /** Publish one event about agent `type/key`. */
  publish(kind: EventKind, type: string, key: string, fields: Record<string, unknown> = {}): void {
    // Object.assign, not `{ ...fields, kind, ... }`: on Node 20 a spread followed by new properties takes
    // V8's slow path (about 10 µs an event, the largest cost of spawning and stopping many agents).
    const event: TroupeEvent = Object.assign({}, fields, { kind, id: formatAgentId(type, key), node: this.nodeId, at: this.clock.now() });
    try {
      this.nc.publish(
        this.subjects.event(kind, type, key),
        encodeEnvelope(Kind.Event, nuid.next(), this.nodeId, null, event, this.maxBytes),
      );
    } catch {
      // A closed connection or an unencodable field must not hurt the agent.
    }
  }
}
