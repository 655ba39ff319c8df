// Troupe on a 3-server NATS cluster with every bucket and stream replicated
// three times, two nodes on different servers, under a steady load of asks
// (each one an increment of a persisted counter). Servers die: the one a node
// is connected to, the JetStream meta leader, the leaders of the state and of
// the registry streams. Through each loss: no ask hangs past its deadline
// (each is answered or fails with a typed error), agents answer again, no
// acknowledged increment is lost, and no agent runs on two nodes at once.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNatsCluster, type NatsCluster } from "./testing/nats-cluster.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { openConnection } from "./connection.js";
import { defineAgent } from "./define-agent.js";
import { Subjects } from "./subjects.js";
import { AgentExistsError, TroupeError } from "./errors.js";
import type { AgentRef } from "./agent-ref.js";

const NS = "chaos";
/** An ask's own deadline; one still unsettled this long after it has hung. */
const ASK_TIMEOUT_MS = 2_000;
const HUNG_AFTER_MS = ASK_TIMEOUT_MS + 5_000;

/** Every activation of a tally, as it started (both nodes run in this process). */
const activations: { key: string; node: string }[] = [];

const tally = defineAgent({
  type: "tally",
  state: () => ({ n: 0 }),
  onStart(ctx) {
    activations.push({ key: ctx.key, node: ctx.node });
  },
  receive(_msg: { inc: true }, ctx) {
    return ++ctx.state.n;
  },
});

type Tally = AgentRef<{ inc: true }, number>;

/** What the load saw for one agent. */
interface Record {
  acked: number;
  highest: number;
  typedFailures: number;
  lastFailure?: string;
}

/** Asks every agent in a loop until stopped, counting answers, typed failures, untyped failures and hangs. */
class AskLoad {
  readonly records = new Map<string, Record>();
  hung = 0;
  readonly untyped: unknown[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    targets: Map<string, Tally>,
    private readonly whereIs: (key: string) => Promise<string>,
  ) {
    for (const [key, ref] of targets) {
      const rec: Record = { acked: 0, highest: 0, typedFailures: 0 };
      this.records.set(key, rec);
      this.loops.push(this.loop(ref, rec));
    }
  }

