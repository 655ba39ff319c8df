// The node's contract against a real server: spawn, tell, ask, refs, list,
// stop, close, ordering, one-message-at-a-time, typed errors and bad input.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createMachine, assign } from "xstate";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { defineAgent } from "./define-agent.js";
import { counter, echo } from "../actors/builtins.js";
import {
  AgentExistsError,
  AgentNotFoundError,
  AskTimeoutError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidMessageError,
  JetStreamNotEnabledError,
  NoNodeForTypeError,
  NodeClosedError,
  NotConnectedError,
  RemoteError,
} from "./errors.js";
import { encodeValue } from "./codec.js";
import { Subjects } from "./subjects.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();

let active = 0;
let maxActive = 0;
const slow = defineAgent({
  type: "slow",
  persist: false,
  state: () => ({ seen: [] as number[] }),
  async receive(msg: { n: number; ms: number }, ctx) {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, msg.ms));
    ctx.state.seen.push(msg.n);
    active--;
    return ctx.state.seen.slice();
  },
});

const thrower = defineAgent({
  type: "thrower",
  persist: false,
  receive(msg: { fail?: boolean }) {
    if (msg.fail) throw new TypeError("bad things");
    return "fine";
  },
});

const relay = defineAgent({
  type: "relay",
  persist: false,
  async receive(msg: { to: string }, ctx) {
    const me = await ctx.self.ask<string>({ probe: true }, { timeoutMs: 50 }).catch((e: Error) => e.name);
    const other = await ctx.ref("echo", msg.to).ask({ from: ctx.id });
    return { me, other, sender: ctx.sender };
  },
});

