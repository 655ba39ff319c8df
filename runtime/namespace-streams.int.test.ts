// Streams of a namespace's names made before any node ran, by someone else:
// one that captures more subjects than Troupe gives it (a control subject, a
// pool), or copies what is written to it elsewhere, stops a node from
// starting with InvalidConfigError naming the stream, what it captures and the
// fix, and nothing is written to it; shared memory does not use such a bucket.
// Once an admin deletes it, the node starts.

import { describe, expect, it } from "vitest";
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { counter } from "../actors/builtins.js";
import { ErrorCode, InvalidConfigError } from "./errors.js";
import { startNode, TroupeNode } from "./node.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";

const nats = useNatsServer();
let namespaces = 0;
const fresh = () => `squat${process.pid}x${++namespaces}`;

/** Make a stream as a squatter would, on a connection of its own. */
async function squat(config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const nc = await connectTo(nats.url, "squatter");
  try {
    await (await jetstreamManager(nc)).streams.add(config);
  } finally {
    await nc.close();
  }
}

async function startFails(namespace: string): Promise<InvalidConfigError> {
  const err = await startNode({ servers: nats.url, namespace, name: "n1", agents: [counter] }).catch((e: unknown) => e);
  if (err instanceof TroupeNode) {
    await err.close();
    expect.fail("the node started");
  }
  expect(err).toBeInstanceOf(InvalidConfigError);
  return err as InvalidConfigError;
}

async function streamNames(): Promise<string[]> {
  const nc = await connectTo(nats.url, "lister");
  try {
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
    return names;
  } finally {
    await nc.close();
  }
}

describe("a namespace stream made by someone else", () => {
  it("a dead-letter stream that also captures the control subjects stops the node, which writes nothing", async () => {
    const ns = fresh();
    const s = new Subjects(ns);
    await squat({ name: s.deadLetterStream(), subjects: [s.allDeadLetters(), s.nodeControl("*", "*")] });
    const err = await startFails(ns);
    expect({ code: err.code, field: err.field }).toEqual({ code: ErrorCode.InvalidConfig, field: `stream ${s.deadLetterStream()}` });
    expect(err.message).toContain(`it captures ${JSON.stringify([s.allDeadLetters(), s.nodeControl("*", "*")])}, not ${JSON.stringify([s.allDeadLetters()])}`);
    expect(err.message).toContain(`nats stream rm ${s.deadLetterStream()}`);
    // Refused before the node claimed its name or made any bucket.
    expect((await streamNames()).filter((n) => n.includes(ns) || n.includes(ns.toUpperCase()))).toEqual([s.deadLetterStream()]);
  });

  it("a shared-memory bucket that captures the pool's spawn subjects stops the node", async () => {
    const ns = fresh();
    const s = new Subjects(ns);
    const stream = `KV_${s.memoryBucket()}`;
    await squat({ name: stream, subjects: [`$KV.${s.memoryBucket()}.>`, s.poolSpawn("*")] });
    const err = await startFails(ns);
    expect(err.field).toBe(`stream ${stream}`);
    expect(err.message).toContain(s.poolSpawn("*"));
  });

  it("a state bucket with the right subjects that republishes what is written stops the node", async () => {
    const ns = fresh();
    const s = new Subjects(ns);
    const stream = `KV_${s.stateBucket()}`;
    await squat({ name: stream, subjects: [`$KV.${s.stateBucket()}.>`], republish: { src: ">", dest: "leak.>" } });
    const err = await startFails(ns);
    expect(err.field).toBe(`stream ${stream}`);
    expect(err.message).toContain("it has republish set");
  });

  it("is not used by shared memory: a named bucket capturing agent subjects is refused on first use", async () => {
    const ns = fresh();
    const s = new Subjects(ns);
    const node = await startNode({ servers: nats.url, namespace: ns, name: "n1", agents: [counter] });
    try {
      await squat({ name: `KV_${s.memoryBucket("notes")}`, subjects: [`$KV.${s.memoryBucket("notes")}.>`, s.agent("*", "*")] });
      await expect(node.memory.bucket("notes").put("a", 1)).rejects.toMatchObject({ code: ErrorCode.InvalidConfig, field: `stream KV_${s.memoryBucket("notes")}` });
      // The node's own streams pass: the default bucket works.
      await node.memory.put("a", 1);
      expect((await node.memory.get("a"))?.value).toBe(1);
    } finally {
      await node.close();
    }
  });

  it("once an admin deletes it, the node starts, and a second node accepts the streams the first made", async () => {
    const ns = fresh();
    const s = new Subjects(ns);
    await squat({ name: s.deadLetterStream(), subjects: [s.allDeadLetters(), s.poolSpawn("*")] });
    await startFails(ns);
    const nc = await connectTo(nats.url, "admin");
    try {
      await (await jetstreamManager(nc)).streams.delete(s.deadLetterStream());
    } finally {
      await nc.close();
    }
    const first = await startNode({ servers: nats.url, namespace: ns, name: "n1", agents: [counter] });
    const second = await startNode({ servers: nats.url, namespace: ns, name: "n2", agents: [counter] });
    try {
      await first.memory.put("k", "v");
      const ref = await second.spawn("counter", { key: "c1" });
      expect(await ref.ask({ op: "inc" })).toBe(1);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
