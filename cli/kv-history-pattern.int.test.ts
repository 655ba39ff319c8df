// agentctl kv history over a pattern: revisions of several keys, each row naming its key.

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useNatsServer } from "../runtime/testing/server.js";
import { agentctl } from "./testing/agentctl-process.js";

const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `kvh-${randomBytes(3).toString("hex")}`;
const run = (...args: string[]) => agentctl(["kv", ...args, "--server", nats.url, "--namespace", namespace]);

describe("agentctl kv history with a pattern", { timeout: SLOW_MS }, () => {
  it("prints a KEY column, so revisions of different keys can be told apart", async () => {
    expect((await run("put", "user.1", '"Ada"')).code).toBe(0);
    expect((await run("put", "team.a", '"red"')).code).toBe(0);
    expect((await run("put", "user.1", '"Grace"')).code).toBe(0);

    const all = (await run("history", ">")).stdout.trim().split("\n");
    expect(all[0]).toMatch(/^KEY\s+REVISION\s+OP\s+CREATED\s+WRITER\s+VALUE$/);
    expect(all.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/).at(-1)])).toEqual([
      ["user.1", '"Ada"'],
      ["team.a", '"red"'],
      ["user.1", '"Grace"'],
    ]);

    const users = (await run("history", "user.*")).stdout.trim().split("\n");
    expect(users[0]).toMatch(/^KEY\s/);
    expect(users.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["user.1", "user.1"]);

    // One exact key: the key is in the command already, the table stays as it was.
    expect((await run("history", "user.1")).stdout).toMatch(/^REVISION\s+OP\s+CREATED\s+WRITER\s+VALUE$/m);
    const json = JSON.parse((await run("history", ">", "--json")).stdout) as { key: string }[];
    expect(json.map((e) => e.key)).toEqual(["user.1", "team.a", "user.1"]);
  });
});
