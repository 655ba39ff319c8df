// Least privilege per agent type against a real server: an agent whose type
// declares `can` may message and touch shared memory only as declared; what
// it tries beyond that fails at its own call with PermissionDeniedError, is
// counted in node.stats() and published as a `permission_denied` event. Types
// without `can` are unaffected.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineAgent, type AgentContext } from "./define-agent.js";
import { ErrorCode, type PermissionDeniedError } from "./errors.js";
import { EventKind } from "./events.js";
import { startNode, type TroupeNode } from "./node.js";
import { recordEvents, type EventRecording } from "./testing/events.js";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const NS = "can";
const MEM = `troupe_${NS}_mem`;
const nats = useNatsServer();

/** What an agent under test is told to try. */
type Try =
  | { op: "ask" | "tell"; to: string; key: string }
  | { op: "self" }
  | { op: "get" | "delete"; key: string; bucket?: string }
  | { op: "put" | "create"; key: string; value: unknown; bucket?: string }
  | { op: "update"; key: string; value: unknown; revision: number }
  | { op: "modify"; key: string }
  | { op: "keys" | "history"; pattern: string; bucket?: string }
  | { op: "watch"; pattern: string; write: string[] }
  | { op: "ping" };

/** What came of it: the result, or the error's fields. */
type Outcome = { ok: unknown } | { code: string; operation?: string; target?: string; who?: string; name: string };

async function attempt(msg: Try, ctx: AgentContext<unknown>): Promise<unknown> {
  const mem = "bucket" in msg && msg.bucket !== undefined ? ctx.memory.bucket(msg.bucket) : ctx.memory;
  switch (msg.op) {
    case "ping":
      return "pong";
    case "ask":
      return ctx.ref(msg.to, msg.key).ask({ op: "ping" }, { timeoutMs: 3000 });
    case "tell":
      return ctx.ref(msg.to, msg.key).tell({ op: "ping" });
    case "self":
      return ctx.self.tell({ op: "ping" });
    case "get":
      return (await mem.get(msg.key))?.value ?? null;
    case "delete":
      return mem.delete(msg.key);
    case "put":
      return mem.put(msg.key, msg.value);
    case "create":
      return mem.create(msg.key, msg.value);
    case "update":
      return ctx.memory.update(msg.key, msg.value, msg.revision);
    case "modify":
      return (await ctx.memory.modify<number>(msg.key, (n) => (n ?? 0) + 1)).value;
    case "keys": {
      const keys: string[] = [];
      for await (const k of mem.keys(msg.pattern)) keys.push(k);
      return keys.sort();
    }
    case "history": {
      const keys: string[] = [];
      for await (const e of mem.history(msg.pattern)) keys.push(e.key);
      return keys.sort();
    }
    case "watch": {
      // Watch, then write the given keys through the node (granted or not): only granted keys come through.
      const w = ctx.memory.watch(msg.pattern);
      await w.ready;
      for (const k of msg.write) await writer.memory.put(k, "w");
      const seen: string[] = [];
      for await (const c of w) {
        seen.push(c.key);
        if (c.key === msg.write[msg.write.length - 1] || seen.length >= msg.write.length) break;
      }
      return seen;
    }
  }
}

function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  return run().then(
    (ok) => ({ ok: ok ?? null }),
    (err: PermissionDeniedError) => ({ code: err.code, operation: err.operation, target: err.target, who: err.who, name: err.name }),
  );
}

const limited = defineAgent({
  type: "limited",
  can: {
    message: ["echo", "search/s1"],
    memory: { read: ["facts.>", "notes.*", "team:plans.*"], write: ["notes.*", "team:plans.*"] },
  },
  receive: (msg: Try, ctx) => outcomeOf(() => attempt(msg, ctx)),
});
const open = defineAgent({ type: "open", receive: (msg: Try, ctx) => outcomeOf(() => attempt(msg, ctx)) });
const echo = defineAgent({ type: "echo", receive: () => "pong" });
const search = defineAgent({ type: "search", receive: () => "pong" });
const ledger = defineAgent({ type: "ledger", mailbox: "durable", receive: () => "pong" });

let node: TroupeNode;
/** Writes keys for the watch case, as another party would. */
let writer: TroupeNode;
let denied: EventRecording;

