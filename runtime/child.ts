// What a supervisor knows of a child: the narrow face of an agent host. A
// supervisor starts, restarts, stops, kills and gives up on children through
// it, and is told when one ends on its own; it never reaches into a host.

import type { LifecycleState } from "./lifecycle.js";
import type { AgentId } from "./subjects.js";

/** Why an activation ended on its own. */
export type ChildEnd =
  | { kind: "normal" }
  | { kind: "failure"; reason: string; messageType: string | null }
  | { kind: "fenced" };

/** How an activation ended, and which one it was (1 for the first start, then 2, ...). */
export type ChildExit = ChildEnd & { activation: number };

/** A supervisor, as its children see it: told when an activation ends on its own. */
export interface Parent {
  readonly id: string;
  childExited(child: Child, exit: ChildExit): void;
}

/** A row of `node.list()` / `agentctl ps`. */
export interface ChildInfo {
  id: AgentId;
  type: string;
  key: string;
  node: string;
  state: LifecycleState;
  supervisor: string;
  startedAt: number;
  uptimeMs: number;
  handled: number;
  failures: number;
  restarts: number;
  mailbox: number;
  /** Bytes (encoded) waiting in the mailbox. */
  mailboxBytes: number;
  rejected: number;
  /** Asks that came without a reply subject: handled as tells, nobody to answer. */
  asksWithoutReply: number;
  /** Failures no caller could be told about, each published as an `agent_error` event. */
  errors: number;
  /** The 99th percentile of its handling times over the last 30–60 s, in ms (within 25%); null when it handled nothing then. */
  handlingP99Ms: number | null;
}

/** One supervised agent, as its supervisor drives it. */
export interface Child {
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  /** Where its current activation is in its lifecycle. */
  readonly state: LifecycleState;
  /** The number of its current (or last) activation: 1 for the first start, then one more for each. */
  readonly activation: number;
  /** Start an activation; a failing start is reported to the parent (unless `report: false`) and rejects. */
  start(options?: { report?: boolean }): Promise<void>;
  /** End the activation for a restart ordered by the supervisor (within `shutdownMs`); the mailbox waits for the next one. */
  prepareRestart(shutdownMs: number): Promise<void>;
  /** Stop for good within `shutdownMs`, then kill what is left. */
  stop(shutdownMs: number, why?: string): Promise<void>;
  /** Fail now with `reason` (agentctl kill, a supervisor past its intensity). */
  failNow(reason: string): void;
  /** Given up on: it stays failed, stops listening, and what waits is answered. */
  abandon(): Promise<void>;
  /** Its supervisor's count of its restarts, shown in `ps`. */
  recordRestarts(count: number): void;
  info(): ChildInfo;
}
