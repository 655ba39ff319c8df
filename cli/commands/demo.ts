// agentctl demo: a short guided run of Troupe for a newcomer. Uses the server
// at --server, or starts a throwaway one; runs a node in this process in a
// fresh namespace; shows asks, tells, a supervisor restarting a crashed
// worker, shared memory, ps and tree, then a team of model agents (a planner,
// a pool of workers, a reviewer whose publish needs approval) against a
// scripted model server it starts itself, or against a real endpoint given
// with --model; then removes everything it made.

import { randomBytes } from "node:crypto";
import { InvalidArgumentError, type Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { counter, echo, openConnection, startNode, type ModelOptions, type TroupeNode } from "../../actors/index.js";
import { readCredentials } from "../../runtime/auth/credentials.js";
import { startNatsServer, type NatsServer } from "../../runtime/testing/nats-server.js";
import { startModelServer, type ModelServer } from "../../runtime/testing/model-server.js";
import { Subjects } from "../../runtime/subjects.js";
import { AGENT_TABLE_HEADERS, agentRows } from "../agent-table.js";
import { flakyWorker, team, type Job } from "../demo-agents.js";
import { EventLog } from "../demo-event-log.js";
import { demoResponder } from "../demo-model-script.js";
import { demoTeam } from "../demo-team.js";
import { teamTour } from "../demo-team-tour.js";
import type { Factory } from "../factory.js";
import { natsServerBinary } from "../nats-binary.js";
import { renderTable, toJson } from "../output.js";
import { serverAnswers } from "../server-probe.js";
import { untilSignal } from "../signals.js";
import { drawTrees } from "../tree-drawing.js";

const TELLS = 100;

/** The model name sent to a real endpoint when --model-name is not given. */
const DEFAULT_MODEL_NAME = "gpt-4o-mini";

/** The options of `agentctl demo`. */
interface DemoOptions {
  model?: string;
  modelName: string;
  apiKey?: string;
}

/** `--model http://localhost:11434/v1`: an http(s) URL. */
function modelUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new InvalidArgumentError("expected the http(s) base URL of an OpenAI-compatible API, like http://localhost:11434/v1.");
  }
  return value;
}

const indent = (text: string, by: string): string =>
  text
    .split("\n")
    .map((l) => by + l)
    .join("\n");

/** The event-log line saying a restarted agent runs again. */
const runningAgain = (id: string) => (line: string): boolean => line === `✓ ${id} is running again`;

/** Delete the buckets and streams a namespace left on a server the demo did not start. */
async function removeNamespace(nc: NatsConnection, namespace: string): Promise<void> {
  // Every stream the namespace owns, KV buckets included (a bucket is its stream).
  const jsm = await jetstreamManager(nc);
  await Promise.all(
    new Subjects(namespace).streams().map(({ name }) =>
      jsm.streams.delete(name).catch(() => {
        // never created
      }),
    ),
  );
}

