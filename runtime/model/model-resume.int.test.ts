// Resume after a crash: a node running a model agent's 10-step loop is
// SIGKILLed while the 5th tool call runs; a surviving node adopts the agent,
// which goes on from its journal. Counted at the scripted model server and in
// the tool: no model call that had completed is sent again, no tool call that
// had completed runs again, and the one in flight at the crash runs again
// with the same idempotency key. The caller, asking again with the request's
// id, gets the answer.

import { afterEach, describe, expect, it } from "vitest";
import { useNatsServer } from "../testing/server.js";
import { waitFor } from "../testing/wait.js";
import { startModelServer } from "../testing/model-server.js";
import { startModelNode, type ModelNode } from "../testing/model/model-node.js";
import { looperAgent, loopScript, repeatedModelCalls, type StepReport } from "../testing/model/looper.js";
import { startNode, type TroupeNode } from "../node.js";
import type { ModelReply } from "./journal.js";

const nats = useNatsServer();
const closing: Array<ModelNode | TroupeNode | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await ("kill" in c && "reports" in c ? c.stop() : (c as { close(): Promise<void> }).close()).catch(() => {});
});

describe("a model agent after its node is SIGKILLed mid-loop", () => {
  it("resumes from the journal: 0 completed model calls and 0 completed tool calls repeated", async () => {
    const ns = "resume";
    const model = await startModelServer(loopScript(10));
    closing.push(model);
    const doomed = await startModelNode({ servers: nats.url, namespace: ns, name: "doomed", modelUrl: model.url, toolMs: 300 });
    closing.push(doomed);
    const client = await startNode({ servers: nats.url, namespace: ns, name: "client", agents: [], failover: false });
    closing.push(client);
    await client.spawn("looper", { key: "job1", node: doomed.id });
    const survivorReports: StepReport[] = [];
    const survivor = await startNode({ servers: nats.url, namespace: ns, name: "survivor", heartbeatMs: 100, agents: [looperAgent(model.url, 300, (r) => survivorReports.push(r))] });
    closing.push(survivor);

    const ref = client.ref("looper", "job1");
    const first = ref.ask<ModelReply>("work", { id: "job-1", timeoutMs: 2_000 }).catch((e: unknown) => e);
    // SIGKILL while the 5th tool call runs: four finished, the fifth started.
    await waitFor(() => doomed.reports.some((r) => "started" in r && r.started.endsWith("/call_5")), "the 5th tool call to start", 20_000);
    await doomed.kill();
    await first; // the first ask ends with a typed error (its keep-alives stopped) or, had it been quick, the answer

    // The survivor adopts the agent, which resumes by itself; asking again with the request's id gets its answer.
    await waitFor(async () => (await client.whereIs("looper/job1")) === survivor.id, "the survivor to adopt looper/job1", 20_000);
    const reply = await ref.ask<ModelReply>("work", { id: "job-1", timeoutMs: 2_000 });
    expect(reply.text).toBe("finished 9 steps");
    expect(reply.steps).toBe(10);

    expect(repeatedModelCalls(model.requests)).toBe(0);
    expect(model.calls).toBe(10);
    const all = [...doomed.reports, ...survivorReports];
    const started = (key: string): number => all.filter((r) => "started" in r && r.started === key).length;
    const finished = (key: string): number => all.filter((r) => "finished" in r && r.finished === key).length;
    for (let n = 1; n <= 9; n++) {
      const key = `looper/job1/job-1/call_${n}`;
      // The one in flight at the crash runs again, with the same key; every other runs once.
      expect([key, started(key)]).toEqual([key, n === 5 ? 2 : 1]);
      expect([key, finished(key)]).toEqual([key, 1]);
    }
    expect(doomed.reports.filter((r) => "finished" in r).length).toBe(4);
  }, 60_000);
});
