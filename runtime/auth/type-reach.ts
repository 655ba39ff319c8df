// What an agent type's `can` declaration lets it reach, in the form the role
// permissions take (roles.ts): the subjects a node credential issued for that
// type carries, so the server enforces the declaration too.

import { grantedTargets } from "../agent-grant.js";
import type { AgentType } from "../define-agent.js";
import type { SupervisorType } from "../define-supervisor.js";
import type { TypeReach } from "./roles.js";

/**
 * The reach of each type that declares `can`; a type without it is left out
 * (it may reach everything, and a credential for it is not narrowed).
 */
export function typeReaches(types: ReadonlyArray<AgentType | SupervisorType>): Map<string, TypeReach> {
  const reaches = new Map<string, TypeReach>();
  for (const t of types) {
    if (t.kind !== "agent" || t.grant === undefined) continue;
    const targets = grantedTargets(t.grant);
    reaches.set(t.type, {
      message: targets.messageTypes.includes("*") ? "*" : targets.messageTypes.filter((m) => m !== "*"),
      memoryRead: targets.memoryRead,
      memoryWrite: targets.memoryWrite,
    });
  }
  return reaches;
}
