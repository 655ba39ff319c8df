// The `model` scenario: what the model-agent loop costs and what it keeps,
// against a scripted OpenAI-compatible model server in this process.
//
// 1. Step overhead: a loop of ten model calls (nine tool calls, then the
//    answer), run as a Troupe model agent (on demand, one conversation per
//    run, the journal committed to the state bucket step by step) and as the
//    same loop written directly with the same ModelClient, the same model
//    server and the same tool function, in the same process, runs of the two
//    in a seeded order. A step is the time between two model calls of one
//    conversation, noted by the model server as each call arrives, so the
//    ask and the activation are not in it.
// 2. Resume after SIGKILL: a node in a process of its own runs the loop with
//    a tool that takes 200 ms and prints each execution with its idempotency
//    key; the process is killed while the 5th tool call runs; a node in this
//    process takes the agent over (the prompt is sent again with the same id)
//    and the request goes on from the journal. The model server's requests
//    and the tool's lines say what was repeated.
// 3. Runaway: a model that never stops calling its tool, under a budget of 8
//    model calls per request, run again and again.
// 4. A long answer streamed for seconds, a chunk every 200 ms, through a
//    stream whose inactivity timeout is 1 s.

import { connectClient, startNode, BudgetExceededError, type Chunk, type Journal, type ModelReply, type TroupeNode } from "../../actors/index.js";
import { systemClock } from "../../runtime/clock.js";
import { ModelClient } from "../../runtime/model/model-client.js";
import { nextStep } from "../../runtime/model/journal.js";
import { lastUserText } from "../../runtime/testing/model-script.js";
import { startModelServer, type ModelServer } from "../../runtime/testing/model-server.js";
import { childMain, startChildProcess, type ChildHandle } from "../child-process.js";
import { loadAverageNow } from "../environment.js";
import {
  BenchModel,
  BenchModelType,
  LONG_MODEL_TIMEOUT_MS,
  LOOP_STEPS,
  longAgent,
  Prompt,
  resumeAgent,
  RUNAWAY_BUDGET,
  runawayAgent,
  SLOW_STEP_MS,
  stepsAgent,
  type StepReport,
} from "../model/bench-model.js";
import { runDirectLoop } from "../model/direct-loop.js";
import { countToolRepeats, journaledCallLengths, repeatedModelCalls, stepIntervals } from "../model/repeat-count.js";
import { rng, shuffled } from "../random.js";
import { compare, errorText, type Metric, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";
import { processCpuMs } from "../process-cpu.js";
import { percentiles } from "../stats.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const ModelFigure = {
  StepP50: "model step time p50, Troupe agent vs the loop written directly",
  StepP99: "model step time p99, Troupe agent vs the loop written directly",
  Overhead: "step overhead p50 (Troupe p50 − direct p50)",
  OverheadP99: "step overhead p99 (Troupe p99 − direct p99)",
  Request: "request of 10 model calls p50, Troupe ask (with activation) vs direct",
  RequestCpu: "CPU per request of 10 model calls (benchmark process + nats-server), Troupe vs direct",
  RepeatedModelCalls: "after SIGKILL: completed model calls sent again",
  RepeatedToolCalls: "after SIGKILL: completed tool calls run again",
  InFlightRerun: "after SIGKILL: in-flight tool call run again with its key",
  Resumed: "after SIGKILL: request completed on the other node",
  ResumeMs: "after SIGKILL: kill → the request's answer",
  FirstAsker: "after SIGKILL: first asker got a typed error or the answer",
  Runaway: "runaway loops stopped at exactly the budget with BudgetExceededError",
  Long: "long streamed answer completed through a 1 s inactivity timeout",
  LongestGap: "long answer: longest wait between two chunks",
} as const;

/** The goal of the step overhead: at most this many ms per step, p50. */
export const MODEL_STEP_OVERHEAD_GOAL_MS = 2;

interface Sizes {
  /** Measured runs of the step loop, each way. */
  runs: number;
  /** Runs each way before measuring (connections, JIT). */
  warmup: number;
  runaways: number;
  /** How long the long answer streams. */
  longMs: number;
}

