// agentctl publish: announce a message on a topic to every agent that subscribed.

import type { Command } from "commander";
import { defineTopic } from "../../actors/index.js";
import type { Factory } from "../factory.js";
import { readJsonArg } from "../json-arg.js";

/** Register `agentctl publish TOPIC MESSAGE`. */
export function register(program: Command, f: Factory): void {
  program
    .command("publish")
    .summary("publish a message on a topic")
    .description(
      "publish a message (JSON) on a topic: every running agent whose subscription matches it gets it in its mailbox,\n" +
        "as a tell from client:<name>. A core topic is at most once (sent when NATS has it); with --durable the message\n" +
        "is stored in the namespace's topics stream first, and each durable subscriber applies it once, also one that\n" +
        "is down now.",
    )
    .argument("<topic>", "the topic, dot-separated tokens (orders.placed)")
    .argument("<message>", "the message, as JSON; - reads it from stdin, @FILE from a file")
    .option("--durable", "a durable topic: stored in JetStream before the command returns")
    .addHelpText("after", "\nExamples:\n  agentctl publish orders.placed '{\"id\":\"o1\"}'\n  agentctl publish orders.shipped '{\"id\":\"o1\"}' --durable")
    .action(
      f.action(async (topic: string, message: string, opts: { durable?: boolean }) => {
        const msg = await readJsonArg(message, "MESSAGE");
        const target = opts.durable ? defineTopic({ name: topic, durable: true }) : topic;
        const client = await f.client();
        await client.publish(target, msg);
        f.out.line(opts.durable ? `stored on durable topic ${topic}` : `published on ${topic}`);
      }),
    );
}
