// The model-agent team of `agentctl demo`: a planner that hands tasks to a
// pool of workers and sends the draft to a reviewer, whose `publish` tool
// waits for a person's approval. The same types run against the scripted
// model server (demo-model-script.ts) or any OpenAI-compatible endpoint.

import { defineAgent, tool, type AgentType, type ModelOptions } from "../actors/index.js";

/** The workers' keys: the planner names one per task (`worker/w1` ...). */
export const WORKERS = ["w1", "w2", "w3"] as const;

/** The shared-memory key the reviewer's `publish` writes. */
export const PUBLISHED_KEY = "demo.published";

/** The agent types of the team. */
export const TeamType = {
  Planner: "planner",
  Worker: "worker",
  Reviewer: "reviewer",
} as const;
export type TeamType = (typeof TeamType)[keyof typeof TeamType];

/** The tools' names, as the model sees them. */
export const TeamTool = {
  Delegate: "delegate",
  Review: "review",
  Publish: "publish",
} as const;
export type TeamTool = (typeof TeamTool)[keyof typeof TeamTool];

/** Arguments of the planner's `delegate` tool (also the prompt the worker gets). */
export interface DelegateArgs {
  worker: (typeof WORKERS)[number];
  prompt: string;
}

/** Arguments of the reviewer's `publish` tool. */
export interface PublishArgs {
  title: string;
  text: string;
}

/** Limits that keep a demo run against a real model short. */
const BUDGET = { modelCalls: 8, tokens: 60_000 };

/** An approval nobody answers is denied after this long, so the demo cannot hang on one. */
const APPROVAL_TIMEOUT_MS = 60_000;

/**
 * The planner, worker and reviewer types, calling the model `model`.
 *
 * @example
 * const agents = demoTeam({ baseURL: scripted.url, model: "scripted", apiKey: "demo" });
 * await node.ref("planner", "p1").ask("Write a welcome note");
 */
export function demoTeam(model: ModelOptions): AgentType[] {
  const planner = defineAgent({
    type: TeamType.Planner,
    model,
    instructions:
      "You lead a small team. Split the user's request into at most three short tasks and give each to a different worker " +
      `(${WORKERS.join(", ")}) with the ${TeamTool.Delegate} tool. Put the workers' answers together into one draft and send it ` +
      `to the reviewer with the ${TeamTool.Review} tool. Then answer the user in one or two sentences.`,
    tools: {
      [TeamTool.Delegate]: {
        agent: TeamType.Worker,
        key: (args: DelegateArgs) => args.worker,
        description: "Give one task to a worker and get its answer",
        parameters: {
          type: "object",
          properties: {
            worker: { type: "string", enum: [...WORKERS], description: "which worker does the task" },
            prompt: { type: "string", minLength: 1, description: "the task, in one sentence" },
          },
          required: ["worker", "prompt"],
        },
      },
      [TeamTool.Review]: {
        agent: TeamType.Reviewer,
        // One reviewer per planner conversation.
        key: (_args: unknown, ctx) => ctx.agent.key,
        description: "Send the draft to the reviewer, who publishes it",
        parameters: {
          type: "object",
          properties: { prompt: { type: "string", minLength: 1, description: "the whole draft" } },
          required: ["prompt"],
        },
      },
    },
    budget: BUDGET,
  });

  const worker = defineAgent({
    type: TeamType.Worker,
    model,
    instructions: "You are a worker. Do the task you are given and answer with one short sentence, nothing else.",
    budget: BUDGET,
  });

  const reviewer = defineAgent({
    type: TeamType.Reviewer,
    model,
    instructions:
      `You review a draft. Publish it with the ${TeamTool.Publish} tool (a short title and the text), ` +
      "then answer with one sentence saying what you published.",
    tools: {
      [TeamTool.Publish]: tool({
        description: "Publish a text for everyone to read",
        parameters: {
          type: "object",
          properties: { title: { type: "string", minLength: 1 }, text: { type: "string", minLength: 1 } },
          required: ["title", "text"],
        },
        approval: true,
        async execute(args: PublishArgs, ctx) {
          const revision = await ctx.agent.memory.put(PUBLISHED_KEY, { title: args.title, text: args.text, by: ctx.agent.id });
          return { published: PUBLISHED_KEY, revision };
        },
      }),
    },
    approvalTimeoutMs: APPROVAL_TIMEOUT_MS,
    budget: BUDGET,
  });

  return [planner, worker, reviewer];
}