const QUICK: Sizes = { runs: 30, warmup: 10, runaways: 5, longMs: 5_000 };
const FULL: Sizes = { runs: 200, warmup: 10, runaways: 20, longMs: 20_000 };

const NAMESPACE = "benchmodel";
const RESUME_NAMESPACE = "benchmodelresume";
const HEARTBEAT_MS = 250;
/** The resume run's process is killed while this tool call (1-based) runs. */
const KILL_AT_TOOL_CALL = 5;
const ASK_TIMEOUT_MS = 30_000;
/** The first asker of the resume run: its keep-alives stop with the node, and it is told within this. */
const FIRST_ASK_TIMEOUT_MS = 5_000;
const CHUNK_EVERY_MS = 200;
const INACTIVITY_MS = 1_000;
const REQUEST_ID = "bench-resume-1";

const Way = { Troupe: "troupe", Direct: "direct" } as const;
type Way = (typeof Way)[keyof typeof Way];

/** The ids of the model's last tool calls that have no result in the journal: what a resume runs (again). */
function unanswered(j: Journal): string[] {
  const step = j.request ? nextStep(j, j.request) : undefined;
  return step?.kind === "tools" ? step.calls.map((c) => c.id) : [];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Step overhead: the loop as a Troupe model agent and written directly, in a seeded order. */
async function stepOverhead(ctx: ScenarioContext, sizes: Sizes, node: TroupeNode, model: ModelServer, bench: BenchModel, serverPid: number) {
  const client = new ModelClient({ baseURL: model.url, model: "scripted", apiKey: "bench" }, systemClock);
  const steps: Record<Way, number[]> = { troupe: [], direct: [] };
  const requests: Record<Way, number[]> = { troupe: [], direct: [] };
  /** CPU time (ms) of this process and the nats-server over the measured runs. */
  const cpuMs: Record<Way, number> = { troupe: 0, direct: 0 };
  const cpuNow = (): number => processCpuMs(process.pid) + processCpuMs(serverPid);
  let n = 0;
  const run = async (way: Way, measured: boolean): Promise<void> => {
    const key = `${way}-${n++}`;
    const prompt = Prompt.loop(key);
    const cpu0 = cpuNow();
    const t0 = performance.now();
    let calls: number;
    if (way === Way.Troupe) {
      const reply = await node.ref<{ prompt: string }, ModelReply>(BenchModelType.Steps, key).ask({ prompt }, { timeoutMs: ASK_TIMEOUT_MS });
      calls = reply.steps;
    } else {
      calls = (await runDirectLoop(client, prompt)).steps;
    }
    const elapsed = performance.now() - t0;
    const cpu = cpuNow() - cpu0;
    const intervals = stepIntervals(bench.take(prompt));
    check(calls === LOOP_STEPS && intervals.length === LOOP_STEPS - 1, `the ${way} loop ${key} made ${calls} model calls (${intervals.length + 1} seen by the model server), not ${LOOP_STEPS}`);
    if (!measured) return;
    steps[way].push(...intervals);
    requests[way].push(elapsed);
    cpuMs[way] += cpu;
  };
  const random = rng(ctx.seed);
  const total = sizes.warmup + sizes.runs;
  for (let i = 0; i < total; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    for (const way of shuffled([Way.Troupe, Way.Direct], random)) await run(way, i >= sizes.warmup);
    ctx.progress((0.6 * (i + 1)) / total, `step loop, run ${i + 1} of ${total} each way`);
  }
  return {
    steps: { troupe: percentiles(steps.troupe), direct: percentiles(steps.direct) },
    requests: { troupe: percentiles(requests.troupe), direct: percentiles(requests.direct) },
    cpuPerRequest: { troupe: cpuMs.troupe / sizes.runs, direct: cpuMs.direct / sizes.runs },
  };
}

/** Resume after SIGKILL: the loop's node process killed in its 5th tool call, the agent taken over by a node here. */
async function resumeAfterKill(ctx: ScenarioContext, servers: string, model: ModelServer, bench: BenchModel) {
  const tools: StepReport[] = [];
  let starts = 0;
  let fifth!: () => void;
  const fifthStarted = new Promise<void>((resolve) => (fifth = resolve));
  const child: ChildHandle = await startChildProcess({
    main: childMain(import.meta.url, "../model/model-node-main"),
    args: ["--servers", servers, "--namespace", RESUME_NAMESPACE, "--name", "bm-a", "--heartbeat-ms", String(HEARTBEAT_MS), "--model-url", model.url],
    label: "model node process bm-a",
    onLine: (line) => {
      let msg: { tool?: unknown; key?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if ((msg.tool !== "start" && msg.tool !== "end") || typeof msg.key !== "string") return;
      tools.push({ key: msg.key, phase: msg.tool });
      if (msg.tool === "start" && ++starts === KILL_AT_TOOL_CALL) fifth();
    },
  });
  ctx.defer(() => child.stop());
  ctx.log(`resume: node process bm-a, pid ${child.pid}`);

  const client = await connectClient({ servers, namespace: RESUME_NAMESPACE, name: "bench-caller" });
  ctx.defer(() => client.close());
  const ref = client.ref<{ prompt: string }, ModelReply>(BenchModelType.Resume, "r1");
  const prompt = Prompt.loop("resume");
  const first = ref.ask({ prompt }, { id: REQUEST_ID, timeoutMs: FIRST_ASK_TIMEOUT_MS }).then(
    (reply) => ({ answered: true as const, reply }),
    (err: unknown) => ({ answered: false as const, err }),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`tool call ${KILL_AT_TOOL_CALL} did not start within ${ASK_TIMEOUT_MS / 1000} s`)), ASK_TIMEOUT_MS)));
  try {
    await Promise.race([fifthStarted, late]);
  } finally {
    clearTimeout(timer);
  }
  await child.kill("SIGKILL");
  const killedAt = performance.now();
  const toolLinesAtKill = tools.length;
  const callsAtKill = model.requests.length;
  const finishedBeforeKill = tools.filter((t) => t.phase === "end").length;
  ctx.log(`resume: SIGKILL in tool call ${KILL_AT_TOOL_CALL} (${SLOW_STEP_MS} ms long); ${finishedBeforeKill} tool calls had finished`);

  const stored = await client.persistedState(`${BenchModelType.Resume}/r1`);
  const journal = stored?.value as Journal | undefined;
  check(journal?.request?.id === REQUEST_ID, `the journal at the kill has no open request ${REQUEST_ID}`);
  const journaled = journaledCallLengths(journal!.messages, 1);
  ctx.log(
    `resume: the journal at the kill holds ${journaled.size} model answers and ${journal!.messages.filter((m) => m.role === "tool").length} tool results; the model's last tool calls without a result: ${JSON.stringify(unanswered(journal!))}`,
  );

  const survivor = await startNode({ servers, namespace: RESUME_NAMESPACE, name: "bm-b", heartbeatMs: HEARTBEAT_MS, agents: [resumeAgent(model.url, (r) => tools.push(r))] });
  ctx.defer(() => survivor.close());
  // Sent again with the same id: the new activation, here, goes on from the journal and answers it.
  let reply: ModelReply | undefined;
  let failure: string | undefined;
  try {
    reply = await ref.ask({ prompt }, { id: REQUEST_ID, timeoutMs: ASK_TIMEOUT_MS });
  } catch (err) {
    failure = errorText(err);
  }
  const resumeMs = performance.now() - killedAt;
  const firstOutcome = await first;
  bench.take(prompt);

  const lengthsAfter = model.requests
    .slice(callsAtKill)
    .filter((r) => lastUserText(r) === prompt)
    .map((r) => r.messages.length);
  const conversationCalls = model.requests.filter((r) => lastUserText(r) === prompt).length;
  const repeats = countToolRepeats(tools);
  const completed = reply !== undefined && reply.steps === LOOP_STEPS && reply.text === `done after ${LOOP_STEPS - 1} steps`;
  ctx.log(
    `resume: ${failure ? `the request failed: ${failure}` : `answered "${reply!.text}" after ${reply!.steps} model calls`}, ${resumeMs.toFixed(0)} ms after the kill; model calls for the conversation ${conversationCalls} (${lengthsAfter.length} after the kill, of lengths ${lengthsAfter.join(", ")}); tool executions ${repeats.executions} for ${repeats.keys} keys (${tools.length - toolLinesAtKill} events after the kill)`,
  );
  ctx.log(`resume: the first asker (its node killed) got ${firstOutcome.answered ? "the answer" : errorText(firstOutcome.err)}`);
  return {
    repeatedModelCalls: repeatedModelCalls(lengthsAfter, journaled),
    repeatedToolCalls: repeats.repeatedCompleted,
    inFlightRerun: repeats.rerunInFlight,
    completed,
    resumeMs,
    firstAskerTold: firstOutcome.answered || firstOutcome.err instanceof Error,
    failure,
  };
}

