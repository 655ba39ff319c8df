// What a pool of agents is made with: its routing policy, its size, its name
// and, for consistent hashing, the key of a message. Plain data, defaults
// merged and validated once; a bad field fails with InvalidConfigError naming it.

import { InvalidConfigError, InvalidMessageError } from "./errors.js";
import { validateToken } from "./subjects.js";

/** How a pool chooses the member a message goes to. */
export const PoolPolicy = {
  /** Each member in turn. */
  RoundRobin: "round_robin",
  /** The member with the least work queued and in flight (by its node's reports and this caller's own asks). */
  LeastLoaded: "least_loaded",
  /** The same key to the same member while membership is unchanged (rendezvous hashing). */
  ConsistentHash: "consistent_hash",
  /** A member chosen at random. */
  Random: "random",
} as const;
export type PoolPolicy = (typeof PoolPolicy)[keyof typeof PoolPolicy];

/** The most members a pool may have. */
export const MAX_POOL_MEMBERS = 1024;

/** Options of `node.pool(type, options)`. */
export interface PoolOptions<M = unknown> {
  /** Routing policy. Default `least_loaded`. */
  policy?: PoolPolicy;
  /** Members brought up on first use. Default 1. */
  min?: number;
  /** Members the pool grows to when all are busy. Default `min` (no growth). At most 1024. */
  max?: number;
  /** The pool's name: its members are the agents `<type>/<name>-<i>`. Default: the type. */
  name?: string;
  /** For `consistent_hash` (required there): the message's field holding the key, or a function of the message. */
  key?: string | ((msg: M) => string);
}

/** Pool options with defaults merged and every field checked. */
export interface ValidPoolOptions<M = unknown> {
  readonly policy: PoolPolicy;
  readonly min: number;
  readonly max: number;
  readonly name: string;
  readonly key: ((msg: M) => string) | undefined;
}

const POLICIES: readonly string[] = Object.values(PoolPolicy);

/** Merge defaults and validate once. @throws InvalidConfigError naming the field */
export function validatePoolOptions<M>(type: string, options: PoolOptions<M> = {}): ValidPoolOptions<M> {
  if (options === null || typeof options !== "object") throw new InvalidConfigError("pool options", "expected an object");
  const policy = options.policy ?? PoolPolicy.LeastLoaded;
  if (!POLICIES.includes(policy)) throw new InvalidConfigError("policy", `${JSON.stringify(policy)} is not one of ${POLICIES.join(", ")}`);
  const min = options.min ?? 1;
  if (!Number.isInteger(min) || min < 1 || min > MAX_POOL_MEMBERS) throw new InvalidConfigError("min", `expected an integer from 1 to ${MAX_POOL_MEMBERS}, got ${JSON.stringify(min)}`);
  const max = options.max ?? min;
  if (!Number.isInteger(max) || max < min || max > MAX_POOL_MEMBERS) {
    throw new InvalidConfigError("max", `expected an integer from min (${min}) to ${MAX_POOL_MEMBERS}, got ${JSON.stringify(max)}`);
  }
  const name = options.name ?? type;
  try {
    validateToken("pool name", name);
  } catch (err) {
    throw new InvalidConfigError("name", (err as Error).message);
  }
  // The longest member key, `<name>-<max-1>`, must still be a valid agent key.
  if (name.length + 1 + String(max - 1).length > 128) throw new InvalidConfigError("name", `${JSON.stringify(name)} is too long for member keys (<name>-<i>, at most 128 characters)`);
  const key = keyFunction<M>(options.key);
  if (policy === PoolPolicy.ConsistentHash && key === undefined) {
    throw new InvalidConfigError("key", `policy consistent_hash needs a key: a field name of the message, or a function msg => string`);
  }
  return { policy, min, max, name, key };
}

function keyFunction<M>(key: PoolOptions<M>["key"]): ((msg: M) => string) | undefined {
  if (key === undefined) return undefined;
  if (typeof key === "function") return key;
  if (typeof key !== "string" || key.length === 0) throw new InvalidConfigError("key", `expected a field name or a function, got ${JSON.stringify(key)}`);
  return (msg: M) => {
    const v = msg !== null && typeof msg === "object" ? (msg as Record<string, unknown>)[key] : undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    throw new InvalidMessageError(`the pool hashes by field ${JSON.stringify(key)}, and the message has no string or number there`);
  };
}