beforeAll(async () => {
  node = await startNode({ servers: nats.url, namespace: NS, name: "n1", agents: [limited, open, echo, search, ledger], failover: false });
  writer = await startNode({ servers: nats.url, namespace: NS, name: "writer", failover: false });
  for (const [type, key] of [["limited", "l1"], ["open", "o1"], ["echo", "e1"], ["search", "s1"], ["search", "s2"], ["ledger", "d1"]] as const) {
    await node.spawn(type, { key });
  }
  denied = recordEvents(writer, { kind: EventKind.PermissionDenied });
  await writer.memory.put("facts.sky", "blue");
  await writer.memory.put("secrets.key", "hunter2");
  await writer.memory.bucket("team").put("plans.today", "ship");
  await writer.memory.bucket("team").put("budget.total", 100);
}, 60_000);

afterAll(async () => {
  denied?.stop();
  await writer?.close();
  await node?.close();
});

const tryAs = (type: string, msg: Try) => node.ref<Try, Outcome>(type, type === "limited" ? "l1" : "o1").ask(msg, { timeoutMs: 10_000 });

/** The refusal the agent `limited/l1` should see. */
const refused = (operation: string, target: string) => ({ code: ErrorCode.PermissionDenied, name: "PermissionDeniedError", operation, target, who: "limited/l1" });

describe("can.message", () => {
  it("asks and tells what is granted: a whole type, one agent, itself", async () => {
    expect(await tryAs("limited", { op: "ask", to: "echo", key: "e1" })).toEqual({ ok: "pong" });
    expect(await tryAs("limited", { op: "ask", to: "search", key: "s1" })).toEqual({ ok: "pong" });
    expect(await tryAs("limited", { op: "tell", to: "echo", key: "e1" })).toEqual({ ok: null });
    expect(await tryAs("limited", { op: "self" })).toEqual({ ok: null });
  });

  it("refuses an ask or tell (core and durable) outside the grant at the caller, counts it and reports it", async () => {
    const before = node.stats().permissionDenied;
    const seen = denied.events.length;
    expect(await tryAs("limited", { op: "ask", to: "search", key: "s2" })).toEqual(refused("message", "search/s2"));
    expect(await tryAs("limited", { op: "tell", to: "open", key: "o1" })).toEqual(refused("message", "open/o1"));
    expect(await tryAs("limited", { op: "tell", to: "ledger", key: "d1" })).toEqual(refused("message", "ledger/d1"));
    expect(node.stats().permissionDenied).toBe(before + 3);
    await waitFor(() => denied.events.length === seen + 3, "three permission_denied events");
    expect(denied.events.slice(seen).map((e) => [e.id, e.operation, e.target])).toEqual([
      ["limited/l1", "message", "search/s2"],
      ["limited/l1", "message", "open/o1"],
      ["limited/l1", "message", "ledger/d1"],
    ]);
  });

  it("a type without can reaches every agent, durable ones too", async () => {
    expect(await tryAs("open", { op: "ask", to: "search", key: "s2" })).toEqual({ ok: "pong" });
    expect(await tryAs("open", { op: "tell", to: "ledger", key: "d1" })).toEqual({ ok: null });
  });

  it("answering an ask needs no grant", async () => {
    // `open/o1` is not in limited's grant; limited answers its ask all the same.
    expect(await tryAs("open", { op: "ask", to: "limited", key: "l1" })).toEqual({ ok: { ok: "pong" } });
  });
});

