// Pools against a real server: each routing policy, growth up to max (on-demand
// and spawned members), a failing member replaced by its supervisor while the
// pool keeps serving, typed errors through the pool, bad options, a client's
// and an agent's pools, and `agentctl ps` showing the distribution.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { InvalidConfigError, InvalidMessageError, RemoteError } from "./errors.js";
import { PoolPolicy } from "./pool-options.js";
import { decodeLoadReport } from "./pool-load-report.js";
import { Subjects } from "./subjects.js";
import { agentctl } from "../cli/testing/agentctl-process.js";

const nats = useNatsServer();
const NS = "pools";

/** Asks held by their members until the test lets them go: agent id -> release. */
const held = new Map<string, Array<() => void>>();
function releaseAll(): void {
  for (const list of held.values()) for (const release of list.splice(0)) release();
}

/** Release held asks until all of `asks` settled (a held ask behind another reaches its member only once that one is released). */
async function releaseUntil<T>(asks: Promise<T>[]): Promise<T[]> {
  let settled = false;
  const all = Promise.all(asks).finally(() => (settled = true));
  await waitFor(() => {
    releaseAll();
    return settled;
  }, "held asks answered");
  return all;
}

type Job = { op: "who"; user?: string } | { op: "hold" } | { op: "crash" };

function workerType(type: string, activation: "on-demand" | "spawn") {
  return defineAgent({
    type,
    activation,
    persist: false,
    state: () => ({}),
    receive(msg: Job, ctx) {
      if (msg.op === "crash") throw new Error("worker crashed on purpose");
      if (msg.op === "hold") {
        return new Promise<string>((resolve) => {
          const list = held.get(ctx.id) ?? [];
          list.push(() => resolve(ctx.key));
          held.set(ctx.id, list);
        });
      }
      return ctx.key;
    },
  });
}

const worker = workerType("worker", "on-demand");
const sworker = workerType("sworker", "spawn");
const planner = defineAgent({
  type: "planner",
  persist: false,
  state: () => ({}),
  async receive(msg: { jobs: number }, ctx) {
    const pool = ctx.pool<Job, string>("worker", { name: "cp", policy: "round_robin", min: 2 });
    const keys: string[] = [];
    for (let i = 0; i < msg.jobs; i++) keys.push(await pool.ask({ op: "who" }));
    return keys;
  },
});

