// defineSupervisor: a supervisor is an agent type whose work is starting,
// watching and restarting its children. Its spec is plain data, validated
// once here; the node runs it as an agent, so it has an id, shows in `ps`,
// and can itself be the child of another supervisor.

import type { NormalizedSupervisorSpec, SupervisorSpec } from "../supervisors/child-spec.js";
import { supervisorSpec } from "./specs.js";

/** A validated supervisor type, ready to be hosted by a node. */
export interface SupervisorType {
  readonly kind: "supervisor";
  readonly type: string;
  readonly spec: NormalizedSupervisorSpec;
}

/**
 * Define a supervisor type.
 *
 * @throws InvalidConfigError naming the bad field of the spec
 * @example
 * const team = defineSupervisor({
 *   type: "team",
 *   strategy: "one_for_all",
 *   intensity: 3, periodMs: 5000,
 *   children: [
 *     { id: "planner", type: "planner", key: "p1" },
 *     { id: "w1", type: "worker", key: "w1", restart: "transient" },
 *   ],
 * });
 */
export function defineSupervisor(spec: SupervisorSpec): SupervisorType {
  const normalized = supervisorSpec(spec);
  return Object.freeze({ kind: "supervisor" as const, type: normalized.type, spec: normalized });
}