  private async loop(ref: Tally, rec: Record): Promise<void> {
    while (this.running) {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), HUNG_AFTER_MS)));
      const outcome = await Promise.race([
        ref.ask({ inc: true }, { timeoutMs: ASK_TIMEOUT_MS }).then(
          (n) => ({ n }),
          (err: unknown) => ({ err }),
        ),
        hung,
      ]);
      clearTimeout(timer);
      if (outcome === "hung") {
        this.hung++;
      } else if ("n" in outcome) {
        rec.acked++;
        rec.highest = Math.max(rec.highest, outcome.n);
      } else if (outcome.err instanceof TroupeError) {
        rec.typedFailures++;
        rec.lastFailure = `${outcome.err.name}: ${outcome.err.message}`;
        await new Promise((r) => setTimeout(r, 50));
      } else {
        this.untyped.push(outcome.err);
      }
    }
  }

  /** Until every agent has had `more` answers beyond what it had now. */
  async answeredAgain(more: number, what: string): Promise<void> {
    const base = new Map([...this.records].map(([k, r]) => [k, r.acked]));
    const behind = () => [...this.records].filter(([k, r]) => r.acked < base.get(k)! + more);
    await waitFor(() => behind().length === 0, `every agent answers again after ${what}`, 50_000).catch(async (err: unknown) => {
      const silent = await Promise.all(behind().map(async ([k, r]) => `${k} (${r.lastFailure ?? "no failure"}; ${await this.whereIs(k)})`));
      throw new Error(`${String(err)}; still silent: ${silent.join(", ")}`);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe("a node pair on a 3-server cluster", { timeout: 180_000 }, () => {
  let cluster: NatsCluster;
  const conns: NatsConnection[] = [];
  const nodes: TroupeNode[] = [];
  const refs = new Map<string, Tally>();
  let load: AskLoad | undefined;
  let overlaps: string[] = [];
  let sampler: NodeJS.Timeout | undefined;

  /** Agents listed running on two nodes at the same moment (the lists are local: no network involved). */
  const sample = async () => {
    const lists = await Promise.all(nodes.map((n) => n.list().catch(() => [])));
    const seen = new Map<string, string>();
    lists.forEach((list, i) => {
      for (const a of list) {
        if (a.state !== "running") continue;
        const other = seen.get(a.id);
        if (other !== undefined) overlaps.push(`${a.id} on ${other} and ${nodes[i]!.id}`);
        seen.set(a.id, nodes[i]!.id);
      }
    });
  };

  /** Where an agent stands on each node, and its activations so far (for a failure's message). */
  const whereIs = async (key: string): Promise<string> => {
    const lists = await Promise.all(nodes.map(async (n) => `${n.id}: ${(await n.list()).filter((a) => a.key === key).map((a) => `${a.state}, ${a.restarts} restarts, ${a.failures} failures`).join("; ") || "-"}`));
    return `${lists.join(" | ")} | activations on ${activations.filter((a) => a.key === key).map((a) => a.node).join(",")}`;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    // Node a talks to n1, node b to n2 (each moves to another server when its own dies).
    for (const [name, first] of [
      ["a", 0],
      ["b", 1],
    ] as const) {
      const urls = [cluster.urls[first]!, ...cluster.urls.filter((_, i) => i !== first)];
      const nc = await openConnection({ servers: urls, nats: { noRandomize: true, reconnectTimeWait: 100 } });
      conns.push(nc);
      nodes.push(await startNode({ connection: nc, namespace: NS, name, agents: [tally], replicas: 3 }));
    }
    for (let i = 0; i < 6; i++) {
      const host = nodes[i % 2]!;
      await host.spawn("tally", { key: `t${i}`, node: host.id });
      // Asked from the other node: every ask crosses the cluster.
      refs.set(`t${i}`, nodes[(i + 1) % 2]!.ref<{ inc: true }, number>("tally", `t${i}`));
    }
    sampler = setInterval(() => void sample(), 100);
  }, 120_000);

  afterAll(async () => {
    clearInterval(sampler);
    await load?.stop();
    for (const n of nodes) await n.close().catch(() => {});
    for (const nc of conns) await nc.close().catch(() => {});
    await cluster?.dispose();
  });

  /** Load on, one answer each, `act`, answers again, load off; then what the load saw must hold. */
  async function underLoad(act: () => Promise<string>): Promise<AskLoad> {
    overlaps = [];
    load = new AskLoad(refs, whereIs);
    await load.answeredAgain(1, "the start");
    const what = await act();
    await load.answeredAgain(3, what);
    await load.stop();
    const seen = load;
    load = undefined;

    expect(seen.hung).toBe(0);
    expect(seen.untyped).toEqual([]);
    expect(overlaps).toEqual([]);
    // No acknowledged increment lost: the persisted count covers every answer (asks that timed out may have applied too).
    for (const [key, rec] of seen.records) {
      const stored = (await nodes[0]!.persistedState(`tally/${key}`))?.value as { n: number } | undefined;
      expect(stored?.n ?? 0, key).toBeGreaterThanOrEqual(rec.highest);
    }
    return seen;
  }

  it("keeps answering when the server a node is connected to dies: its client moves to another", async () => {
    const nc = conns[0]!;
    expect(nc.info?.server_name).toBe("n1");
    await underLoad(async () => {
      await cluster.kill("n1");
      await waitFor(async () => (nc.info?.server_name !== "n1" ? true : undefined), "node a on another server");
      return "n1 died";
    });
    expect(nc.info?.server_name).not.toBe("n1");
    await cluster.restart("n1");
  });

  it("writes resume after the JetStream meta leader, the state stream's leader and the registry stream's leader die", async () => {
    const subjects = new Subjects(NS);
    const targets: [string, () => Promise<string>][] = [
      ["the meta leader", () => cluster.waitForMetaLeader()],
      ["the state stream's leader", () => cluster.waitForStreamLeader(`KV_${subjects.stateBucket()}`)],
      ["the registry stream's leader", () => cluster.waitForStreamLeader(`KV_${subjects.registryBucket()}`)],
    ];
    for (const [role, find] of targets) {
      const victim = await find();
      await underLoad(async () => {
        await cluster.kill(victim);
        if (role === "the registry stream's leader") {
          // A registry write (a claim by compare-and-set) goes through once the stream has a new leader.
          await waitFor(
            () =>
              nodes[1]!.spawn("tally", { key: "late", node: nodes[1]!.id }).then(
                () => true,
                (err: unknown) => err instanceof AgentExistsError,
              ),
            "a spawn after the registry's leader died",
            50_000,
          );
        }
        return `${role} (${victim}) died`;
      });
      await cluster.restart(victim);
    }
    expect(activations.some((a) => a.key === "late")).toBe(true);
    await sample();
    expect(overlaps).toEqual([]);
  });
});
