// The agent table of `agentctl ps` (and of the demo): one row per agent.

import type { AgentInfo } from "../actors/index.js";
import { formatDuration } from "./output.js";

/** Column headers of the agent table. */
export const AGENT_TABLE_HEADERS = ["ID", "NODE", "STATE", "UPTIME", "HANDLED", "RESTARTS"] as const;

/** The rows of the agent table, in the order given. */
export function agentRows(agents: readonly AgentInfo[]): string[][] {
  return agents.map((a) => [
    a.id,
    a.node,
    a.state,
    a.state === "running" || a.state === "awaitingApproval" ? formatDuration(a.uptimeMs) : "-",
    String(a.handled),
    String(a.restarts),
  ]);
}