describe("pools", () => {
  let node: TroupeNode;
  let client: TroupeClient;
  let raw: NatsConnection;

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: NS, name: "pool-a", agents: [worker, sworker, planner] });
    client = await connectClient({ servers: nats.url, namespace: NS });
    raw = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    releaseAll();
    await client?.close();
    await node?.close();
    await raw?.close();
  });

  it("round robin cycles through the members", async () => {
    const pool = node.pool<Job, string>("worker", { name: "rr", policy: PoolPolicy.RoundRobin, min: 3 });
    const keys: string[] = [];
    for (let i = 0; i < 7; i++) keys.push(await pool.ask({ op: "who" }));
    expect(keys).toEqual(["rr-0", "rr-1", "rr-2", "rr-0", "rr-1", "rr-2", "rr-0"]);
  });

  it("random spreads messages over every member", async () => {
    const pool = node.pool<Job, string>("worker", { name: "rnd", policy: "random", min: 4 });
    const counts = new Map<string, number>();
    const keys = await Promise.all(Array.from({ length: 200 }, () => pool.ask({ op: "who" })));
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["rnd-0", "rnd-1", "rnd-2", "rnd-3"]);
    for (const n of counts.values()) expect(n).toBeGreaterThan(20);
  });

  it("consistent hashing sends one key to one member, and different keys spread", async () => {
    const pool = node.pool<Job, string>("worker", { name: "ch", policy: "consistent_hash", key: "user", min: 4 });
    for (const user of ["ann", "bob", "cy"]) {
      const keys = new Set(await Promise.all(Array.from({ length: 10 }, () => pool.ask({ op: "who", user }))));
      expect(keys.size).toBe(1);
    }
    // Another pool object of the same type and name maps the same way.
    const again = node.pool<Job, string>("worker", { name: "ch", policy: "consistent_hash", key: (m) => ("user" in m && m.user) || "", min: 4 });
    const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
    const first = await Promise.all(users.map((user) => pool.ask({ op: "who", user })));
    const second = await Promise.all(users.map((user) => again.ask({ op: "who", user })));
    expect(second).toEqual(first);
    expect(new Set(first).size).toBeGreaterThanOrEqual(3);
    await expect(pool.ask({ op: "who" })).rejects.toBeInstanceOf(InvalidMessageError);
  });

  it("least loaded avoids a member stuck on a slow message, from this caller's own asks at once", async () => {
    const pool = node.pool<Job, string>("worker", { name: "ll", min: 4 });
    const slow = pool.ask({ op: "hold" }, { timeoutMs: 30_000 });
    const stuck = await waitFor(() => [...held.entries()].find(([k, l]) => k.startsWith("worker/ll-") && l.length > 0)?.[0].slice("worker/".length), "a member holding the slow ask");
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) keys.push(await pool.ask({ op: "who" }));
    expect(keys).not.toContain(stuck);
    // Ties between idle members are broken at random: more than one of them took work.
    expect(new Set(keys).size).toBeGreaterThan(1);
    releaseAll();
    expect(await slow).toBe(stuck);
  });

  it("least loaded avoids a member kept busy by another caller, from its node's load reports", async () => {
    const subjects = new Subjects(NS);
    const pool = client.pool<Job, string>("worker", { name: "lr", min: 3 });
    await pool.ask({ op: "who" }); // first use: members up, listening to reports
    const reported = new Promise<void>((resolve) => {
      const sub = raw.subscribe(subjects.poolLoad("worker", "lr"), {
        callback: (_err, msg) => {
          const r = decodeLoadReport(msg.data);
          if (r?.members.some((m) => m.index === 1 && m.queue >= 2)) {
            sub.unsubscribe();
            resolve();
          }
        },
      });
    });
    // Another caller (the node, not through this pool) holds lr-1 with two asks.
    const other = [node.ref<Job, string>("worker", "lr-1").ask({ op: "hold" }, { timeoutMs: 30_000 }), node.ref<Job, string>("worker", "lr-1").ask({ op: "hold" }, { timeoutMs: 30_000 })];
    await reported;
    // The client's pool hears the same report; give its subscription the same flush.
    await client.connection.flush();
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) keys.push(await pool.ask({ op: "who" }));
    expect(keys).not.toContain("lr-1");
    await releaseUntil(other);
  });

  it.each([["worker"], ["sworker"]])("grows when every member is busy, up to max and not beyond (%s)", async (type) => {
    const pool = node.pool<Job, string>(type, { name: "grow", min: 1, max: 3 });
    expect(await pool.ask({ op: "who" })).toBe("grow-0");
    expect(pool.size).toBe(1);
    const holding = (i: number) => (held.get(`${type}/grow-${i}`)?.length ?? 0) > 0;
    const asks = [pool.ask({ op: "hold" }, { timeoutMs: 30_000 })];
    // Each hold finds every member busy: the pool brings up the next member for it, up to three.
    for (let i = 1; i < 3; i++) {
      await waitFor(() => holding(i - 1), `grow-${i - 1} holding`);
      asks.push(pool.ask({ op: "hold" }, { timeoutMs: 30_000 }));
    }
    await waitFor(() => holding(2), "grow-2 holding");
    // All three busy, at max: two more queue behind them, and no fourth member comes up.
    asks.push(pool.ask({ op: "hold" }, { timeoutMs: 30_000 }), pool.ask({ op: "hold" }, { timeoutMs: 30_000 }));
    expect(pool.size).toBe(3);
    const members = (await node.list()).filter((a) => a.type === type && a.key.startsWith("grow-"));
    expect(members.map((a) => a.key).sort()).toEqual(["grow-0", "grow-1", "grow-2"]);
    await waitFor(async () => (await node.list()).filter((a) => a.type === type && a.key.startsWith("grow-")).reduce((n, a) => n + a.mailbox, 0) === 2, "two asks waiting in the members' mailboxes");
    expect((await releaseUntil(asks)).sort()).toEqual(expect.arrayContaining(["grow-0", "grow-1", "grow-2"]));
    expect((await node.list()).filter((a) => a.type === type && a.key.startsWith("grow-"))).toHaveLength(3);
    held.clear();
  });

  it("a member that fails answers the asker with its typed error, is restarted, and the pool keeps serving", async () => {
    const pool = node.pool<Job, string>("sworker", { name: "fail", min: 2, policy: "round_robin" });
    expect(await pool.ask({ op: "who" })).toBe("fail-0");
    await expect(pool.ask({ op: "crash" })).rejects.toBeInstanceOf(RemoteError);
    await node.kill("sworker/fail-0");
    const keys: string[] = [];
    for (let i = 0; i < 6; i++) keys.push(await pool.ask({ op: "who" }));
    expect(keys.sort()).toEqual(["fail-0", "fail-0", "fail-0", "fail-1", "fail-1", "fail-1"]);
    const info = (await node.list()).filter((a) => a.type === "sworker" && a.key.startsWith("fail-"));
    expect(info.map((a) => [a.key, a.state, a.restarts >= 1])).toEqual(
      expect.arrayContaining([
        ["fail-0", "running", true],
        ["fail-1", "running", true],
      ]),
    );
  });

  it("refuses bad options with an error naming the field", () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof InvalidConfigError ? err.field : String(err);
      }
      return "no error";
    };
    expect(field(() => node.pool("worker", { policy: "fastest" as PoolPolicy }))).toBe("policy");
    expect(field(() => node.pool("worker", { policy: "consistent_hash" }))).toBe("key");
    expect(field(() => node.pool("worker", { min: 3, max: 2 }))).toBe("max");
    expect(field(() => client.pool("worker", { min: -1 }))).toBe("min");
    expect(field(() => node.pool("worker", { name: "a.b" }))).toBe("name");
  });

  it("an agent's ctx.pool and a client's pool send to the same members", async () => {
    expect(await node.spawn("planner", { key: "p1" }).then((r) => r.ask({ jobs: 4 }))).toEqual(["cp-0", "cp-1", "cp-0", "cp-1"]);
    const pool = client.pool<Job, string>("worker", { name: "cp", policy: "round_robin", min: 2 });
    await pool.tell({ op: "who" });
    expect(await pool.ask({ op: "who" })).toBe("cp-1");
  });

  it("agentctl ps shows each pool's members and the messages each handled", { timeout: 60_000 }, async () => {
    const pool = node.pool<Job, string>("worker", { name: "ps", policy: "round_robin", min: 2 });
    for (let i = 0; i < 5; i++) await pool.ask({ op: "who" });
    const table = await agentctl(["ps", "--server", nats.url, "--namespace", NS]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("pool worker/ps: 2 members, 5 handled (ps-0 3, ps-1 2)");
    const json = await agentctl(["ps", "--json", "--server", nats.url, "--namespace", NS]);
    const rows = JSON.parse(json.stdout) as Array<{ id: string; pool?: string; poolIndex?: number; handled: number }>;
    expect(rows.find((r) => r.id === "worker/ps-1")).toMatchObject({ pool: "worker/ps", poolIndex: 1, handled: 2 });
  });
});
