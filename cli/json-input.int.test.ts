// JSON arguments from stdin (`-`) and files (`@file`): a message bigger than
// the shell's argument limit reaches an agent, and each mistake is one clear
// sentence naming where the JSON came from.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctl, agentctlWithInput, AgentctlProcess } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `json-${randomBytes(3).toString("hex")}`;
let conn: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "troupe-json-input-"));

/** A message of about 300 KiB: more than one shell argument may hold (MAX_ARG_STRLEN is 128 KiB on Linux). */
const big = { text: "x".repeat(300 * 1024), n: 7 };
const bigFile = join(dir, "big.json");

describe("JSON arguments from stdin and from a file", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;
  beforeAll(async () => {
    conn = ["--server", nats.url, "--namespace", namespace];
    writeFileSync(bigFile, JSON.stringify(big));
    node = new AgentctlProcess(["node", "start", "--name", "json-node", ...conn]);
    await node.waitFor(/ready/);
    expect((await agentctl(["spawn", "echo", "--key", "e1", ...conn])).code).toBe(0);
  }, SLOW_MS);
  afterAll(async () => {
    await node?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks with a 300 KiB message read from stdin (-)", async () => {
    const r = await agentctlWithInput(["ask", "echo/e1", "-", ...conn], JSON.stringify(big));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(big);
  });

  it("asks with a 300 KiB message read from @file", async () => {
    const r = await agentctl(["ask", "echo/e1", `@${bigFile}`, ...conn]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(big);
  });

  it("tells, spawns with --args and puts a kv value from files and stdin", async () => {
    const args = join(dir, "args.json");
    writeFileSync(args, '{"start": 40}\n');
    expect((await agentctl(["spawn", "counter", "--key", "c1", "--args", `@${args}`, ...conn])).code).toBe(0);
    const inc = join(dir, "inc.json");
    writeFileSync(inc, JSON.stringify({ op: "inc", by: 2, pad: "y".repeat(300 * 1024) }));
    expect((await agentctl(["tell", "counter/c1", `@${inc}`, ...conn])).code).toBe(0);
    expect(JSON.parse((await agentctl(["ask", "counter/c1", '{"op":"get"}', ...conn])).stdout)).toBe(42);
    expect((await agentctlWithInput(["kv", "put", "doc", "-", ...conn], JSON.stringify(big))).code).toBe(0);
    expect(JSON.parse((await agentctl(["kv", "get", "doc", ...conn])).stdout)).toEqual(big);
    expect((await agentctlWithInput(["publish", "news.today", "-", ...conn], '{"headline":"hi"}')).code).toBe(0);
  });

  it("a missing file, a bad JSON file and empty stdin are usage errors naming the source", async () => {
    const missing = await agentctl(["tell", "echo/e1", `@${join(dir, "nope.json")}`, ...conn]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error: MESSAGE file ${join(dir, "nope.json")} does not exist`);

    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{\n  "op": "inc",\n  by: 2\n}\n');
    const bad = await agentctl(["ask", "echo/e1", `@${broken}`, ...conn]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`error: MESSAGE in ${broken} is not valid JSON at line 3, column 3: `));

    const badArgs = await agentctl(["spawn", "counter", "--args", `@${broken}`, ...conn]);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toContain(`--args in ${broken} is not valid JSON at line 3, column 3`);

    const fromStdin = await agentctlWithInput(["ask", "echo/e1", "-", ...conn], "[1, 2,");
    expect(fromStdin.code).toBe(2);
    expect(fromStdin.stderr).toMatch(/error: MESSAGE on stdin is not valid JSON at line 1, column 7/);

    const empty = await agentctl(["ask", "echo/e1", "-", ...conn]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("error: MESSAGE on stdin is empty");

    const unreadable = await agentctl(["ask", "echo/e1", `@${dir}`, ...conn]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`error: MESSAGE file ${dir} cannot be read`);
  });
});