const toggle = defineAgent({
  type: "toggle",
  machine: createMachine({
    id: "toggle",
    initial: "off",
    context: { flips: 0 },
    states: {
      off: { on: { FLIP: { target: "on", actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
      on: { on: { FLIP: { target: "off", actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
    },
  }),
});

const strict = defineAgent({
  type: "strict",
  persist: false,
  schema: {
    parse(msg: unknown) {
      if (typeof (msg as { n?: unknown })?.n !== "number") throw new Error("n must be a number");
      return msg as { n: number };
    },
  },
  receive: (msg: { n: number }) => msg.n * 2,
});

describe("node", () => {
  let node: TroupeNode;
  let other: TroupeNode;
  let raw: NatsConnection;
  const events: TroupeEvent[] = [];

  beforeAll(async () => {
    node = await startNode({ servers: nats.url, namespace: "t1", agents: [counter, echo, slow, thrower, relay, toggle, strict], name: "n1" });
    other = await startNode({ servers: nats.url, namespace: "t1", agents: [], name: "n2" });
    raw = await connect({ servers: nats.url });
    node.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await other?.close();
    await node?.close();
    await raw?.close();
  });

  it("spawns, tells, asks, lists, stops", async () => {
    const ref = await node.spawn("counter", { key: "c1", args: {} });
    expect(ref.id).toBe("counter/c1");
    await ref.tell({ op: "inc" });
    expect(await ref.ask({ op: "get" }, { timeoutMs: 2000 })).toBe(1);
    expect(await other.ref("counter", "c1").ask({ op: "get" })).toBe(1);
    expect(await other.ref("counter/c1").ask({ op: "inc", by: 2 })).toBe(3);
    const [row] = (await node.list()).filter((a) => a.id === "counter/c1");
    expect(row).toMatchObject({ id: "counter/c1", type: "counter", key: "c1", node: "n1", state: "running", handled: 4, restarts: 0 });
    await node.stop(ref);
    await expect(ref.ask({ op: "get" })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect((await node.list()).some((a) => a.id === "counter/c1")).toBe(false);
    await expect(node.stop(ref)).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("keeps order per sender: 10,000 tells then an ask answers 10,000", async () => {
    const ref = await node.spawn("counter", { key: "order", args: {} });
    const remote = other.ref("counter", "order");
    for (let i = 0; i < 10_000; i++) await remote.tell({ op: "inc" });
    expect(await remote.ask({ op: "get" }, { timeoutMs: 20_000 })).toBe(10_000);
    await node.stop(ref);
  });

  it("handles one message at a time: a slow receive holds the next back", async () => {
    maxActive = 0;
    const ref = await node.spawn("slow", { key: "s1" });
    const answers = await Promise.all([1, 2, 3, 4].map((n) => other.ref("slow", "s1").ask<number[]>({ n, ms: 30 })));
    expect(maxActive).toBe(1);
    expect(answers[3]).toEqual([1, 2, 3, 4]);
    await node.stop(ref);
  });

  it("rejects a second spawn of a running id, from any node", async () => {
    await node.spawn("echo", { key: "dup" });
    await expect(node.spawn("echo", { key: "dup" })).rejects.toBeInstanceOf(AgentExistsError);
    await expect(other.spawn("echo", { key: "dup" })).rejects.toBeInstanceOf(AgentExistsError);
    await node.stop("echo/dup");
    const again = await other.spawn("echo", { key: "dup" });
    expect(await again.ask("hi")).toBe("hi");
    await node.stop(again);
  });

  it("spawns through the pool from a node that does not host the type", async () => {
    const ref = await other.spawn("echo", { key: "pooled" });
    expect(await ref.ask({ a: 1 })).toEqual({ a: 1 });
    expect(await other.whereIs("echo/pooled")).toBe("n1");
    const all = await other.listAll();
    expect(all.agents.map((a) => a.id)).toContain("echo/pooled");
    expect(all.nodes.map((n) => n.id).sort()).toEqual(["n1", "n2"]);
    await other.stop(ref);
    await expect(ref.ask("x")).rejects.toBeInstanceOf(AgentNotFoundError);
  });

  it("fails a spawn of a type no node hosts, naming the type", async () => {
    const lonely = await startNode({ servers: nats.url, namespace: "lonely", spawnWaitMs: 300 });
    try {
      const err = await lonely.spawn("ghost", { key: "g" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoNodeForTypeError);
      expect((err as Error).message).toContain('"ghost"');
    } finally {
      await lonely.close();
    }
  });

  it("answers an ask to nobody with AgentNotFoundError, at once", async () => {
    const t0 = Date.now();
    await expect(node.ref("counter", "nobody").ask({ op: "get" }, { timeoutMs: 5000 })).rejects.toBeInstanceOf(AgentNotFoundError);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it("times out an ask with AskTimeoutError", async () => {
    const ref = await node.spawn("slow", { key: "s-timeout" });
    const err = await ref.ask({ n: 1, ms: 500 }, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AskTimeoutError);
    expect((err as AskTimeoutError).code).toBe("ASK_TIMEOUT");
    await node.stop(ref);
  });

  it("turns a throwing receive into RemoteError with the remote name and message", async () => {
    const ref = await node.spawn("thrower", { key: "t" });
    const err = (await ref.ask({ fail: true }).catch((e: unknown) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteName).toBe("TypeError");
    expect(err.remoteMessage).toBe("bad things");
    expect(err.message).toContain("bad things");
    await waitFor(async () => (await ref.ask({}).catch(() => undefined)) === "fine", "thrower restarted and serving");
    await node.stop(ref);
  });

  it("gives ctx.self, ctx.ref and the sender", async () => {
    await node.spawn("echo", { key: "e-relay" });
    const ref = await node.spawn("relay", { key: "r" });
    const out = await ref.ask<{ me: string; other: unknown; sender: string }>({ to: "e-relay" });
    expect(out.me).toBe("AskTimeoutError"); // asking itself from inside receive cannot be answered
    expect(out.other).toEqual({ from: "relay/r" });
    expect(out.sender).toBe("node:n1");
    await node.stop(ref);
    await node.stop("echo/e-relay");
  });

  it("runs an XState agent: an ask answers value, context and status", async () => {
    const ref = await node.spawn("toggle", { key: "x" });
    expect(await ref.ask({ type: "FLIP" })).toEqual({ value: "on", context: { flips: 1 }, status: "active" });
    expect(await ref.ask({ type: "FLIP" })).toEqual({ value: "off", context: { flips: 2 }, status: "active" });
    await expect(ref.ask({ nope: 1 })).rejects.toBeInstanceOf(InvalidMessageError);
    expect(await ref.ask({ type: "FLIP" })).toMatchObject({ value: "on" });
    await node.stop(ref);
  });

  it("publishes lifecycle transitions as events", async () => {
    const ref = await node.spawn("echo", { key: "ev" });
    await node.stop(ref);
    await waitFor(() => events.some((e) => e.id === "echo/ev" && e.to === "stopped"), "echo/ev stopped event");
    const path = events.filter((e) => e.id === "echo/ev" && e.kind === "lifecycle").map((e) => `${e.from}->${e.to}`);
    expect(path).toEqual(["starting->running", "running->stopping", "stopping->stopped"]);
    // another agent failed earlier in this file: its reason must not leak into this one's transitions
    expect(events.some((e) => e.kind === "lifecycle" && e.reason === "bad things")).toBe(true);
    expect(events.filter((e) => e.id === "echo/ev" && e.kind === "lifecycle").map((e) => e.reason)).toEqual([null, null, null]);
  });

  describe("bad input", () => {
    const subjects = new Subjects("t1");

    it("answers bytes that do not decode with InvalidMessageError, and keeps serving", async () => {
      const ref = await node.spawn("counter", { key: "bad" });
      const reply = await raw.request(subjects.agent("counter", "bad"), new Uint8Array([0xc1, 0xff, 0x00]), { timeout: 2000 });
      const env = (await import("./envelope.js")).decodeEnvelope(reply.data, 1 << 20);
      expect(env.error?.code).toBe("INVALID_MESSAGE");
      raw.publish(subjects.agent("counter", "bad"), encodeValue({ not: "an envelope" }));
      expect(await ref.ask({ op: "inc" })).toBe(1);
      const [row] = (await node.list()).filter((a) => a.id === "counter/bad");
      expect(row!.rejected).toBe(2);
      expect(row!.state).toBe("running");
      await node.stop(ref);
    });

    it("rejects a message over the size limit before sending", async () => {
      const small = await startNode({ servers: nats.url, namespace: "t1", maxMessageBytes: 1024 });
      try {
        await node.spawn("echo", { key: "big" });
        await expect(small.ref("echo", "big").ask({ blob: "x".repeat(5000) })).rejects.toBeInstanceOf(InvalidMessageError);
        await expect(small.ref("echo", "big").tell({ blob: "x".repeat(5000) })).rejects.toBeInstanceOf(InvalidMessageError);
        expect(await small.ref("echo", "big").ask("still here")).toBe("still here");
      } finally {
        await small.close();
        await node.stop("echo/big");
      }
    });

    it("rejects an oversized message at the receiver too", async () => {
      const tight = await startNode({ servers: nats.url, namespace: "t1", maxMessageBytes: 512, agents: [echo], name: "tight" });
      try {
        await tight.spawn("echo", { key: "tiny" });
        await expect(node.ref("echo", "tiny").ask({ blob: "y".repeat(2000) })).rejects.toBeInstanceOf(InvalidMessageError);
        expect(await node.ref("echo", "tiny").ask("ok")).toBe("ok");
      } finally {
        await tight.close();
      }
    });

    it("rejects a message that cannot be encoded", async () => {
      await expect(node.ref("echo", "whatever").tell({ f: () => 1 })).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(node.ref("echo", "whatever").ask({ n: 10n })).rejects.toBeInstanceOf(InvalidMessageError);
    });

    it("rejects what fails the agent's schema with InvalidMessageError", async () => {
      const ref = await node.spawn("strict", { key: "s" });
      const err = await ref.ask({ n: "two" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidMessageError);
      expect((err as Error).message).toContain("n must be a number");
      expect(await ref.ask({ n: 2 })).toBe(4);
      const bad = (await node.spawn("counter", { key: "c" }).then((r) => r.ask({ op: "explode" })).catch((e: unknown) => e)) as Error;
      expect(bad).toBeInstanceOf(InvalidMessageError);
      expect(bad.message).toBe('invalid message: rejected by the schema of counter: counter takes {op:"inc", by?}, {op:"get"} or {op:"reset"}');
      await node.stop(ref);
      await node.stop("counter/c");
    });

    it("rejects malformed ids, keys and timeouts with typed errors", async () => {
      await expect(node.spawn("counter", { key: "has.dot" })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(node.spawn("no such type!", {})).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(() => node.ref("nokey")).toThrow(InvalidArgumentError);
      await expect(node.ref("echo", "x").ask("a", { timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(startNode({ servers: nats.url, namespace: "Bad NS" })).rejects.toBeInstanceOf(InvalidConfigError);
      await expect(startNode({ servers: nats.url, agents: [{} as never] })).rejects.toBeInstanceOf(InvalidConfigError);
    });
  });

  it("refuses work after close with NodeClosedError", async () => {
    const n = await startNode({ servers: nats.url, namespace: "t1", agents: [echo], name: "closing" });
    await n.spawn("echo", { key: "bye" });
    await n.close();
    await expect(n.spawn("echo", { key: "after" })).rejects.toBeInstanceOf(NodeClosedError);
    await expect(node.ref("echo", "bye").ask("x")).rejects.toBeInstanceOf(AgentNotFoundError);
  });
});

describe("connection", () => {
  it("says which URL is unreachable and how to start a server", async () => {
    const err = (await startNode({ servers: "nats://127.0.0.1:1", namespace: "x" }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(NotConnectedError);
    expect(err.message).toContain("nats://127.0.0.1:1");
    expect(err.message).toContain("agentctl dev");
  });
});

describe("a server without JetStream", () => {
  const plain = useNatsServer({ jetstream: false });
  it("is refused with one sentence saying how to fix it", async () => {
    const err = (await startNode({ servers: plain.url, namespace: "x" }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(JetStreamNotEnabledError);
    expect(err.message).toContain(plain.url);
    expect(err.message).toContain("-js");
  });
});
