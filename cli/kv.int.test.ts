// agentctl kv against a real server: put, get, ls, del, history, watch, named buckets.

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { encodeValue } from "../runtime/codec.js";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 120_000;

const nats = useNatsServer();
const namespace = `kv-${randomBytes(3).toString("hex")}`;
const run = (...args: string[]) => agentctl(["kv", ...args, "--server", nats.url, "--namespace", namespace]);

describe("agentctl kv", { timeout: SLOW_MS }, () => {
  it("puts JSON values and plain strings, and gets them back", async () => {
    expect((await run("put", "user.1", '{"name":"Ada"}')).stdout).toMatch(/^put user\.1 \(revision \d+\)$/m);
    expect((await run("put", "user.2", "hello world")).code).toBe(0);
    expect((await run("put", "count", "42")).code).toBe(0);

    expect(JSON.parse((await run("get", "user.1")).stdout)).toEqual({ name: "Ada" });
    expect(JSON.parse((await run("get", "user.2")).stdout)).toBe("hello world");
    const counted = JSON.parse((await run("get", "count", "--json")).stdout) as { key: string; value: unknown; revision: number };
    expect(counted).toMatchObject({ key: "count", value: 42 });
    expect(counted.revision).toBeGreaterThan(0);
  });

  it("lists keys, filtered by a pattern", async () => {
    expect((await run("ls")).stdout).toBe("count\nuser.1\nuser.2\n");
    expect(JSON.parse((await run("ls", "user.>", "--json")).stdout)).toEqual(["user.1", "user.2"]);
  });

  it("deletes a key; get and del of a missing key exit 4", async () => {
    expect((await run("del", "user.2")).stdout).toMatch(/^deleted user\.2 \(revision \d+\)$/m);
    const got = await run("get", "user.2");
    expect(got.code).toBe(4);
    expect(got.stderr.trim()).toBe(`error: key user.2 not found in bucket troupe_${namespace}_mem`);
    expect((await run("del", "user.2")).code).toBe(4);
    expect(JSON.parse((await run("ls", "--json")).stdout)).toEqual(["count", "user.1"]);
  });

  it("shows a key's history, delete included", async () => {
    await run("put", "user.1", '{"name":"Grace"}');
    const history = JSON.parse((await run("history", "user.1", "--json")).stdout) as { op: string; value: unknown }[];
    expect(history.map((h) => [h.op, h.value])).toEqual([
      ["put", { name: "Ada" }],
      ["put", { name: "Grace" }],
    ]);
    const deleted = JSON.parse((await run("history", "user.2", "--json")).stdout) as { op: string }[];
    expect(deleted.map((h) => h.op)).toEqual(["put", "delete"]);
    const table = await run("history", "user.1");
    expect(table.stdout).toMatch(/^REVISION\s+OP\s+CREATED\s+WRITER\s+VALUE$/m);
    expect(table.stdout).toContain('{"name":"Grace"}');
    expect((await run("history", "never.set")).code).toBe(4);
  });

  it("history shows who wrote each revision: agentctl as the client it is, '-' for a write made without Troupe", async () => {
    await run("put", "team.plan", '"ship"');
    const nc = await connectTo(nats.url, "kv-raw");
    try {
      const kv = await new Kvm(nc).open(`troupe_${namespace}_mem`);
      await kv.put("team.plan", encodeValue("rest"));
    } finally {
      await nc.close();
    }
    const history = JSON.parse((await run("history", "team.plan", "--json")).stdout) as { value: unknown; writer: string | null }[];
    expect(history.map((h) => h.value)).toEqual(["ship", "rest"]);
    expect(history[0]!.writer).toMatch(/^client:agentctl-\d+-[0-9a-f]{4}$/);
    expect(history[1]!.writer).toBeNull();
    const lines = (await run("history", "team.plan")).stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^REVISION\s+OP\s+CREATED\s+WRITER\s+VALUE$/);
    expect(lines[1]).toMatch(/\sclient:agentctl-\d+-[0-9a-f]{4}\s+"ship"$/);
    expect(lines[2]).toMatch(/\s-\s+"rest"$/);
  });

  it("keeps named buckets apart with --bucket", async () => {
    expect((await run("put", "fact", "true", "--bucket", "facts")).code).toBe(0);
    expect(JSON.parse((await run("ls", "--json", "--bucket", "facts")).stdout)).toEqual(["fact"]);
    expect(JSON.parse((await run("get", "fact", "--bucket", "facts")).stdout)).toBe(true);
    expect((await run("get", "fact")).code).toBe(4);
    const bad = await run("ls", "--bucket", "no.dots");
    expect(bad.code).toBe(2);
  });

  it("watch prints one JSON line per change until Ctrl-C, then exits 0", async () => {
    const watch = new AgentctlProcess(["kv", "watch", "user.>", "--json", "--server", nats.url, "--namespace", namespace]);
    try {
      await new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = (): void => {
          if (watch.stderr.includes("watching")) return resolve();
          if (Date.now() - started > 60_000) return reject(new Error(`watch did not start: ${watch.stderr}`));
          setTimeout(poll, 25);
        };
        poll();
      });
      await run("put", "user.3", '{"name":"Barbara"}');
      await run("put", "other", "1");
      await run("del", "user.3");
      await watch.waitFor(/"op":"delete"/);
    } finally {
      const end = await watch.stop("SIGINT");
      expect(end.code).toBe(0);
    }
    const changes = watch.stdout.trim().split("\n").map((l) => JSON.parse(l) as { key: string; op: string; value: unknown });
    expect(changes.map((c) => [c.key, c.op, c.value])).toEqual([
      ["user.3", "put", { name: "Barbara" }],
      ["user.3", "delete", null],
    ]);
  });
});