/** The story itself, on a running node; returns what did not go as expected. */
async function tour(node: TroupeNode, log: EventLog, say: (text?: string) => void): Promise<string[]> {
  const problems: string[] = [];
  const events = (): void => {
    for (const l of log.take()) say(`      ${l}`);
  };

  say("1. Ask an agent and get its answer");
  const hello = await node.spawn("echo", { key: "hello" });
  say(`   spawn echo/hello`);
  const greeting = { hello: "troupe" };
  say(`   ask ${hello.id} ${toJson(greeting)}  →  ${toJson(await hello.ask(greeting))}`);
  say();

  say(`2. Tell a counter ${TELLS} times (fire and forget), then ask it`);
  const visits = await node.spawn("counter", { key: "visits" });
  say(`   spawn counter/visits`);
  for (let i = 0; i < TELLS; i++) await visits.tell({ op: "inc" });
  say(`   tell ${visits.id} {"op":"inc"}  × ${TELLS}`);
  const count = await visits.ask({ op: "get" });
  const countOk = count === TELLS;
  if (!countOk) problems.push(`counter/visits counted ${toJson(count)}, not ${TELLS}`);
  say(`   ask ${visits.id} {"op":"get"}  →  ${toJson(count)}  ${countOk ? "✓" : "✗"} expected ${TELLS}`);
  const stored = await node.persistedState(visits.id);
  if (stored) say(`   persisted state ${toJson(stored.value)} (revision ${stored.revision}): a restart resumes from it`);
  say();

  say("3. A supervisor restarts a worker that crashes");
  await node.spawn("team", { key: "t1" });
  say("   spawn team/t1  (one_for_one supervisor of echo/planner and flaky/w1, which drops every third job)");
  const worker = node.ref<Job>("flaky/w1");
  const work = async (job: number): Promise<void> => {
    try {
      say(`   ask ${worker.id} ${toJson({ job })}  →  ${toJson(await worker.ask({ job }))}`);
    } catch (err) {
      say(`   ask ${worker.id} ${toJson({ job })}  →  error: ${(err as Error).message}`);
    }
  };
  await work(1);
  await work(2);
  await work(3);
  if (!(await log.until(runningAgain(worker.id)))) problems.push("flaky/w1 was not restarted after it crashed");
  events();
  await work(4);
  const reason = "demo: simulated crash";
  await node.kill(worker.id, reason);
  say(`   kill ${worker.id} --reason "${reason}"`);
  if (!(await log.until(runningAgain(worker.id)))) problems.push("flaky/w1 was not restarted after it was killed");
  events();
  await work(5);
  say("   its job count survived both crashes: agent state lives in JetStream KV");
  say();

  say("4. Shared memory (JetStream KV) for every agent and node of the namespace");
  const revision = await node.memory.put("demo.greeting", { text: "hello from the demo" });
  say(`   kv put demo.greeting {"text":"hello from the demo"}  →  revision ${revision}`);
  say(`   kv get demo.greeting  →  ${toJson((await node.memory.get("demo.greeting"))?.value)}`);
  say();

  say("5. agentctl ps: every agent, on every node");
  const { agents } = await node.listAll();
  say(indent(renderTable(AGENT_TABLE_HEADERS, agentRows(agents)), "   "));
  say();

  say("6. agentctl tree: who supervises whom");
  say(indent(drawTrees([node.tree()]), "   "));
  events();
  return problems;
}

