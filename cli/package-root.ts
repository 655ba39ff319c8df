// Where Troupe's package lives (the repo root in a checkout, the package
// directory once installed): nats.conf and scripts/ are found from here.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown; version?: unknown };
        if (parsed.name === "troupe") return (cached = { root: dir, version: String(parsed.version ?? "0.0.0") });
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find Troupe's package.json above the agentctl script");
    dir = parent;
  }
}

/** The directory holding Troupe's package.json (works from `cli/` and from `dist/cli/`). */
export function packageRoot(): string {
  return find().root;
}

/** Troupe's version, from its package.json. */
export function packageVersion(): string {
  return find().version;
}