/** Runaway loops under a budget of model calls: how many stopped exactly there with BudgetExceededError. */
async function runaways(ctx: ScenarioContext, sizes: Sizes, node: TroupeNode, model: ModelServer) {
  let stopped = 0;
  const misses: string[] = [];
  for (let k = 0; k < sizes.runaways; k++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const key = `loop-${k}`;
    const before = model.calls;
    const outcome = await node
      .ref<{ prompt: string }, ModelReply>(BenchModelType.Runaway, key)
      .ask({ prompt: Prompt.runaway(key) }, { timeoutMs: ASK_TIMEOUT_MS })
      .catch((err: unknown) => err);
    const calls = model.calls - before;
    const exact = outcome instanceof BudgetExceededError && outcome.limit === "modelCalls" && outcome.allowed === RUNAWAY_BUDGET && outcome.spent === RUNAWAY_BUDGET && calls === RUNAWAY_BUDGET;
    if (exact) stopped++;
    else misses.push(`${key}: ${outcome instanceof Error ? errorText(outcome) : "answered"} after ${calls} model calls`);
    ctx.progress(0.8 + (0.05 * (k + 1)) / sizes.runaways, `runaway loop ${k + 1} of ${sizes.runaways}`);
  }
  if (misses.length > 0) ctx.log(`runaway: not stopped at the budget: ${misses.join("; ")}`);
  return stopped;
}

