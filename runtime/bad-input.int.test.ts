// Bad input through the API: values MessagePack would not carry faithfully are
// refused (never sent as `{}`), long timeouts are honoured, and malformed
// arguments get InvalidArgumentError instead of a TypeError.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineAgent } from "./define-agent.js";
import { InvalidArgumentError, InvalidMessageError, RemoteError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";
import { useNatsServer } from "./testing/server.js";

const nats = useNatsServer();

const answers = defineAgent({
  type: "answers",
  persist: false,
  receive(msg: { kind: string }) {
    if (msg.kind === "map") return new Map([["a", 1]]);
    if (msg.kind === "promise-in-object") return { later: Promise.resolve(1) };
    if (msg.kind === "slow") return new Promise((r) => setTimeout(() => r("late but fine"), 30));
    return "plain";
  },
});

const keeper = defineAgent({
  type: "keeper",
  state: () => ({ tags: [] as string[] }),
  receive(msg: { tag: string }, ctx) {
    (ctx.state as unknown as { tags: unknown }).tags = new Set([msg.tag]);
    return "kept";
  },
});

let node: TroupeNode;
beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: "badinput", agents: [answers, keeper] });
  await node.spawn("answers", { key: "a" });
  await node.spawn("keeper", { key: "k" });
});
afterAll(async () => {
  await node?.close();
});

describe("values that would arrive as something else", () => {
  it.each([
    ["a Map", new Map([["k", 1]])],
    ["a Set", new Set([1])],
    ["a Promise", Promise.resolve(1)],
    ["a Map inside an object", { m: new Map() }],
  ])("%s is refused as a message, by tell and by ask", async (_what, value) => {
    const ref = node.ref("answers", "a");
    await expect(ref.tell(value as never)).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(ref.ask(value as never)).rejects.toBeInstanceOf(InvalidMessageError);
  });

  it("a reply that holds a Map or a Promise reaches the asker as InvalidMessageError", async () => {
    const ref = node.ref("answers", "a");
    await expect(ref.ask({ kind: "map" })).rejects.toThrow(/a Map cannot be encoded faithfully/);
    await expect(ref.ask({ kind: "promise-in-object" })).rejects.toBeInstanceOf(InvalidMessageError);
    expect(await ref.ask({ kind: "plain" })).toBe("plain");
  });

  it("state that holds a Set is not persisted as {}: the message fails and says why", async () => {
    const err = await node.ref("keeper", "k").ask({ tag: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/cannot be persisted.*a Set cannot be encoded faithfully/);
    expect(await node.persistedState("keeper/k")).toBeUndefined();
  });
});

describe("timeouts", () => {
  it("an ask timeout longer than one Node timer is honoured, not cut to 1 ms", async () => {
    expect(await node.ref("answers", "a").ask({ kind: "slow" }, { timeoutMs: 2 ** 31 })).toBe("late but fine");
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("an ask timeout of %s is refused", async (timeoutMs) => {
    await expect(node.ref("answers", "a").ask({ kind: "plain" }, { timeoutMs })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe("malformed arguments", () => {
  it.each([null, undefined, 42, {}, { id: 7 }, "no-slash"])("stop and kill of %o are InvalidArgumentError", async (target) => {
    await expect(node.stop(target as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(node.kill(target as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
