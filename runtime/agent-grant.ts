// An agent type's `can` declaration, checked once and compiled for the hot
// path: which agents it may message, which shared-memory keys it may read and
// write. Pure: no I/O, no clock. The runtime asks the compiled grant before an
// agent sends or touches memory; the credential issuer turns the same
// declaration into server permissions with grantedTargets().

import { validateTopicPattern } from "./topic-name.js";
import { InvalidConfigError } from "./errors.js";
import { keyMatcher, validatePattern } from "./memory/keys.js";
import { validateBucketName, validateToken } from "./subjects.js";

/**
 * What an agent type may reach (defineAgent's `can`). Every list is an
 * allow-list: a missing list means none of that kind.
 *
 * - `message`: agents it may ask or tell. `"summarizer"` or `"summarizer/*"`
 *   (every agent of the type), `"search/s1"` (one agent), `"*"` (every agent).
 * - `memory.read` / `memory.write`: shared-memory keys, as NATS-style patterns
 *   (`facts.>`, `notes.*`, `config`) over the namespace's shared bucket, or
 *   `"<bucket>:<pattern>"` for a named bucket (`"facts:user.>"` covers
 *   `ctx.memory.bucket("facts")`).
 */
export interface AgentCan {
  readonly message?: readonly string[];
  /** Topics `ctx.publish` may publish on: names or NATS-style patterns (`orders.*`, `audit.>`). */
  readonly publish?: readonly string[];
  readonly memory?: {
    readonly read?: readonly string[];
    readonly write?: readonly string[];
  };
}

/** One memory grant entry: a key pattern, in the shared bucket (no `bucket`) or a named one. */
export interface GrantedKeys {
  /** The named bucket (as given to `memory.bucket(name)`); absent for the namespace's shared bucket. */
  readonly bucket?: string;
  readonly pattern: string;
}

/**
 * What a `can` declaration reaches, as plain data for deriving server
 * permissions (see {@link grantedTargets}).
 */
export interface GrantedTargets {
  /** `"*"`: every agent; `{ type }`: every agent of the type; `{ type, key }`: one agent. */
  readonly messageTypes: ReadonlyArray<{ readonly type: string; readonly key?: string } | "*">;
  readonly memoryRead: readonly GrantedKeys[];
  readonly memoryWrite: readonly GrantedKeys[];
}

/** What a grant is asked about: the `operation` of a PermissionDeniedError it refuses. */
export const GrantOperation = {
  Message: "message",
  MemoryRead: "memory.read",
  MemoryWrite: "memory.write",
  Publish: "publish",
} as const;
export type GrantOperation = (typeof GrantOperation)[keyof typeof GrantOperation];

/** The bucket token the shared bucket is filed under inside a grant. */
const SHARED = "";

/** The key patterns granted in one bucket, for one kind of access. */
class BucketKeys {
  /** Keys granted without wildcards: a set lookup. */
  private readonly exact = new Set<string>();
  private readonly matchers: Array<(key: string) => boolean> = [];
  readonly patterns: string[] = [];

  add(pattern: string): void {
    this.patterns.push(pattern);
    if (pattern.includes("*") || pattern.includes(">")) this.matchers.push(keyMatcher(pattern));
    else this.exact.add(pattern);
  }

  allows(key: string): boolean {
    if (this.exact.has(key)) return true;
    for (const m of this.matchers) if (m(key)) return true;
    return false;
  }

  /** Whether some key matching `pattern` would be granted. */
  overlaps(pattern: string): boolean {
    for (const p of this.patterns) if (patternsOverlap(p, pattern)) return true;
    return false;
  }
}

/** Memory keys granted for one kind of access (read or write), per bucket. */
export class KeyGrant {
  private readonly buckets = new Map<string, BucketKeys>();

  /** @internal Built by {@link compileGrant}. */
  add(bucket: string | undefined, pattern: string): void {
    const name = bucket ?? SHARED;
    let keys = this.buckets.get(name);
    if (keys === undefined) this.buckets.set(name, (keys = new BucketKeys()));
    keys.add(pattern);
  }

  /** Whether `key` of `bucket` (undefined: the shared bucket) is granted. */
  allows(bucket: string | undefined, key: string): boolean {
    const keys = this.buckets.get(bucket ?? SHARED);
    return keys !== undefined && keys.allows(key);
  }

