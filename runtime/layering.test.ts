// The folders depend one way: supervisors/ (pure supervision rules) <- runtime/
// (everything that runs) <- actors/ (built-in agents and the package's entry)
// <- cli/ and bench/. Production files import only their own folder or one
// below it, and no two files import each other, directly or round about.
// Tests and the test kits (runtime/testing, which is also `troupe/testing`,
// and cli/testing) may use any layer.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const LAYER: Record<string, number> = { supervisors: 0, runtime: 1, actors: 2, cli: 3, bench: 3 };

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return name === "testing" || name === "fixtures" ? [] : sources(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), as repository paths of .ts files. */
function imports(file: string): string[] {
  // Code only: an import written in a comment (an example) is not an edge.
  const text = readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
    .join("\n");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, ".ts"));
}

const files = Object.keys(LAYER).flatMap(sources);
const graph = new Map(files.map((f) => [f, imports(f).filter((t) => files.includes(t))]));
const layerOf = (file: string): number => LAYER[file.split("/")[0]!]!;

describe("layering", () => {
  it("keeps the test kit out of the runtime's public entry", () => {
    expect(imports("runtime/index.ts").filter((f) => f.startsWith("runtime/testing/"))).toEqual([]);
    expect(readFileSync(join(ROOT, "runtime/index.ts"), "utf8")).not.toMatch(/nats-server|startNatsServer/);
  });

  it("imports only point down the layers (or within a folder)", () => {
    const upward = [...graph].flatMap(([from, tos]) => tos.filter((to) => layerOf(to) > layerOf(from)).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
  });

  it("has no import cycles between files", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (f: string): void => {
      state.set(f, "open");
      path.push(f);
      for (const to of graph.get(f) ?? []) {
        if (state.get(to) === "open") cycles.push([...path.slice(path.indexOf(to)), to].map((p) => relative(".", p)).join(" -> "));
        else if (!state.has(to)) visit(to);
      }
      path.pop();
      state.set(f, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it("sees the whole tree", () => {
    expect(files.length).toBeGreaterThan(60);
    expect(files).toContain("runtime/node.ts");
    expect(files).toContain("actors/index.ts");
  });
});
