// The dead-letter stream against a real server: a node creates it, and a node
// whose stream can be neither found nor created does not start (its dead
// letters would be lost without a word) but says why.

import { describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, useNatsServer } from "./testing/server.js";
import { startNode, TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { InvalidConfigError } from "./errors.js";

const nats = useNatsServer();
const ns = (tag: string) => `dlq${tag}${process.pid}${Math.floor(Math.random() * 1e6)}`;

describe("dead-letter stream", () => {
  it("is created by the first node of a namespace", async () => {
    const namespace = ns("a");
    const node = await startNode({ namespace, servers: nats.url, agents: [] });
    try {
      const jsm = await jetstreamManager(node.connection);
      const info = await jsm.streams.info(new Subjects(namespace).deadLetterStream());
      expect(info.config.subjects).toEqual([new Subjects(namespace).allDeadLetters()]);
    } finally {
      await node.close();
    }
  });

  it("that cannot be created (another stream holds its subjects) stops the node from starting, with the reason", async () => {
    const namespace = ns("b");
    const subjects = new Subjects(namespace);
    const nc = await connectTo(nats.url);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: `other_${namespace}`, subjects: [subjects.allDeadLetters()] });
      const err = await startNode({ namespace, servers: nats.url, agents: [] }).catch((e: unknown) => e);
      if (err instanceof TroupeNode) await err.close();
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toContain(subjects.deadLetterStream());
      expect((err as Error).message).toContain("could not be created");
      await jsm.streams.delete(`other_${namespace}`);
    } finally {
      await nc.close();
    }
  });
});
