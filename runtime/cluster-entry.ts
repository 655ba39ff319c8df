// Decoding the entries of the cluster buckets (membership and registry) with
// every field's type checked. Anyone with access to the namespace can write
// these buckets, so an entry is data to check, not a value to trust: a
// malformed one is reported and skipped, never dereferenced.

import { decodeValue } from "./codec.js";

/** What a node announces about itself. */
export interface NodeInfo {
  id: string;
  /** Revision of the heartbeat entry this was read from. */
  revision?: number;
  /** Id of the process run that holds the name (absent in entries of older versions). */
  instance?: string;
  /** The node's heartbeat interval, ms: it counts as gone after three of them (or three of the observer's). */
  heartbeatMs?: number;
  /** Agent types it hosts. */
  types: string[];
  startedAt: number;
  lastSeen: number;
  pid: number;
  host: string;
  agents: number;
}

/** A registry entry. */
export interface Registration {
  node: string;
  since: number;
  /** Id of the supervisor the agent runs under. */
  supervisor: string;
  /** What it was spawned with, so a survivor can start it again when its node is gone. */
  args?: unknown;
  restart?: string;
  /** The run of `node` that made the claim (absent in entries of older versions). */
  instance?: string;
}


/** A decoded entry, or why it was refused. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

type Fields = Record<string, unknown>;

function fields(bytes: Uint8Array): Fields | string {
  let v: unknown;
  try {
    v = decodeValue(bytes);
  } catch {
    return "does not decode as MessagePack";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    return `is ${v === null ? "nil" : Array.isArray(v) ? "an array" : typeof v}, not a map`;
  }
  return v as Fields;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The first field of `f` whose type is wrong, as a reason; undefined when all are right. */
function wrongField(f: Fields, rules: Record<string, [check: (v: unknown) => boolean, what: string, optional?: boolean]>): string | undefined {
  for (const [name, [check, what, optional]] of Object.entries(rules)) {
    const v = f[name];
    if (v === undefined && optional) continue;
    if (!check(v)) return `field "${name}" is ${v === undefined ? "missing" : `not ${what}`}`;
  }
  return undefined;
}

/** Decode a membership entry stored under `key`, with its revision. */
export function decodeNodeInfo(key: string, bytes: Uint8Array, revision: number): Checked<NodeInfo> {
  const f = fields(bytes);
  if (typeof f === "string") return { ok: false, reason: f };
  const wrong = wrongField(f, {
    id: [isString, "a string"],
    types: [(v) => Array.isArray(v) && v.every(isString), "a list of strings"],
    startedAt: [isNumber, "a number"],
    lastSeen: [isNumber, "a number"],
    pid: [isNumber, "a number"],
    host: [isString, "a string"],
    agents: [isNumber, "a number"],
    instance: [isString, "a string", true],
    heartbeatMs: [(v) => isNumber(v) && v > 0, "a positive number", true],
  });
  if (wrong) return { ok: false, reason: wrong };
  if (f.id !== key) return { ok: false, reason: `field "id" (${JSON.stringify(f.id)}) is not the entry's key` };
  const info: NodeInfo = {
    id: f.id as string,
    revision,
    types: [...(f.types as string[])],
    startedAt: f.startedAt as number,
    lastSeen: f.lastSeen as number,
    pid: f.pid as number,
    host: f.host as string,
    agents: f.agents as number,
  };
  if (f.instance !== undefined) info.instance = f.instance as string;
  if (f.heartbeatMs !== undefined) info.heartbeatMs = f.heartbeatMs as number;
  return { ok: true, value: info };
}

/** Decode a registry entry. */
export function decodeRegistration(bytes: Uint8Array): Checked<Registration> {
  const f = fields(bytes);
  if (typeof f === "string") return { ok: false, reason: f };
  const wrong = wrongField(f, {
    node: [isString, "a string"],
    since: [isNumber, "a number"],
    supervisor: [isString, "a string"],
    restart: [isString, "a string", true],
    instance: [isString, "a string", true],
  });
  if (wrong) return { ok: false, reason: wrong };
  const reg: Registration = { node: f.node as string, since: f.since as number, supervisor: f.supervisor as string };
  if (f.args !== undefined) reg.args = f.args;
  if (f.restart !== undefined) reg.restart = f.restart as string;
  if (f.instance !== undefined) reg.instance = f.instance as string;
  return { ok: true, value: reg };
}