  /** Whether any key matching `pattern` in `bucket` is granted (keys(), watch(), history() over a pattern). */
  overlaps(bucket: string | undefined, pattern: string): boolean {
    const keys = this.buckets.get(bucket ?? SHARED);
    return keys !== undefined && keys.overlaps(pattern);
  }

  /** The entries, as plain data. */
  entries(): GrantedKeys[] {
    const out: GrantedKeys[] = [];
    for (const [bucket, keys] of this.buckets) {
      for (const pattern of keys.patterns) out.push(bucket === SHARED ? { pattern } : { bucket, pattern });
    }
    return out;
  }
}

/** A checked `can` declaration, compiled: set lookups and precompiled key matchers. */
export class AgentGrant {
  /** Every agent may be messaged (`"*"`). */
  readonly anyAgent: boolean;
  /** Types whose every agent may be messaged. */
  readonly types: ReadonlySet<string>;
  /** Single agents (`type/key`) that may be messaged. */
  readonly agents: ReadonlySet<string>;
  readonly read: KeyGrant;
  readonly write: KeyGrant;
  /** Topics that may be published on. */
  readonly publish: KeyGrant;

  constructor(parts: { anyAgent: boolean; types: Set<string>; agents: Set<string>; read: KeyGrant; write: KeyGrant; publish: KeyGrant }) {
    this.anyAgent = parts.anyAgent;
    this.types = parts.types;
    this.agents = parts.agents;
    this.read = parts.read;
    this.write = parts.write;
    this.publish = parts.publish;
  }

  /** Whether `ctx.publish` may publish on `topic`. */
  mayPublish(topic: string): boolean {
    return this.publish.allows(undefined, topic);
  }

  /** Whether the agent `id` (`type/key`) may be messaged. */
  mayMessage(type: string, id: string): boolean {
    return this.anyAgent || this.types.has(type) || this.agents.has(id);
  }
}

/**
 * Check a `can` declaration and compile it. Bad input is an InvalidConfigError
 * naming the field (`can.message[1]`, `can.memory.write[0]`).
 */
export function compileGrant(can: unknown): AgentGrant {
  if (can === null || typeof can !== "object" || Array.isArray(can)) {
    throw new InvalidConfigError("can", "must be an object { message?, publish?, memory?: { read?, write? } }");
  }
  checkFields("can", can, ["message", "publish", "memory"]);
  const { message, memory } = can as { message?: unknown; memory?: unknown };
  let anyAgent = false;
  const types = new Set<string>();
  const agents = new Set<string>();
  list("can.message", message).forEach((entry, i) => {
    const target = parseMessageEntry(`can.message[${i}]`, entry);
    if (target === "*") anyAgent = true;
    else if (target.key === undefined) types.add(target.type);
    else agents.add(`${target.type}/${target.key}`);
  });
  const read = new KeyGrant();
  const write = new KeyGrant();
  if (memory !== undefined) {
    if (memory === null || typeof memory !== "object" || Array.isArray(memory)) {
      throw new InvalidConfigError("can.memory", "must be an object { read?: string[], write?: string[] }");
    }
    checkFields("can.memory", memory, ["read", "write"]);
    const m = memory as { read?: unknown; write?: unknown };
    list("can.memory.read", m.read).forEach((entry, i) => addKeys(read, `can.memory.read[${i}]`, entry));
    list("can.memory.write", m.write).forEach((entry, i) => addKeys(write, `can.memory.write[${i}]`, entry));
  }
  const publish = new KeyGrant();
  list("can.publish", (can as { publish?: unknown }).publish).forEach((entry, i) => {
    try {
      publish.add(undefined, validateTopicPattern(entry as string));
    } catch (err) {
      throw new InvalidConfigError(`can.publish[${i}]`, (err as Error).message);
    }
  });
  return new AgentGrant({ anyAgent, types, agents, read, write, publish });
}

