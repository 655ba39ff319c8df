// `agentctl node start --agents FILE` with a user's TypeScript file in a
// directory outside the repository, run by the built CLI: a syntax error shows
// its file, line, column and message; a file where `troupe` is not installed,
// or that Node loads as CommonJS, says so and how to fix it.

import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { REPO_ROOT } from "./testing/agentctl-process.js";
import { builtAgentctl } from "./testing/built-agentctl.js";

const SLOW_MS = 60_000;

const nats = useNatsServer();

const GOOD = `import { defineAgent } from "troupe";\nexport const a = defineAgent({ type: "a", initial: {}, receive: (s: object) => s });\n`;
/** Line 2, column 83: a missing ")". */
const BAD = `import { defineAgent } from "troupe";\nexport const a = defineAgent({ type: "a", initial: {}, receive: (s: object) => s } ;\n`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A project directory outside the repository: its files, and (with `troupe`) node_modules/troupe pointing at this checkout. */
function project(files: Record<string, string>, opts: { troupe: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-agents-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  if (opts.troupe) {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(REPO_ROOT, join(dir, "node_modules", "troupe"), "dir");
  }
  return dir;
}

const start = (dir: string, file: string) => builtAgentctl(["node", "start", "--agents", file, "--server", nats.url, "--namespace", "agents-module"], dir);

describe("agentctl node start --agents with a file outside the repository", { timeout: SLOW_MS }, () => {
  it("a syntax error shows the file, line, column and message", async () => {
    const dir = project({ "package.json": `{"type":"module"}`, "agents.ts": BAD }, { troupe: true });
    const r = await start(dir, "agents.ts");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`agents module agents.ts has a syntax error: agents.ts:2:83: Expected ")" but found ";"`);
  });

  it("a .ts file in a project without troupe says troupe is not installed there and how to fix it", async () => {
    const dir = project({ "agents.ts": GOOD }, { troupe: false });
    const r = await start(dir, "agents.ts");
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("in a cycle");
    expect(r.stderr).toContain(`agents module agents.ts imports "troupe", but no troupe package is installed where it is`);
    expect(r.stderr).toContain("npm install troupe");
  });

  it("the same in an ES module project without troupe", async () => {
    const dir = project({ "package.json": `{"type":"module"}`, "agents.ts": GOOD }, { troupe: false });
    const r = await start(dir, "agents.ts");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`imports "troupe", but no troupe package is installed where it is (no node_modules/troupe in ${dir} or above it)`);
  });

  it('a .ts file that Node loads as CommonJS says to add "type": "module" or use .mts', async () => {
    const dir = project({ "package.json": `{}`, "agents.ts": GOOD }, { troupe: true });
    const r = await start(dir, "agents.ts");
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("in a cycle");
    expect(r.stderr).toContain('add "type": "module" to that package.json (or create one), or rename the file to .mts');
  });

  it("a good file in a project with troupe starts a node hosting its type", async () => {
    const dir = project({ "package.json": `{"type":"module"}`, "agents.mts": GOOD }, { troupe: true });
    const ready = /ready in namespace agents-module .*hosting .*\ba$/m;
    const r = await builtAgentctl(["node", "start", "--agents", "agents.mts", "--server", nats.url, "--namespace", "agents-module"], dir, { until: ready });
    expect(r.stdout).toMatch(ready);
    expect(r.code).toBe(0);
  });
});