describe("can.memory", () => {
  it("reads granted keys, refuses the others", async () => {
    expect(await tryAs("limited", { op: "get", key: "facts.sky" })).toEqual({ ok: "blue" });
    expect(await tryAs("limited", { op: "get", key: "secrets.key" })).toEqual(refused("memory.read", `${MEM}:secrets.key`));
    expect(await tryAs("limited", { op: "history", pattern: "secrets.key" })).toEqual(refused("memory.read", `${MEM}:secrets.key`));
    expect(await tryAs("limited", { op: "keys", pattern: "secrets.>" })).toEqual(refused("memory.read", `${MEM}:secrets.>`));
  });

  it("keys and history over a pattern wider than the grant return only granted keys", async () => {
    expect(await tryAs("limited", { op: "keys", pattern: ">" })).toEqual({ ok: ["facts.sky"] });
    expect(await tryAs("limited", { op: "history", pattern: ">" })).toEqual({ ok: ["facts.sky"] });
    expect(await tryAs("open", { op: "keys", pattern: ">" })).toMatchObject({ ok: expect.arrayContaining(["facts.sky", "secrets.key"]) });
  });

  it("a watch passes on only granted keys", async () => {
    expect(await tryAs("limited", { op: "watch", pattern: ">", write: ["secrets.w", "facts.w"] })).toEqual({ ok: ["facts.w"] });
    expect(await tryAs("limited", { op: "watch", pattern: "secrets.>", write: [] })).toEqual(refused("memory.read", `${MEM}:secrets.>`));
  });

  it("writes granted keys, refuses the others: put, create, update, delete, modify", async () => {
    expect(await tryAs("limited", { op: "put", key: "notes.a", value: 1 })).toMatchObject({ ok: expect.any(Number) });
    expect(await tryAs("limited", { op: "put", key: "facts.sky", value: "green" })).toEqual(refused("memory.write", `${MEM}:facts.sky`));
    expect(await tryAs("limited", { op: "create", key: "facts.new", value: 1 })).toEqual(refused("memory.write", `${MEM}:facts.new`));
    const rev = (await writer.memory.get("facts.sky", { fresh: true }))!.revision;
    expect(await tryAs("limited", { op: "update", key: "facts.sky", value: "red", revision: rev })).toEqual(refused("memory.write", `${MEM}:facts.sky`));
    expect(await tryAs("limited", { op: "delete", key: "facts.sky" })).toEqual(refused("memory.write", `${MEM}:facts.sky`));
    expect(await tryAs("limited", { op: "modify", key: "facts.count" })).toEqual(refused("memory.write", `${MEM}:facts.count`));
    expect(await tryAs("limited", { op: "modify", key: "notes.count" })).toEqual({ ok: 1 });
    // What the others rely on is untouched.
    expect((await writer.memory.get("facts.sky", { fresh: true }))?.value).toBe("blue");
    expect((await writer.memory.get("facts.new", { fresh: true }))?.value).toBeUndefined();
  });

  it("a named-bucket grant covers that bucket only", async () => {
    const team = `troupe_${NS}_mem_team`;
    expect(await tryAs("limited", { op: "get", key: "plans.today", bucket: "team" })).toEqual({ ok: "ship" });
    expect(await tryAs("limited", { op: "put", key: "plans.later", value: "rest", bucket: "team" })).toMatchObject({ ok: expect.any(Number) });
    expect(await tryAs("limited", { op: "get", key: "budget.total", bucket: "team" })).toEqual(refused("memory.read", `${team}:budget.total`));
    expect(await tryAs("limited", { op: "put", key: "budget.total", value: 1e6, bucket: "team" })).toEqual(refused("memory.write", `${team}:budget.total`));
    expect(await tryAs("limited", { op: "get", key: "plans.today", bucket: "other" })).toEqual(refused("memory.read", `troupe_${NS}_mem_other:plans.today`));
    // The shared-bucket grant does not reach into the named bucket, nor the other way round.
    expect(await tryAs("limited", { op: "put", key: "plans.x", value: 1 })).toEqual(refused("memory.write", `${MEM}:plans.x`));
    expect(await tryAs("limited", { op: "keys", pattern: ">", bucket: "team" })).toEqual({ ok: ["plans.later", "plans.today"] });
  });

  it("a type without can reads and writes every key", async () => {
    expect(await tryAs("open", { op: "get", key: "secrets.key" })).toEqual({ ok: "hunter2" });
    expect(await tryAs("open", { op: "put", key: "facts.open", value: 1 })).toMatchObject({ ok: expect.any(Number) });
    expect(await tryAs("open", { op: "put", key: "budget.total", value: 2, bucket: "team" })).toMatchObject({ ok: expect.any(Number) });
  });

  it("every refusal was counted and reported, with operation and target", async () => {
    await waitFor(() => denied.events.length === node.stats().permissionDenied, "an event per refusal");
    expect(denied.events.every((e) => e.id === "limited/l1" && e.node === "n1" && typeof e.operation === "string" && typeof e.target === "string")).toBe(true);
    expect(denied.events.some((e) => e.operation === "memory.write" && e.target === `${MEM}:facts.sky`)).toBe(true);
  });
});