/** Register `agentctl demo`. */
export function register(program: Command, f: Factory): void {
  program
    .command("demo")
    .summary("a guided tour of Troupe (starts what it needs)")
    .description(
      "a short guided run of Troupe: agents, asks and tells, a supervisor restarting a crashed worker, ps and tree, " +
        "then a team of model agents (a planner, a pool of workers, a reviewer whose publish needs approval)",
    )
    .option("--model <url>", "run the model agents against this OpenAI-compatible endpoint instead of the scripted model", modelUrl)
    .option("--model-name <name>", "the model to ask at --model", DEFAULT_MODEL_NAME)
    .option("--api-key <key>", "the API key for --model (default: $OPENAI_API_KEY)")
    .addHelpText(
      "after",
      "\nUses the server at --server when one answers there, else starts a throwaway one on a free port.\n" +
        "Runs in a fresh namespace (demo-XXXXXX) and removes everything it made when it ends, also when stopped\n" +
        "with Ctrl-C or SIGTERM (a second Ctrl-C during that cleanup exits at once and says what may be left).\n" +
        "\nThe model agents talk to a scripted OpenAI-compatible model server that the demo starts in this process\n" +
        "(deterministic answers, no network). With --model URL they talk to that endpoint instead (Ollama, vLLM,\n" +
        "llama.cpp, a hosted provider) and the story is whatever the model does. Either way the demo approves the\n" +
        "reviewer's publish itself, as the demo operator, and says so.\n" +
        "\nExamples:\n" +
        "  agentctl demo\n" +
        "  agentctl demo --model http://localhost:11434/v1 --model-name qwen2.5\n" +
        "  OPENAI_API_KEY=sk-... agentctl demo --model https://api.openai.com/v1",
    )
    .action(
      f.action(async (opts: DemoOptions) => {
        const started = Date.now();
        // Set by the first Ctrl-C or SIGTERM: the story goes quiet and the cleanup runs.
        let stoppedBy: NodeJS.Signals | undefined;
        const say = (text = ""): void => {
          if (stoppedBy === undefined) f.out.line(text);
        };
        const { server } = f.connection();
        say("Troupe demo: agents are actors on NATS, and supervisors restart the ones that fail.");
        say();

        let own: NatsServer | undefined;
        let url = server;
        if (await serverAnswers(server)) {
          say(`server  using the NATS server at ${server}`);
        } else {
          natsServerBinary((text) => f.out.note(text));
          own = await startNatsServer({});
          url = own.url;
          say(`server  nothing answers at ${server}, so the demo started its own at ${url}`);
        }
        const namespace = `demo-${randomBytes(3).toString("hex")}`;
        const log = new EventLog();
        let nc: NatsConnection | undefined;
        let node: TroupeNode | undefined;
        let scripted: ModelServer | undefined;
        let problems: string[] = [];
        // Ctrl-C or SIGTERM ends the story and runs the same cleanup; a second one exits at once.
        const signal = untilSignal(() =>
          f.out.note(
            own
              ? "stopped during cleanup: the demo's own server may still run"
              : `stopped during cleanup: streams of namespace ${namespace} may be left on ${url} (the next demo uses a new namespace)`,
          ),
        );
        const story = async (): Promise<void> => {
          let model: ModelOptions;
          if (opts.model === undefined) {
            scripted = await startModelServer(demoResponder);
            model = { baseURL: scripted.url, model: "scripted", apiKey: "demo" };
          } else {
            model = { baseURL: opts.model, model: opts.modelName, apiKey: opts.apiKey ?? process.env.OPENAI_API_KEY ?? "none" };
          }
          // A server the demo started is its own and open; one already running is reached as every command reaches it.
          const c = own ? undefined : f.connection();
          nc = await openConnection({
            servers: c?.servers ?? url,
            name: "agentctl-demo",
            credentials: c?.credentials === undefined ? undefined : await readCredentials(c.credentials),
            tls: c?.tls,
          });
          node = await startNode({
            connection: nc,
            // Its own server is open: no credentials, whatever NATS_CREDS says.
            credentials: c === undefined ? null : c.credentials ?? null,
            namespace,
            name: "demo-node",
            agents: [echo, counter, flakyWorker, team, ...demoTeam(model)],
          });
          node.onEvent(log.add);
          say(`node    ${node.id} in namespace ${namespace}, hosting echo, counter, flaky, team and the model agents`);
          say();
          problems = await tour(node, log, say);
          say();
          say("7. Model agents: a planner delegates to a pool of workers; a reviewer's publish needs a person's approval");
          say(
            scripted
              ? `   model   the scripted model server at ${scripted.url} (started by the demo: deterministic answers, no network)`
              : `   model   ${opts.modelName} at ${opts.model} (what happens is up to the model)`,
          );
          say("   planner/p1, worker/w1..w3 and reviewer/p1 start on demand, at their first prompt");
          problems.push(...(await teamTour(node, { line: say, write: (text) => {
            if (stoppedBy === undefined) f.out.write(text);
          } }, scripted !== undefined)));
        };
        try {
          const told = story();
          // Once interrupted, what the story still tries fails as the node closes: that is expected, not news.
          told.catch(() => {});
          stoppedBy = await Promise.race([told.then(() => undefined), signal]);
          if (stoppedBy !== undefined) f.out.note(`${stoppedBy}: stopping the demo and removing what it made`);
        } finally {
          await node?.close();
          await scripted?.close();
          if (nc && !own) await removeNamespace(nc, namespace);
          await nc?.drain().catch(() => {});
          await own?.dispose();
          f.out.line();
          f.out.line(
            `cleanup stopped the node${scripted ? ", the scripted model" : ""}${own ? " and the demo's server" : `, removed namespace ${namespace}`}; ` +
              `done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        }
        if (stoppedBy !== undefined) return 130;
        if (problems.length > 0) throw new Error(`the demo did not go as expected: ${problems.join("; ")}`);
        say();
        say("Next: agentctl dev --detach   (a local server)");
        say("      agentctl node start      (a node hosting echo and counter; --agents actors/examples/agents.ts to start from)");
        say("      agentctl spawn counter --key c1 && agentctl ask counter/c1 '{\"op\":\"inc\"}'");
        say("      agentctl top  or  agentctl dashboard   (watch them: in the terminal, or in the browser)");
        say("      agentctl demo --model http://localhost:11434/v1 --model-name qwen2.5   (the model agents on a real model)");
      }),
    );
}
