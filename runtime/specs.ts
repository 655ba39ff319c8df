// The runtime's door to the pure supervision rules: supervisor and child specs
// are checked there (supervisors/child-spec.ts), and here a broken rule
// becomes InvalidConfigError naming the field, and every agent type and key
// is checked to be a valid address token.

import { normalizeChildSpec, normalizeSupervisorSpec, type NormalizedChildSpec, type NormalizedSupervisorSpec } from "../supervisors/child-spec.js";
import { SpecError } from "../supervisors/spec-error.js";
import { InvalidConfigError } from "./errors.js";
import { validateToken } from "./subjects.js";
import { childKey } from "./supervisor-children.js";

/**
 * Check a supervisor spec and fill in its defaults.
 * @throws InvalidConfigError naming the bad field, e.g. `intensity` or `children[1].type`
 */
export function supervisorSpec(input: unknown): NormalizedSupervisorSpec {
  const spec = checked(() => normalizeSupervisorSpec(input));
  addressToken("type", spec.type);
  spec.children.forEach((c, i) => {
    addressToken(`children[${i}].type`, c.type);
    // `{key}` stands for the supervisor instance's key (supervisor-children.ts): checked here with a sample key.
    addressToken(`children[${i}].key`, childKey(c.key, "k"));
  });
  return spec;
}

/**
 * Check a child spec and fill in its defaults; `field` names it in errors.
 * @throws InvalidConfigError naming the bad field, e.g. `child.restart`
 */
export function childSpec(input: unknown, field = "child"): NormalizedChildSpec {
  const spec = checked(() => normalizeChildSpec(input, field));
  addressToken(`${field}.type`, spec.type);
  addressToken(`${field}.key`, spec.key);
  return spec;
}

/** Run a pure rule; a broken rule becomes InvalidConfigError. */
export function checked<T>(rule: () => T): T {
  try {
    return rule();
  } catch (err) {
    if (err instanceof SpecError) throw new InvalidConfigError(err.field, err.problem);
    throw err;
  }
}

function addressToken(field: string, value: string): void {
  try {
    validateToken(field, value);
  } catch {
    throw new InvalidConfigError(field, `must be 1-128 letters, digits, "_" or "-", got ${JSON.stringify(value)}`);
  }
}