/** One long answer streamed for `longMs`, a chunk every 200 ms, through a stream with a 1 s inactivity timeout. */
async function longAnswer(ctx: ScenarioContext, sizes: Sizes, node: TroupeNode) {
  const stream = node.ref<{ prompt: string }, ModelReply>(BenchModelType.Long, "long-1").stream({ prompt: Prompt.long("long-1", sizes.longMs, CHUNK_EVERY_MS) }, { inactivityMs: INACTIVITY_MS });
  const t0 = performance.now();
  /** When the last chunk came; the wait for the first one (the activation, the model's first word) is not a gap. */
  let last: number | undefined;
  let longestGap = 0;
  let texts = 0;
  let done: Chunk | undefined;
  let failure: string | undefined;
  try {
    for await (const chunk of stream) {
      const now = performance.now();
      if (last !== undefined) longestGap = Math.max(longestGap, now - last);
      last = now;
      if (chunk.type === "text") texts++;
      if (chunk.type === "done") done = chunk;
      ctx.progress(0.85 + 0.15 * Math.min(1, (now - t0) / sizes.longMs), "long streamed answer");
    }
  } catch (err) {
    failure = errorText(err);
  }
  const elapsedMs = performance.now() - t0;
  const expected = Math.max(1, Math.round(sizes.longMs / CHUNK_EVERY_MS));
  ctx.log(`long answer: ${failure ? `failed: ${failure}` : "done"} after ${(elapsedMs / 1000).toFixed(1)} s, ${texts} text chunks of ${expected}, longest wait between chunks ${longestGap.toFixed(0)} ms`);
  return { completed: done !== undefined && texts === expected, elapsedMs, longestGap };
}

