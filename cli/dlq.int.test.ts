// agentctl dlq against a real server: dead letters made the real way (a node
// whose gate agent throws on adds while closed), then ls, show, replay and
// purge from separate agentctl processes, as a user would type them.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { Subjects } from "../runtime/subjects.js";
import { connectTo, useNatsServer } from "../runtime/testing/server.js";
import { waitFor } from "../runtime/testing/wait.js";
import { agentctl, AgentctlProcess } from "./testing/agentctl-process.js";

/** Every case starts agentctl processes; on a busy machine each can take seconds. */
const SLOW_MS = 180_000;

const nats = useNatsServer();
const namespace = `dlq-${randomBytes(3).toString("hex")}`;

/** agentctl against the test server, in this file's namespace. */
const run = (...args: string[]) => agentctl([...args, "--server", nats.url, "--namespace", namespace]);

interface LetterJson {
  seq: number;
  kind: "letter" | "undecodable";
  to?: string;
  reason?: string;
  messageType?: string | null;
  sender?: string | null;
  body?: unknown;
  problem?: string;
  deliveries?: number;
  storedAt: string;
}

async function ls(...args: string[]): Promise<LetterJson[]> {
  const r = await run("dlq", "ls", "--json", ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LetterJson[];
}

async function sum(id: string): Promise<unknown> {
  const r = await run("ask", id, '{"op":"sum"}');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("agentctl dlq", { timeout: SLOW_MS }, () => {
  let node: AgentctlProcess;
  let raw: NatsConnection;

  beforeAll(async () => {
    node = new AgentctlProcess(["node", "start", "--agents", "cli/fixtures/gate-agents.ts", "--name", "dlq-node", "--server", nats.url, "--namespace", namespace]);
    await node.waitFor(/ready/);
    raw = await connectTo(nats.url);
  }, SLOW_MS);
  afterAll(async () => {
    await raw?.close();
    await node?.stop("SIGKILL");
  });

  it("ls says there are none yet", async () => {
    const r = await run("dlq", "ls");
    expect(r).toMatchObject({ code: 0, stdout: `no dead letters in namespace ${namespace}\n` });
    expect(await ls()).toEqual([]);
  });

  it("ls lists the messages agents failed on, newest last, filtered by --agent and cut by --limit", async () => {
    for (const key of ["g1", "g2", "g3"]) expect((await run("spawn", "gate", "--key", key)).code).toBe(0);
    expect((await run("tell", "gate/g1", '{"op":"add","n":5}')).code).toBe(0);
    expect((await run("tell", "gate/g2", '{"op":"add","n":7}')).code).toBe(0);
    expect((await run("tell", "gate/g1", '{"op":"add","n":9}')).code).toBe(0);
    const all = await waitFor(async () => {
      const l = await ls();
      return l.length === 3 ? l : undefined;
    }, "three dead letters", 60_000);
    expect(all.map((l) => [l.kind, l.to, l.messageType, l.reason, l.body])).toEqual([
      ["letter", "gate/g1", "add", "gate closed, add 5 refused", { op: "add", n: 5 }],
      ["letter", "gate/g2", "add", "gate closed, add 7 refused", { op: "add", n: 7 }],
      ["letter", "gate/g1", "add", "gate closed, add 9 refused", { op: "add", n: 9 }],
    ]);
    expect(all[0]).toMatchObject({ sender: expect.stringMatching(/^client:agentctl-/), storedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(all[0]!.seq).toBeLessThan(all[1]!.seq);

    expect((await ls("--agent", "gate/g1")).map((l) => l.body)).toEqual([{ op: "add", n: 5 }, { op: "add", n: 9 }]);
    const limited = await run("dlq", "ls", "--json", "--limit", "1");
    expect((JSON.parse(limited.stdout) as LetterJson[]).map((l) => l.body)).toEqual([{ op: "add", n: 9 }]);
    expect(limited.stderr).toContain("2 older dead letters in namespace");

    const table = await run("dlq", "ls");
    expect(table.stdout).toMatch(/^SEQ\s+AGE\s+TO\s+TYPE\s+REASON\s+SENDER$/m);
    expect(table.stdout).toMatch(new RegExp(`^${all[1]!.seq}\\s+\\S+\\s+gate/g2\\s+add\\s+gate closed, add 7 refused\\s+client:agentctl-`, "m"));
    expect((await run("dlq", "ls", "--limit", "0")).code).toBe(2);
    expect((await run("dlq", "ls", "--agent", "no-slash")).code).toBe(2);
  });

  it("show prints one in full, as text or JSON; an unknown sequence exits 4", async () => {
    const [first] = await ls();
    const text = await run("dlq", "show", String(first!.seq));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^to {10}gate\/g1$/m);
    expect(text.stdout).toMatch(/^reason {6}gate closed, add 5 refused$/m);
    expect(text.stdout).toContain('body:\n{\n  "op": "add",\n  "n": 5\n}\n');
    const json = await run("dlq", "show", String(first!.seq), "--json");
    expect(JSON.parse(json.stdout)).toEqual(first);
    const missing = await run("dlq", "show", "999999");
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim()).toBe(`error: no dead letter 999999 in stream ${new Subjects(namespace).deadLetterStream()}`);
    expect((await run("dlq", "show", "twelve")).code).toBe(2);
  });

  it("replay sends the message again to the same agent, which handles it, and deletes the dead letter", async () => {
    expect((await run("tell", "gate/g2", '{"op":"open"}')).code).toBe(0);
    await waitFor(async () => (await sum("gate/g2")) === 0, "gate/g2 open", 60_000);
    const [letter] = await ls("--agent", "gate/g2");
    const r = await run("dlq", "replay", String(letter!.seq));
    expect(r).toMatchObject({ code: 0, stdout: `replayed ${letter!.seq} (for gate/g2) to gate/g2; deleted\n` });
    expect(await waitFor(async () => ((await sum("gate/g2")) === 7 ? 7 : undefined), "gate/g2 handled the add", 60_000)).toBe(7);
    expect(await ls("--agent", "gate/g2")).toEqual([]);
    expect((await run("dlq", "replay", String(letter!.seq))).code).toBe(4);
  });

  it("replay --to sends to another agent; --keep keeps the dead letter; a target that does not run exits 4 and keeps it", async () => {
    expect((await run("tell", "gate/g3", '{"op":"open"}')).code).toBe(0);
    await waitFor(async () => (await sum("gate/g3")) === 0, "gate/g3 open", 60_000);
    const [five] = await ls("--agent", "gate/g1");
    const kept = await run("dlq", "replay", String(five!.seq), "--to", "gate/g3", "--keep");
    expect(kept).toMatchObject({ code: 0, stdout: `replayed ${five!.seq} (for gate/g1) to gate/g3; kept\n` });
    await waitFor(async () => (await sum("gate/g3")) === 5, "gate/g3 handled the add", 60_000);
    expect((await ls("--agent", "gate/g1")).map((l) => l.seq)).toContain(five!.seq);

    const nobody = await run("dlq", "replay", String(five!.seq), "--to", "gate/nobody");
    expect(nobody.code).toBe(4);
    expect(nobody.stderr.trim()).toBe("error: agent gate/nobody is not running");
    expect((await ls("--agent", "gate/g1")).map((l) => l.seq)).toContain(five!.seq);

    const both = await run("dlq", "replay", String(five!.seq), "--agent", "gate/g1");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give either a dead letter's SEQ or --agent ID");
  });

  it("an undecodable record is listed as such, shown, and refused by replay, which keeps it", async () => {
    raw.publish(new Subjects(namespace).deadLetter("gate", "g1"), new TextEncoder().encode("garbage \u001b[2J"));
    await raw.flush();
    const letters = await waitFor(async () => {
      const l = await ls("--agent", "gate/g1");
      return l.some((e) => e.kind === "undecodable") ? l : undefined;
    }, "the raw record", 60_000);
    const bad = letters.find((e) => e.kind === "undecodable")!;
    expect(bad.problem).toContain("does not decode as MessagePack");

    const table = await run("dlq", "ls");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${bad.seq}\\s+\\S+\\s+-\\s+-\\s+undecodable: `, "m"));
    expect(table.stdout).not.toContain("\u001b");
    const shown = await run("dlq", "show", String(bad.seq));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^undecodable .*does not decode as MessagePack/m);

    const replayed = await run("dlq", "replay", String(bad.seq));
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toContain(`error: dead letter ${bad.seq} cannot be replayed: the stored record does not decode`);
    expect((await ls("--agent", "gate/g1")).map((l) => l.seq)).toContain(bad.seq);
  });

  it("replay --agent sends every replayable one oldest first, skips the undecodable one and exits 1", async () => {
    expect((await run("tell", "gate/g1", '{"op":"open"}')).code).toBe(0);
    await waitFor(async () => (await sum("gate/g1")) === 0, "gate/g1 open", 60_000);
    const r = await run("dlq", "replay", "--agent", "gate/g1");
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^replayed \d+ \(for gate\/g1\) to gate\/g1; deleted$/),
      expect.stringMatching(/^replayed \d+ \(for gate\/g1\) to gate\/g1; deleted$/),
    ]);
    expect(r.stderr).toMatch(/skipped \d+: dead letter \d+ cannot be replayed/);
    await waitFor(async () => (await sum("gate/g1")) === 14, "gate/g1 handled both adds", 60_000);
    expect((await ls("--agent", "gate/g1")).map((l) => l.kind)).toEqual(["undecodable"]);
  });

  it("purge refuses without --yes, then deletes one agent's or all", async () => {
    expect((await run("spawn", "gate", "--key", "g4")).code).toBe(0);
    expect((await run("tell", "gate/g4", '{"op":"add","n":1}')).code).toBe(0);
    await waitFor(async () => (await ls("--agent", "gate/g4")).length === 1, "a dead letter of gate/g4", 60_000);

    const refused = await run("dlq", "purge");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("add --yes to do it");
    expect((await ls()).length).toBe(2);

    expect(await run("dlq", "purge", "--agent", "gate/g4", "--yes")).toMatchObject({ code: 0, stdout: "purged 1 dead letter of gate/g4\n" });
    expect((await ls()).map((l) => l.kind)).toEqual(["undecodable"]);
    expect(await run("dlq", "purge", "--yes")).toMatchObject({ code: 0, stdout: `purged 1 dead letter in namespace ${namespace}\n` });
    expect(await ls()).toEqual([]);
  });
});
