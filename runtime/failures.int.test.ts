// What counts as a failure, against a real server (a receive past
// receiveTimeoutMs, node.kill, a failing start), what happens to messages
// while an agent restarts after a backoff delay, and children added at run
// time with spawn({ supervisor }).

import { describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { Probe, probeAgent, recordDeadLetters, recordEvents, sleep, useNodes, waitFor, type ProbeView } from "./testing/supervision.js";
import { EventKind } from "./events.js";
import { AgentExistsError, AgentNotFoundError, AgentStoppedError, MailboxFullError, RemoteError, SupervisorNotFoundError } from "./errors.js";
import { defineSupervisor } from "./define-supervisor.js";

const nats = useNatsServer();
const nodes = useNodes(nats);

describe("failures", () => {
  it("a receive past receiveTimeoutMs is a failure: the ask gets RemoteError and the agent restarts", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("slow", probe, { receiveTimeoutMs: 300 })]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const letters = recordDeadLetters(node, "slow", "s");
    const ref = await node.spawn("slow", { key: "s" });
    await ref.ask({ op: "inc" });
    const t0 = Date.now();
    const err = await ref.ask({ op: "hang", ms: 20_000 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toContain("did not finish within 300 ms");
    await waitFor(() => probe.starts("slow/s") === 2, "slow/s restarted");
    expect(await ref.ask<ProbeView>({ op: "get" })).toEqual({ n: 1, activation: 2 });
    await waitFor(() => failed.length === 1 && letters.length === 1, "crash report and dead letter");
    expect(failed[0]).toMatchObject({ supervisor: "root", child: "slow/s", reason: "failure", messageType: "hang", restartCount: 1 });
    expect(String(failed[0]!.error)).toContain("did not finish within 300 ms");
    expect(letters[0]).toMatchObject({ messageType: "hang" });
    // a quick async receive is not affected by the limit
    expect(await ref.ask({ op: "hang", ms: 10 })).toBe("late");
  });

  it("node.kill fails the agent: the ask in flight gets RemoteError and its supervisor restarts it", async () => {
    const probe = new Probe();
    const sup = defineSupervisor({ type: "sup", intensity: 5, children: [{ id: "k", type: "w", key: "k" }] });
    const node = await nodes.start([probeAgent("w", probe), sup]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("sup", { key: "s" });
    const busy = node.ref("w/k").ask({ op: "hang", ms: 20_000 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await waitFor(() => probe.seen("w/k", "hang") === 1, "w/k is busy");
    await node.kill("w/k", "operator said so");
    const err = await busy;
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toContain("operator said so");
    await waitFor(() => probe.starts("w/k") === 2, "w/k restarted");
    await waitFor(() => failed.length === 1, "crash report");
    expect(failed[0]).toMatchObject({ supervisor: "sup/s", child: "w/k", reason: "failure", messageType: "hang", error: "killed: operator said so" });

    // an idle agent too
    await node.kill("w/k");
    await waitFor(() => probe.starts("w/k") === 3, "w/k restarted again");
    expect((await node.ref("w/k").ask<ProbeView>({ op: "get" })).activation).toBe(3);
    await expect(node.kill("w/nobody")).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("a failing start is a failure: a static child is restarted, a spawn is refused", async () => {
    const probe = new Probe();
    const sup = defineSupervisor({ type: "sup", intensity: 5, children: [{ id: "f", type: "w", key: "flaky" }] });
    const agent = probeAgent("w", probe, { failStart: (id, n) => (id === "w/flaky" && n === 1) || id === "w/never" });
    const node = await nodes.start([agent, sup]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("sup", { key: "s" });
    await waitFor(() => probe.starts("w/flaky") === 2, "w/flaky started again");
    expect((await waitFor(() => node.ref("w/flaky").ask<ProbeView>({ op: "get" }), "w/flaky answers")).activation).toBe(2);
    await waitFor(() => failed.length === 1, "crash report of the failed start");
    expect(failed[0]).toMatchObject({ supervisor: "sup/s", child: "w/flaky", reason: "failure", messageType: null });
    expect(String(failed[0]!.error)).toContain("start 1 of w/flaky refused");

    const err = await node.spawn("w", { key: "never" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("refused");
    expect((await node.list()).map((r) => r.id)).not.toContain("w/never");
  });
});

describe("messages while an agent restarts", () => {
  const slowRestarts = defineSupervisor({
    type: "sup",
    intensity: 5,
    periodMs: 60_000,
    backoff: { minMs: 1000, maxMs: 5000, factor: 2, jitter: 0 },
    children: [
      { id: "a", type: "w", key: "a" },
      { id: "b", type: "w", key: "b" },
    ],
  });

  it("wait for the new activation after the backoff delay, and are delivered in order", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), slowRestarts]);
    const restarted = recordEvents(node, EventKind.ChildRestarted);
    await node.spawn("sup", { key: "s" });
    const a = node.ref("w/a");
    await a.ask({ op: "inc" });
    const t0 = Date.now();
    await a.tell({ op: "crash" });
    for (let i = 0; i < 3; i++) await a.tell({ op: "inc" });
    const after = await a.ask<ProbeView>({ op: "get" }, { timeoutMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(after).toEqual({ n: 4, activation: 2 });
    expect(probe.seen("w/a", "inc")).toBe(4);
    await waitFor(() => restarted.length === 1, "child_restarted");
    expect(restarted[0]).toMatchObject({ id: "w/a", attempt: 1, delayMs: 1000 });

    // the next restart inside the quiet period backs off further
    await a.tell({ op: "crash" });
    await waitFor(() => restarted.length === 2, "second child_restarted");
    expect(restarted[1]).toMatchObject({ id: "w/a", attempt: 2, delayMs: 2000 });
    expect((await a.ask<ProbeView>({ op: "get" }, { timeoutMs: 10_000 })).activation).toBe(3);
  });

  it("are bounded by the mailbox: past its capacity an ask gets MailboxFullError", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe, { mailboxCapacity: 3 }), slowRestarts]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    await node.spawn("sup", { key: "s" });
    const a = node.ref("w/a");
    await a.tell({ op: "crash" });
    await waitFor(() => failed.length === 1, "w/a failed");
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => a.ask<number>({ op: "inc" }, { timeoutMs: 10_000 }).then((n) => ({ i, n }), (e: unknown) => ({ i, e }))),
    );
    const ok = answers.filter((x) => "n" in x);
    const full = answers.filter((x) => "e" in x);
    expect(ok.map((x) => (x as { n: number }).n).sort()).toEqual([1, 2, 3]);
    expect(full).toHaveLength(2);
    for (const x of full) expect((x as { e: unknown }).e).toBeInstanceOf(MailboxFullError);
    expect(probe.starts("w/a")).toBe(2);
  });

  it("get AgentStoppedError when the agent is stopped for good before its restart", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), slowRestarts]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const letters = recordDeadLetters(node, "w", "a");
    await node.spawn("sup", { key: "s" });
    const a = node.ref("w/a");
    await a.tell({ op: "crash" });
    await waitFor(() => failed.length === 1, "w/a failed");
    const waiting = a.ask({ op: "get" }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await a.tell({ op: "inc" });
    await waitFor(async () => (await node.list()).find((r) => r.id === "w/a")?.mailbox === 2, "two messages waiting");
    await node.stop("w/a");
    expect(await waiting).toBeInstanceOf(AgentStoppedError);
    await waitFor(() => letters.some((l) => l.messageType === "inc"), "the waiting tell dead-lettered");
    await sleep(1500); // past the backoff delay: the cancelled restart must not happen
    expect(probe.starts("w/a")).toBe(1);
    expect((await node.list()).map((r) => r.id).sort()).toEqual(["sup/s", "w/b"]);
  });

  it("a restart pending its backoff is not lost when a sibling fails meanwhile", async () => {
    const probe = new Probe();
    const node = await nodes.start([probeAgent("w", probe), slowRestarts]);
    await node.spawn("sup", { key: "s" });
    await node.ref("w/a").tell({ op: "crash" });
    await waitFor(() => node.tree().children[0]!.children!.find((c) => c.id === "w/a")?.state === "restarting", "w/a restarting");
    await node.ref("w/b").tell({ op: "crash" });
    await waitFor(() => probe.starts("w/a") === 2 && probe.starts("w/b") === 2, "both restarted");
    expect((await node.ref("w/a").ask<ProbeView>({ op: "get" })).activation).toBe(2);
    expect((await node.ref("w/b").ask<ProbeView>({ op: "get" })).activation).toBe(2);
  });
});

