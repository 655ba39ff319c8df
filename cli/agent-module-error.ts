// Why an agents module (`agentctl node start --agents FILE`) did not load, in
// words a user can act on: the syntax error's file, line, column and message
// (tsx/esbuild put them after "Transform failed with 1 error:"), a `troupe`
// package that cannot be found from the file's directory, or a TypeScript file
// that Node loads as CommonJS.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** `/dir/agents.ts:2:83: ERROR: Expected ")" but found ";"`, as esbuild reports it. */
const ESBUILD_ERROR = /^(.+?):(\d+):(\d+): ERROR: (.+)$/;

/** An import of the package `troupe` (or one of its entries) in a module's source. */
const IMPORTS_TROUPE = /(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']troupe(?:\/[^"']*)?["']/;

/**
 * The directory holding an installed `troupe` that an import in `dir` finds
 * (node_modules of `dir` and of each parent), or undefined.
 */
export function troupeInstalledFor(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, "node_modules", "troupe");
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/** Where to show a path: relative to the working directory when it is inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") ? rel : path;
}

/** The syntax errors esbuild listed in a "Transform failed" message, as `file:line:column: message`. */
function syntaxErrors(message: string): string[] {
  const found: string[] = [];
  for (const line of message.split("\n")) {
    const m = ESBUILD_ERROR.exec(line.trim());
    if (m) found.push(`${shown(m[1]!)}:${m[2]}:${m[3]}: ${m[4]}`);
  }
  return found;
}

/**
 * The error to show when importing the agents module `file` (absolute `path`)
 * threw `err`.
 *
 * @example
 * agentModuleError("bad.ts", "/p/bad.ts", err).message
 * // 'agents module bad.ts has a syntax error: bad.ts:2:83: Expected ")" but found ";"'
 */
export function agentModuleError(file: string, path: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith("Transform failed")) {
    const errors = syntaxErrors(message);
    if (errors.length > 0) return new Error(`agents module ${file} has ${errors.length === 1 ? "a syntax error" : `${errors.length} syntax errors`}: ${errors.join("; ")}`, { cause: err });
  }
  let source = "";
  try {
    source = readFileSync(path, "utf8");
  } catch {
    // unreadable: say what the import said
  }
  const dir = dirname(path);
  if (IMPORTS_TROUPE.test(source) && troupeInstalledFor(dir) === undefined) {
    return new Error(
      `agents module ${file} imports "troupe", but no troupe package is installed where it is (no node_modules/troupe in ${dir} or above it). ` +
        `Install it in the file's project (npm install troupe there), or put the file in a project that depends on troupe`,
      { cause: err },
    );
  }
  if ((err as { code?: unknown } | null)?.code === "ERR_REQUIRE_CYCLE_MODULE" || message.includes("in a cycle")) {
    return new Error(
      `agents module ${file} is loaded as CommonJS (the nearest package.json above it does not say "type": "module", or there is none), and troupe is an ES module: ` +
        `add "type": "module" to that package.json (or create one), or rename the file to .mts`,
      { cause: err },
    );
  }
  return new Error(`cannot load agents module ${file}: ${message.split("\n")[0]}`, { cause: err });
}
