// The children one instance of a supervisor type starts: a child key with
// `{key}` in it is derived from the instance's key (`{key}-w1` under team/t2
// is `t2-w1`), so each instance runs its own children; a fixed
// key names one agent in the namespace, which only one instance can run. A
// supervisor whose child (fixed or derived) already runs under another is
// refused with an error saying whose it is.

import type { NormalizedChildSpec } from "../supervisors/child-spec.js";
import { InvalidConfigError } from "./errors.js";
import type { Registry } from "./registry.js";
import { formatAgentId, parseAgentId, validateToken } from "./subjects.js";

/** The placeholder in a child key that stands for the supervisor instance's key. */
export const SUPERVISOR_KEY = "{key}";

/** `key` with every `{key}` replaced by `supervisorKey`. */
export function childKey(key: string, supervisorKey: string): string {
  return key.split(SUPERVISOR_KEY).join(supervisorKey);
}

/**
 * The child specs of the instance keyed `supervisorKey`: each `{key}` in a
 * child key replaced by it.
 *
 * @throws InvalidConfigError when a derived key is not a valid key (too long)
 * @example
 * supervisorChildren([{ id: "a", type: "worker", key: "{key}-a", ... }], "t2")[0].key // "t2-a"
 */
export function supervisorChildren(children: readonly NormalizedChildSpec[], supervisorKey: string): NormalizedChildSpec[] {
  return children.map((c, i) => {
    if (!c.key.includes(SUPERVISOR_KEY)) return c;
    const key = childKey(c.key, supervisorKey);
    try {
      validateToken(`children[${i}].key`, key);
    } catch {
      throw new InvalidConfigError(`children[${i}].key`, `${JSON.stringify(c.key)} under key ${JSON.stringify(supervisorKey)} makes ${JSON.stringify(key)}, not 1-128 letters, digits, "_" or "-"`);
    }
    return { ...c, key };
  });
}

/**
 * Refuse to start supervisor `supervisorId` when one of its children (by the
 * key it gets here, fixed or derived with `{key}`) runs (a live registry
 * claim) under another supervisor: that agent is the other one's, and this
 * one would run without it.
 *
 * @throws InvalidConfigError naming the child key, the supervisor it runs under, and the fix
 */
export async function checkChildrenFree(registry: Registry, supervisorId: string, template: readonly NormalizedChildSpec[], children: readonly NormalizedChildSpec[]): Promise<void> {
  for (const [i, c] of children.entries()) {
    const held = await registry.lookup(c.type, c.key);
    if (held?.live && held.reg.supervisor !== supervisorId) {
      const derived = template[i]!.key.includes(SUPERVISOR_KEY);
      throw new InvalidConfigError(
        `children[${i}].key`,
        `${supervisorId} cannot start its child ${formatAgentId(c.type, c.key)}: it runs under ${held.reg.supervisor} on node ${held.reg.node}. ` +
          (derived
            ? `Its key ${JSON.stringify(template[i]!.key)} under this supervisor's key makes that agent's; give the child key a part no other supervisor's children or other agent has (like "${SUPERVISOR_KEY}-${parseAgentId(supervisorId).type}-${c.id}")`
            : `A fixed child key belongs to one instance of the supervisor type; write it as "${SUPERVISOR_KEY}-${c.key}" to give each instance its own`),
      );
    }
  }
}