export const modelScenario: Scenario = {
  name: "model",
  title: "Model agents: step overhead, resume after SIGKILL, budgets, long answers",
  description:
    "A loop of 10 model calls (9 tool calls, then the answer) against a scripted OpenAI-compatible model server in the benchmark process, run as a Troupe model agent (on demand, one conversation per run, each step journaled in the state bucket) and as the same loop written directly with the same model client and tool function: the time per step and Troupe's overhead per step. Then the loop with a 200 ms tool in a node process killed with SIGKILL in its 5th tool call and taken over by a node here: model calls and tool calls repeated. Then a runaway loop under a budget of 8 model calls, and an answer streamed for seconds through a 1 s inactivity timeout.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "What the model-agent loop costs per step over the same loop written directly, and what a SIGKILL in the middle of it repeats (nothing that had completed).";
    const loadAtStart = loadAverageNow();
    ctx.progress(0, "starting the NATS server, the scripted model and a node");
    const bench = new BenchModel();
    let node: TroupeNode;
    let model: ModelServer;
    let servers: string;
    let serverPid: number;
    try {
      const server = await ctx.startServer();
      servers = server.url;
      serverPid = server.pid;
      model = await startModelServer(bench.respond);
      ctx.defer(() => model.close());
      node = await startNode({ servers, namespace: NAMESPACE, name: "bm-local", agents: [stepsAgent(model.url), runawayAgent(model.url), longAgent(model.url)] });
      ctx.defer(() => node.close());
    } catch (err) {
      return { name: "model", ok: false, summary, metrics: [], error: `could not set up: ${errorText(err)}` };
    }

    try {
      const overhead = await stepOverhead(ctx, sizes, node, model, bench, serverPid);
      ctx.progress(0.6, "resume after SIGKILL");
      const resume = await resumeAfterKill(ctx, servers, model, bench);
      ctx.progress(0.8, "runaway loops");
      const stopped = await runaways(ctx, sizes, node, model);
      const long = await longAnswer(ctx, sizes, node);
      ctx.progress(1, "done");
      const loadAtEnd = loadAverageNow();

      const { steps, requests, cpuPerRequest } = overhead;
      const overheadP50 = steps.troupe.p50 - steps.direct.p50;
      const overheadP99 = steps.troupe.p99 - steps.direct.p99;
      const zero = (name: string, value: number, unit: string): Metric => ({ name, unit, better: "lower", troupe: value, goal: "0", pass: value === 0 });
      const metrics: Metric[] = [
        compare({ name: ModelFigure.StepP50, unit: "ms", better: "lower", troupe: steps.troupe.p50, baseline: steps.direct.p50 }),
        compare({ name: ModelFigure.StepP99, unit: "ms", better: "lower", troupe: steps.troupe.p99, baseline: steps.direct.p99 }),
        { name: ModelFigure.Overhead, unit: "ms", better: "lower", troupe: overheadP50, goal: `≤ ${MODEL_STEP_OVERHEAD_GOAL_MS} ms`, pass: overheadP50 <= MODEL_STEP_OVERHEAD_GOAL_MS },
        { name: ModelFigure.OverheadP99, unit: "ms", better: "lower", troupe: overheadP99 },
        compare({ name: ModelFigure.Request, unit: "ms", better: "lower", troupe: requests.troupe.p50, baseline: requests.direct.p50 }),
        compare({ name: ModelFigure.RequestCpu, unit: "ms", better: "lower", troupe: cpuPerRequest.troupe, baseline: cpuPerRequest.direct }),
        zero(ModelFigure.RepeatedModelCalls, resume.repeatedModelCalls, "calls"),
        zero(ModelFigure.RepeatedToolCalls, resume.repeatedToolCalls, "calls"),
        { name: ModelFigure.InFlightRerun, unit: "calls", troupe: resume.inFlightRerun },
        { name: ModelFigure.Resumed, unit: "requests", better: "higher", troupe: resume.completed ? 1 : 0, goal: "1", pass: resume.completed },
        { name: ModelFigure.ResumeMs, unit: "ms", better: "lower", troupe: resume.resumeMs },
        { name: ModelFigure.FirstAsker, unit: "asks", better: "higher", troupe: resume.firstAskerTold ? 1 : 0, goal: "1", pass: resume.firstAskerTold },
        { name: ModelFigure.Runaway, unit: "requests", better: "higher", troupe: stopped, goal: `${sizes.runaways} of ${sizes.runaways}`, pass: stopped === sizes.runaways },
        { name: ModelFigure.Long, unit: "requests", better: "higher", troupe: long.completed ? 1 : 0, goal: "1", pass: long.completed },
        { name: ModelFigure.LongestGap, unit: "ms", better: "lower", troupe: long.longestGap },
      ];
      return {
        name: "model",
        ok: true,
        summary,
        metrics,
        latency: [
          {
            title: `One step of the loop (model answer, tool call, next model call), ${sizes.runs} runs of ${LOOP_STEPS - 1} steps each way`,
            rows: [
              { label: "Troupe model agent (journal in the state bucket)", unit: "ms", ...steps.troupe },
              { label: "the same loop written directly", unit: "ms", ...steps.direct },
            ],
          },
          {
            title: `A request of ${LOOP_STEPS} model calls, end to end`,
            rows: [
              { label: "Troupe ask to a new on-demand agent (activation included)", unit: "ms", ...requests.troupe },
              { label: "the same loop written directly", unit: "ms", ...requests.direct },
            ],
          },
        ],
        notes: [
          `Step overhead: ${sizes.runs} measured runs each way after ${sizes.warmup} warm-up runs, Troupe and direct runs in an order drawn from the seed. A step is the time between two consecutive model calls of one conversation as the model server sees them arrive: the model's answer going back, the client reading it, the tool call, the next call going out; for Troupe also the journal (the model's answer committed before the tool runs, its result committed before the next call) and the dispatch. The ask and the on-demand activation are outside the steps; the request row has them. The tool returns at once, so the step is all overhead on both sides. CPU per request: user and system time of the benchmark process (which runs the model server, the node and the direct loop) and the nats-server over the measured runs of each way, divided by the runs (from /proc, in clock ticks); it moves less than the wall time with other work on the machine.`,
          `Resume: the node process is killed with SIGKILL while tool call ${KILL_AT_TOOL_CALL} of ${LOOP_STEPS - 1} runs (the tool takes ${SLOW_STEP_MS} ms and prints its start and end with its idempotency key); the journal is read from the state bucket after the kill; a node in the benchmark process (heartbeat ${HEARTBEAT_MS} ms) hosts the type, and the prompt is sent again with the same ask id: it activates the agent there once the killed node's heartbeat has lapsed, and the new activation goes on from the journal. A completed model call repeated is a call after the kill whose conversation length the journal already had an answer for; a completed tool call repeated is an execution with an idempotency key whose earlier execution had finished. The in-flight call run again (expected 1) is the killed one, run again with the same key. The first asker's node died under it: it gets a typed error within its ${FIRST_ASK_TIMEOUT_MS / 1000} s keep-alive timeout, or the answer.`,
          `Runaway: ${sizes.runaways} requests to a model that calls its tool on every answer, with a budget of ${RUNAWAY_BUDGET} model calls a request; stopped at exactly the budget means BudgetExceededError (modelCalls, allowed ${RUNAWAY_BUDGET}, spent ${RUNAWAY_BUDGET}) with ${RUNAWAY_BUDGET} calls seen by the model server.`,
          `Long answer: the model streams for ${sizes.longMs / 1000} s, a chunk every ${CHUNK_EVERY_MS} ms; the stream's inactivity timeout is ${INACTIVITY_MS} ms and the model client's ${LONG_MODEL_TIMEOUT_MS / 1000} s, each reset by every chunk. The five-minute answer of the goal is played on a fake clock by the model server's tests (runtime/testing/model-server.int.test.ts); here it runs on the wall clock. The longest wait between two chunks is about two chunk intervals: the scripted server waits a chunk interval before its finish chunk and again before its usage chunk, and the done chunk follows them.`,
          `Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${loadAtEnd}.`,
        ],
      };
    } catch (err) {
      return { name: "model", ok: false, summary, metrics: [], error: errorText(err) };
    }
  },
};
