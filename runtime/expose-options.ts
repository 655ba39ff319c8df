// How the agents of a type can be reached from outside Troupe, with no Troupe
// code on the other side: as a NATS micro service (every hosted type, unless
// `service: false`), through the NATS agent protocol (`expose.protocol`), and
// as MCP tools (`agentctl mcp` serves every exposed type). Checked once, here.

import { InvalidConfigError } from "./errors.js";
import { validateToken } from "./subjects.js";

/** The protocols an exposed type may also speak. */
export const ExposeProtocol = {
  /** The NATS agent protocol: service `agents`, `agents.prompt.<type>.<owner>.<key>`, typed chunks, queries, heartbeat. */
  NatsAgents: "nats-agents",
} as const;
export type ExposeProtocol = (typeof ExposeProtocol)[keyof typeof ExposeProtocol];

import type { JsonSchema } from "./model/tool.js";

/** defineAgent's `expose`: reachable from outside Troupe. */
export interface ExposeOptions {
  /** Also serve the NATS agent protocol. */
  protocol?: ExposeProtocol;
  /** One sentence on what the agent does: shown in $SRV.INFO, the agent protocol's metadata and MCP tool lists. */
  description?: string;
  /**
   * The JSON Schema of the message the agent takes (an MCP tool's input schema).
   * Default: the type's `schema.toJSONSchema()` when its schema has one, else any JSON value.
   */
  inputSchema?: JsonSchema;
  /** The agent protocol's owner token. Default: the namespace. */
  owner?: string;
}

/** `expose` checked: undefined when the type is not exposed. */
export interface Exposure {
  readonly protocol?: ExposeProtocol;
  readonly description?: string;
  readonly inputSchema?: JsonSchema;
  readonly owner?: string;
}

/** Longest description kept (it travels in every $SRV.INFO answer). */
export const MAX_DESCRIPTION = 1024;

/** Check defineAgent's `expose`; errors name the field (`expose.protocol`). */
export function checkExpose(value: unknown, schema: unknown): Exposure | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return Object.freeze({ inputSchema: schemaOf(schema) });
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidConfigError("expose", 'must be true or { protocol?: "nats-agents", description?, inputSchema?, owner? }');
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["protocol", "description", "inputSchema", "owner"].includes(k)) throw new InvalidConfigError(`expose.${k}`, "unknown option");
  }
  if (o.protocol !== undefined && o.protocol !== ExposeProtocol.NatsAgents) {
    throw new InvalidConfigError("expose.protocol", `must be "${ExposeProtocol.NatsAgents}", got ${JSON.stringify(o.protocol)}`);
  }
  if (o.description !== undefined && (typeof o.description !== "string" || o.description.length > MAX_DESCRIPTION)) {
    throw new InvalidConfigError("expose.description", `must be a string of at most ${MAX_DESCRIPTION} characters`);
  }
  if (o.inputSchema !== undefined && (o.inputSchema === null || typeof o.inputSchema !== "object" || Array.isArray(o.inputSchema))) {
    throw new InvalidConfigError("expose.inputSchema", "must be a JSON Schema object");
  }
  if (o.inputSchema !== undefined) {
    try {
      JSON.stringify(o.inputSchema);
    } catch {
      throw new InvalidConfigError("expose.inputSchema", "must be plain JSON data");
    }
  }
  if (o.owner !== undefined) {
    try {
      validateToken("owner", o.owner as string);
    } catch (err) {
      throw new InvalidConfigError("expose.owner", (err as Error).message);
    }
  }
  return Object.freeze({
    protocol: o.protocol as ExposeProtocol | undefined,
    description: o.description as string | undefined,
    inputSchema: (o.inputSchema as JsonSchema | undefined) ?? schemaOf(schema),
    owner: o.owner as string | undefined,
  });
}

/** The JSON Schema a type's `schema` gives of itself (`toJSONSchema()`, as zod 4 has), if any. */
function schemaOf(schema: unknown): JsonSchema | undefined {
  const f = (schema as { toJSONSchema?: unknown } | null | undefined)?.toJSONSchema;
  if (typeof f !== "function") return undefined;
  try {
    const s = (f as () => unknown).call(schema);
    return s !== null && typeof s === "object" && !Array.isArray(s) ? (s as JsonSchema) : undefined;
  } catch {
    return undefined;
  }
}
