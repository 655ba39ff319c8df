// Loading the agent types a user's module exports, for `agentctl node start
// --agents FILE`. `.js`/`.mjs` files are imported as they are; TypeScript
// files go through tsx, so no build step is needed.

import { existsSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AgentType, SupervisorType } from "../actors/index.js";
import { agentModuleError } from "./agent-module-error.js";
import { UsageError } from "./exit-code.js";

/** An agent or supervisor definition, as `defineAgent` / `defineSupervisor` make them. */
export type Definition = AgentType | SupervisorType;

const TS_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);

function isDefinition(v: unknown): v is Definition {
  const kind = (v as { kind?: unknown } | null)?.kind;
  return (kind === "agent" || kind === "supervisor") && typeof (v as { type?: unknown }).type === "string";
}

/**
 * Every definition among a module's exports (named and default, arrays
 * flattened), once each, in export order.
 */
export function definitionsOf(moduleExports: Record<string, unknown>): Definition[] {
  const found: Definition[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isDefinition(v) && !found.includes(v)) found.push(v);
  };
  for (const value of Object.values(moduleExports)) visit(value);
  return found;
}

/**
 * Import `file` (relative to the working directory) and return the agent and
 * supervisor definitions it exports.
 *
 * @throws UsageError when the file is missing or exports no definition
 */
export async function loadAgentModule(file: string): Promise<Definition[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`agents module ${file} does not exist`);
  if (TS_EXTENSIONS.has(extname(path))) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw agentModuleError(file, path, err);
  }
  const defs = definitionsOf(loaded);
  if (defs.length === 0) {
    throw new UsageError(`agents module ${file} exports no agent types: export what defineAgent or defineSupervisor returns`);
  }
  return defs;
}