/**
 * What a `can` declaration reaches, as plain data: the agents it may message
 * and the memory keys it may read and write. The credential issuer derives a
 * node's server permissions from it (agent subjects of the listed types or
 * agents; KV subjects `$KV.<bucket>.<pattern>` of the listed buckets, where a
 * missing `bucket` is the namespace's shared bucket and a named one maps
 * through `Subjects.memoryBucket(bucket)`). A type without `can` reaches
 * everything and has no targets to list: do not narrow it.
 *
 * @throws InvalidConfigError for a bad declaration, as defineAgent does
 * @example
 * grantedTargets({ message: ["search/*", "summarizer/s1"], memory: { read: ["facts.>"], write: ["notes:team.*"] } });
 * // { messageTypes: [{ type: "search" }, { type: "summarizer", key: "s1" }],
 * //   memoryRead: [{ pattern: "facts.>" }], memoryWrite: [{ bucket: "notes", pattern: "team.*" }] }
 */
export function grantedTargets(can: AgentCan | AgentGrant): GrantedTargets {
  const grant = can instanceof AgentGrant ? can : compileGrant(can);
  const messageTypes: Array<{ type: string; key?: string } | "*"> = [];
  if (grant.anyAgent) messageTypes.push("*");
  for (const type of grant.types) messageTypes.push({ type });
  for (const id of grant.agents) {
    const slash = id.indexOf("/");
    messageTypes.push({ type: id.slice(0, slash), key: id.slice(slash + 1) });
  }
  return { messageTypes, memoryRead: grant.read.entries(), memoryWrite: grant.write.entries() };
}

/**
 * Whether two valid key patterns can match a common key (NATS subject
 * semantics: `*` one token, `>` one or more at the end).
 */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; ; i++) {
    const s = x[i];
    const t = y[i];
    if (s === ">" || t === ">") return s !== undefined && t !== undefined;
    if (s === undefined || t === undefined) return s === t;
    if (s !== "*" && t !== "*" && s !== t) return false;
  }
}

function parseMessageEntry(field: string, entry: unknown): { type: string; key?: string } | "*" {
  if (typeof entry !== "string") throw new InvalidConfigError(field, `must be a string like "summarizer", "search/*" or "search/s1", got ${JSON.stringify(entry)}`);
  if (entry === "*") return "*";
  const parts = entry.split("/");
  if (parts.length > 2) throw new InvalidConfigError(field, `expected TYPE, TYPE/* or TYPE/KEY, got ${JSON.stringify(entry)}`);
  const [type, key] = parts as [string, string | undefined];
  try {
    validateToken("agent type", type);
    if (key !== undefined && key !== "*") validateToken("agent key", key);
  } catch (err) {
    throw new InvalidConfigError(field, `${(err as Error).message} (expected TYPE, TYPE/* or TYPE/KEY, or "*")`);
  }
  return key === undefined || key === "*" ? { type } : { type, key };
}

function addKeys(grant: KeyGrant, field: string, entry: unknown): void {
  const { bucket, pattern } = keyGrant(field, entry);
  grant.add(bucket, pattern);
}

/**
 * A memory grant entry, checked: `facts.>` (a key pattern of the shared bucket)
 * or `notes:todo.*` (of the named bucket `notes`); InvalidConfigError naming `field` otherwise.
 */
export function keyGrant(field: string, entry: unknown): { bucket?: string; pattern: string } {
  if (typeof entry !== "string") throw new InvalidConfigError(field, `must be a key pattern like "facts.>" or "bucket:notes.*", got ${JSON.stringify(entry)}`);
  const colon = entry.indexOf(":");
  const bucket = colon < 0 ? undefined : entry.slice(0, colon);
  const pattern = colon < 0 ? entry : entry.slice(colon + 1);
  try {
    if (bucket !== undefined) validateBucketName(bucket);
    validatePattern(pattern);
  } catch (err) {
    throw new InvalidConfigError(field, `${JSON.stringify(entry)}: ${(err as Error).message}`);
  }
  return bucket === undefined ? { pattern } : { bucket, pattern };
}

function list(field: string, value: unknown): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidConfigError(field, `must be an array of strings, got ${JSON.stringify(value)}`);
  return value;
}

function checkFields(field: string, value: object, known: readonly string[]): void {
  for (const name of Object.keys(value)) {
    if (!known.includes(name)) throw new InvalidConfigError(`${field}.${name}`, `unknown field (expected ${known.join(", ")})`);
  }
}