describe("dynamic children", () => {
  it("spawn({ supervisor }) adds a child to a running supervisor, which restarts and stops it", async () => {
    const probe = new Probe();
    const team = defineSupervisor({ type: "team", intensity: 5, children: [{ id: "lead", type: "w", key: "lead" }] });
    const node = await nodes.start([probeAgent("w", probe), team]);
    const failed = recordEvents(node, EventKind.ChildFailed);
    const started = recordEvents(node, EventKind.ChildStarted);
    await node.spawn("team", { key: "t1" });
    const w9 = await node.spawn("w", { key: "w9", supervisor: "team/t1", args: { start: 10 } });
    expect(await w9.ask({ op: "inc" })).toBe(11);
    const rows = await node.list();
    expect(rows.find((r) => r.id === "w/w9")).toMatchObject({ supervisor: "team/t1", state: "running" });
    expect(rows.find((r) => r.id === "team/t1")).toMatchObject({ supervisor: "root", state: "running" });
    expect(node.tree().children.map((c) => [c.id, c.children?.map((g) => g.id)])).toEqual([["team/t1", ["w/lead", "w/w9"]]]);
    // the supervisor is an agent: it answers with its subtree
    const self = await node.ref("team/t1").ask<{ id: string; strategy: string; children: { id: string }[] }>({});
    expect(self.id).toBe("team/t1");
    expect(self.children.map((c) => c.id)).toEqual(["w/lead", "w/w9"]);
    await waitFor(() => started.some((e) => e.id === "w/w9" && e.supervisor === "team/t1"), "child_started of w9");

    await expect(w9.ask({ op: "crash" })).rejects.toBeInstanceOf(RemoteError);
    await waitFor(() => probe.starts("w/w9") === 2, "w9 restarted by team");
    expect(await w9.ask<ProbeView>({ op: "get" })).toEqual({ n: 11, activation: 2 });
    await waitFor(() => failed.length === 1, "crash report");
    expect(failed[0]).toMatchObject({ supervisor: "team/t1", child: "w/w9" });
    expect(probe.starts("w/lead")).toBe(1);

    await expect(node.spawn("w", { key: "w9", supervisor: "team/t1" })).rejects.toBeInstanceOf(AgentExistsError);
    await expect(node.spawn("w", { key: "w10", supervisor: "team/nope" })).rejects.toBeInstanceOf(SupervisorNotFoundError);

    const mark = probe.log.length;
    await node.stop("team/t1");
    expect(probe.since(mark)).toEqual(["stop:w/w9", "stop:w/lead"]);
    expect(await node.list()).toEqual([]);
  });

  it("a transient dynamic child that stops itself is not restarted, and may be spawned again", async () => {
    const probe = new Probe();
    const team = defineSupervisor({ type: "team", intensity: 5 });
    const node = await nodes.start([probeAgent("w", probe), team]);
    await node.spawn("team", { key: "t1" });
    const job = await node.spawn("w", { key: "job", supervisor: "team/t1", restart: "transient" });
    expect(await job.ask({ op: "stop" })).toBe("bye");
    await waitFor(async () => !(await node.list()).some((r) => r.id === "w/job"), "job gone");
    expect(probe.starts("w/job")).toBe(1);
    await node.spawn("w", { key: "job", supervisor: "team/t1", restart: "transient" });
    expect((await job.ask<ProbeView>({ op: "get" })).activation).toBe(2);
  });
});
