// The node, observer and admin roles on a secured server. A node credential
// narrowed to types, or pinned to a name, hosts what it is for and nothing
// else; a type that declares `can`, alone on its node, reaches at the server
// only what it declares; an observer lists and watches but cannot act; an
// admin may delete and purge. And a whole run of node features with node
// credentials meets no permission error: the role grants all the runtime needs.

import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, type PermissionViolationError } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, echo } from "../../actors/builtins.js";
import { connectClient, type TroupeClient } from "../client.js";
import { encodeValue } from "../codec.js";
import { encodeEnvelope, Kind } from "../envelope.js";
import { ActivationMode, defineAgent } from "../define-agent.js";
import { ErrorCode } from "../errors.js";
import { MailboxKind } from "../mailbox-kind.js";
import { startNode, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { connectAttacker, watchViolations, type Attacker } from "../testing/hostile/attacker.js";
import { startSecureNatsServer, type SecureNatsServer } from "../testing/secure-server.js";
import { waitFor } from "../testing/wait.js";
import { Role } from "./roles.js";
import { typeReaches } from "./type-reach.js";

const NS = "nr";
const s = new Subjects(NS);

const journal = defineAgent({
  type: "journal",
  mailbox: MailboxKind.Durable,
  state: () => ({ n: 0 }),
  receive: (_m: unknown, ctx) => ++(ctx.state as { n: number }).n,
});
const session = defineAgent({
  type: "session",
  activation: ActivationMode.OnDemand,
  idleTimeoutMs: 200,
  state: () => ({ n: 0 }),
  receive: (m: unknown, ctx) => {
    // A durable timer: kept in the state, and in the wake index while the agent is passivated.
    if ((m as { remind?: boolean } | null)?.remind) ctx.schedule("remind", { afterMs: 400 }, {});
    return ++(ctx.state as { n: number }).n;
  },
});

/** What the `writer` agent is told to try. */
type WriterMsg = { op: "ask"; to: string; key: string } | { op: "write"; key: string } | { op: "read"; key: string };
const writer = defineAgent({
  type: "writer",
  persist: false,
  can: { message: ["echo"], memory: { read: ["facts.>"], write: ["notes.>"] } },
  // A refusal comes back as its code, so the test sees which error the runtime raised.
  async receive(msg: WriterMsg, ctx) {
    try {
      if (msg.op === "ask") return await ctx.ref(msg.to, msg.key).ask("from writer", { timeoutMs: 3000 });
      if (msg.op === "write") return await ctx.memory.put(msg.key, "written by writer");
      return (await ctx.memory.get(msg.key))?.value ?? null;
    } catch (err) {
      return { refused: (err as { code?: string }).code };
    }
  },
});

let secure: SecureNatsServer;
/** Closed after the file's tests. */
const closers: Array<() => Promise<unknown>> = [];
/** Permission errors seen by every node started here, by node name. */
const violations = new Map<string, PermissionViolationError[]>();

async function node(name: string, creds: string, agents: NonNullable<Parameters<typeof startNode>[0]>["agents"], namespace = NS): Promise<TroupeNode> {
  const n = await startNode({ servers: secure.url, credentials: creds, namespace, name, agents, heartbeatMs: 100 });
  violations.set(name, watchViolations(n.connection));
  closers.push(() => n.close());
  return n;
}

async function attacker(creds: string): Promise<Attacker> {
  const a = await connectAttacker(secure.url, creds);
  closers.push(() => a.close());
  return a;
}

function expectViolation(err: PermissionViolationError, operation: "publish" | "subscription", subject: string): void {
  expect({ operation: err.operation, subject: err.subject }).toEqual({ operation, subject });
}

let main: TroupeNode;

beforeAll(async () => {
  secure = await startSecureNatsServer({ namespaces: [NS, "full"] });
  // The namespace's buckets and streams (shared memory and durable mailboxes too), and agents
  // to message, on a node with a full node credential.
  main = await node("main", await secure.creds({ role: Role.Node }), [echo, counter, journal]);
  await main.spawn("echo", { key: "e1" });
  await main.spawn("counter", { key: "k0" });
  await main.memory.put("facts.sky", "blue");
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await secure?.dispose();
});

describe("a node credential narrowed to types", () => {
  it("hosts its type, and cannot subscribe to, or write the state or registry of, another type", async () => {
    const creds = await secure.creds({ role: Role.Node, types: ["counter"] });
    const n = await node("only-counter", creds, [counter]);
    await n.spawn("counter", { key: "k1" });
    expect(await main.ref("counter", "k1").ask({ op: "inc" })).toBe(1);
    expect(violations.get("only-counter")).toEqual([]);

    const raw = await attacker(creds);
    expectViolation(await raw.subscribe(s.agent("echo", "e1")), "subscription", s.agent("echo", "e1"));
    expectViolation(await raw.subscribe(s.poolRequests("echo"), { queue: s.poolQueue("echo") }), "subscription", s.poolRequests("echo"));
    for (const subject of [`$KV.${s.stateBucket()}.echo.e1`, `$KV.${s.registryBucket()}.echo.e1`, `$KV.${s.typesBucket()}.echo`, s.deadLetter("echo", "e1")]) {
      expectViolation(await raw.publish(subject, encodeValue({ forged: true })), "publish", subject);
    }
    expect(await main.whereIs("echo/e1")).toBe("main");
  });

  it("controls agents of its types only: a stop, kill, spawn or fence of another type's agent is refused by the server", async () => {
    const creds = await secure.creds({ role: Role.Node, types: ["counter"] });
    const n = await node("counter-ctl", creds, [counter]);
    const refused = async (what: string, call: () => Promise<unknown>, subject: string): Promise<void> => {
      const seen = violations.get("counter-ctl")!;
      const from = seen.length;
      await expect(call(), what).rejects.toMatchObject({ name: "PermissionDeniedError", code: ErrorCode.PermissionDenied });
      await waitFor(() => seen.slice(from).some((v) => v.operation === "publish" && v.subject === subject), `the server to refuse ${subject} (${what})`);
    };
    await refused("stop", () => n.stop("echo/e1"), s.nodeControl("main", "echo"));
    await refused("kill", () => n.kill("echo/e1", "forged"), s.nodeControl("main", "echo"));
    await refused("spawn on main", () => n.spawn("echo", { key: "e-sneaked", node: "main" }), s.nodeControl("main", "echo"));
    await refused("spawn in the pool", () => n.spawn("echo", { key: "e-sneaked" }), s.poolSpawn("echo"));

    const raw = await attacker(creds);
    const fence = encodeEnvelope(Kind.System, "f1", "node:counter-ctl", null, { op: "fence", id: "echo/e1" }, 1 << 20);
    expectViolation(await raw.publish(s.nodeControl("main", "echo"), fence), "publish", s.nodeControl("main", "echo"));

    // Its own type's agents it controls on any node.
    await n.spawn("counter", { key: "k-ctl", node: "main" });
    await n.stop("counter/k-ctl");
    expect(await main.whereIs("counter/k-ctl")).toBeUndefined();
    expect(await main.whereIs("echo/e-sneaked")).toBeUndefined();
    expect(await main.ref("echo", "e1").ask("still here")).toBe("still here");
    expect(await main.whereIs("echo/e1")).toBe("main");
  });
});

describe("a node credential", () => {
  it("cannot shrink the limits of the state, registry, memory or dead-letter streams (a purge in effect)", async () => {
    const raw = await attacker(await secure.creds({ role: Role.Node }));
    const jsm = await jetstreamManager(raw.nc, { checkAPI: false });
    for (const stream of [`KV_${s.stateBucket()}`, `KV_${s.registryBucket()}`, `KV_${s.memoryBucket()}`, s.deadLetterStream()]) {
      const err = await jsm.streams.update(stream, { max_msgs: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error | undefined)?.cause).toMatchObject({ name: "PermissionViolationError", operation: "publish", subject: `$JS.API.STREAM.UPDATE.${stream}` });
    }
    expect(await main.ref("counter", "k0").ask({ op: "get" })).toBe(0);
    expect(await main.whereIs("echo/e1")).toBe("main");
  });
});

describe("a node credential pinned to a name", () => {
  it("runs that node, and cannot write another node's heartbeat or answer its control subject", async () => {
    const creds = await secure.creds({ role: Role.Node, node: "n1" });
    const n1 = await node("n1", creds, [echo]);
    await n1.spawn("echo", { key: "e-n1" });
    expect(await main.ref("echo", "e-n1").ask("hi")).toBe("hi");
    expect(violations.get("n1")).toEqual([]);

    const raw = await attacker(creds);
    expectViolation(await raw.publish(`$KV.${s.nodesBucket()}.main`, encodeValue({ id: "main" })), "publish", `$KV.${s.nodesBucket()}.main`);
    expectViolation(await raw.subscribe(s.nodeControlAll("main")), "subscription", s.nodeControlAll("main"));
    expectViolation(await raw.subscribe(s.nodeInfo("main")), "subscription", s.nodeInfo("main"));
  });

  it("cannot start a node of another name", async () => {
    const err = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node, node: "n1" }), namespace: NS, name: "n2", agents: [echo] }).then(
      (n) => (void n.close(), expect.fail("a node named n2 started")),
      (e: unknown) => e,
    );
    // Refused before anything is sent: the credential names its node.
    expect(err).toMatchObject({ name: "InvalidCredentialsError", code: "INVALID_CREDENTIALS" });
    expect((err as Error).message).toContain('bound to node "n1"');
    expect((await main.nodes()).map((x) => x.id)).not.toContain("n2");
  });

  it("names the node when the options do not", async () => {
    const pinned = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node, node: "n-pinned" }), namespace: NS, agents: [echo] });
    closers.push(() => pinned.close());
    expect(pinned.id).toBe("n-pinned");
  });
});

describe("an observer", () => {
  let observer: TroupeClient;
  let seen: PermissionViolationError[];
  beforeAll(async () => {
    observer = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Observer }), namespace: NS, name: "watcher", askTimeoutMs: 1500 });
    seen = watchViolations(observer.connection);
    closers.push(() => observer.close());
  });

  it("lists agents and nodes", async () => {
    const listed = await observer.listAll();
    expect(listed.unreachable).toEqual([]);
    expect(listed.agents.map((a) => a.id)).toEqual(expect.arrayContaining(["echo/e1", "counter/k0"]));
    expect(await observer.list("main")).toEqual(expect.arrayContaining([expect.objectContaining({ id: "echo/e1" })]));
    expect(await observer.whereIs("echo/e1")).toBe("main");
    expect(seen).toEqual([]);
  });

  it("reads events", async () => {
    const events: unknown[] = [];
    const off = observer.onEvent((e) => events.push(e), { type: "counter", key: "k-ev" });
    await observer.connection.flush();
    await main.spawn("counter", { key: "k-ev" });
    await waitFor(() => events.length > 0, "an event about counter/k-ev");
    off();
    expect(seen).toEqual([]);
  });

  it("is refused the kept event history clearly (no consumer of the events stream); an admin reads it, every event of it, then live ones", async () => {
    // An observer may make no consumer: one could be durable, or deliver stored events into an agent's inbox.
    const refused = await observer.events({ since: 60_000, follow: false }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ code: ErrorCode.PermissionDenied });
    expect(String((refused as Error).message)).toContain("reading the kept history needs an admin credential; live events work without --since");
    seen.length = 0;
    // Live events still work for it (the case above); the history is the admin's.
    const admin = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Admin }), namespace: NS, name: "history-admin" });
    closers.push(() => admin.close());
    await main.spawn("counter", { key: "k-hist" });
    await main.kill("counter/k-hist", "for the history");
    await waitFor(async () => (await main.whereIs("counter/k-hist")) !== undefined, "counter/k-hist restarted");
    const kinds = async (feed: Awaited<ReturnType<TroupeClient["events"]>>, until: (k: string[]) => boolean): Promise<string[]> => {
      const got: string[] = [];
      for await (const e of feed) {
        got.push(e.kind);
        if (until(got)) break;
      }
      feed.stop();
      return got;
    };
    // History only: every kept event about the agent, and the read ends by itself.
    await waitFor(async () => (await kinds(await admin.events({ since: 60_000, agent: "counter/k-hist", follow: false }), () => false)).includes("child_restarted"), "the restart in the history");
    // Several kinds (a consumer with several filters, made by another API subject).
    expect(await kinds(await admin.events({ since: 60_000, agent: "counter/k-hist", kinds: ["child_failed", "child_restarted"], follow: false }), () => false)).toEqual(["child_failed", "child_restarted"]);
    // History then live: a later kill is seen after the kept ones.
    const feed = await admin.events({ since: 60_000, agent: "counter/k-hist" });
    const reading = kinds(feed, (k) => k.filter((x) => x === "child_restarted").length === 2);
    await main.kill("counter/k-hist", "live");
    expect(await reading).toEqual(expect.arrayContaining(["child_started", "child_failed", "child_restarted"]));
  });

  it("cannot kill, nor send to agents", async () => {
    await expect(observer.kill("counter/k0")).rejects.toThrow();
    await waitFor(() => seen.some((v) => v.subject === s.nodeControl("main", "counter")), "the server to refuse the kill");
    await expect(observer.ref("counter", "k0").ask({ op: "inc" })).rejects.toThrow();
    await waitFor(() => seen.some((v) => v.subject === s.agent("counter", "k0")), "the server to refuse the ask");
    expect(await main.ref("counter", "k0").ask({ op: "get" })).toBe(0);
  });
});

describe("a type that declares `can`, alone on its node", () => {
  let creds: string;
  let w: TroupeNode;
  beforeAll(async () => {
    creds = await secure.creds({ role: Role.Node, types: ["writer"], reach: typeReaches([writer]) });
    w = await node("writer-node", creds, [writer]);
    await w.spawn("writer", { key: "w1" });
  });

  it("works through the runtime inside its grant", async () => {
    expect(await main.ref("writer", "w1").ask({ op: "ask", to: "echo", key: "e1" })).toBe("from writer");
    await main.ref("writer", "w1").ask({ op: "write", key: "notes.a" });
    expect((await main.memory.get("notes.a"))?.value).toBe("written by writer");
    expect(await main.ref("writer", "w1").ask({ op: "read", key: "facts.sky" })).toBe("blue");
    expect(violations.get("writer-node")).toEqual([]);
  });

  it("is refused by the runtime outside it", async () => {
    expect(await main.ref("writer", "w1").ask({ op: "ask", to: "counter", key: "k0" })).toEqual({ refused: ErrorCode.PermissionDenied });
    expect(await main.ref("writer", "w1").ask({ op: "write", key: "facts.sky" })).toEqual({ refused: ErrorCode.PermissionDenied });
    expect((await main.memory.get("facts.sky"))?.value).toBe("blue");
  });

  it("is refused by the server outside it, from a raw connection with the node's own credential", async () => {
    const raw = await attacker(creds);
    for (const subject of [s.agent("counter", "k0"), s.mailbox("counter", "k0"), `$KV.${s.memoryBucket()}.facts.sky`, `$KV.${s.memoryBucket()}.other`]) {
      expectViolation(await raw.publish(subject, encodeValue({ op: "inc" })), "publish", subject);
    }
    expect((await main.memory.get("facts.sky"))?.value).toBe("blue");
    expect(await main.ref("counter", "k0").ask({ op: "get" })).toBe(0);
  });

  it("cannot widen the mailbox stream to capture other agents' messages and read them", async () => {
    const raw = await attacker(creds);
    const jsm = await jetstreamManager(raw.nc, { checkAPI: false });
    const mbox = s.mailboxStream();
    const config = (await jsm.streams.info(mbox)).config;
    const err = await jsm.streams.update(mbox, { ...config, subjects: [...config.subjects, s.agent("*", "*")] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error | undefined)?.cause).toMatchObject({ name: "PermissionViolationError", operation: "publish", subject: `$JS.API.STREAM.UPDATE.${mbox}` });
  });
});

describe("a full run with node credentials", () => {
  it("spawn, asks, tells, durable, on-demand and passivation, memory, dead letters, failover and handover meet no permission error", async () => {
    const nodeCreds = (name: string) => secure.creds({ role: Role.Node, namespace: "full", node: name });
    const agents = [counter, echo, journal, session];
    const f1 = await node("f1", await nodeCreds("f1"), agents, "full");
    const f2 = await node("f2", await nodeCreds("f2"), agents, "full");
    const client = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Client, namespace: "full" }), namespace: "full", name: "full-client" });
    closers.push(() => client.close());
    const clientViolations = watchViolations(client.connection);

    await f1.spawn("counter", { key: "c1" });
    await f1.spawn("journal", { key: "j1" });
    await f2.spawn("echo", { key: "e1" });
    for (let i = 0; i < 3; i++) await client.ref("counter", "c1").ask({ op: "inc" });
    await client.ref("counter", "c1").tell({ op: "inc" });
    expect(await client.ref("counter", "c1").ask({ op: "get" })).toBe(4);
    expect(await f1.ref("echo", "e1").ask("across")).toBe("across");
    await client.ref("journal", "j1").tell({});
    await f2.ref("journal", "j1").tell({});
    expect(await client.ref("journal", "j1").ask({})).toBe(3);

    // On demand, then passivated when idle, then back with its state.
    expect(await client.ref("session", "s1").ask({})).toBe(1);
    await waitFor(async () => (await client.whereIs("session/s1")) === undefined, "session/s1 passivated");
    expect(await client.ref("session", "s1").ask({})).toBe(2);
    // A timer that comes due while it is passivated: a node wakes it through the wake index, and it fires.
    expect(await client.ref("session", "s1").ask({ remind: true })).toBe(3);
    await waitFor(async () => ((await f2.persistedState("session/s1"))?.value as { n?: number } | undefined)?.n === 4, "the timer fired");

    await f1.memory.put("facts.x", 1);
    expect((await f2.memory.get("facts.x"))?.value).toBe(1);

    // A dead letter.
    await expect(client.ref("counter", "c1").ask({ op: "bad" })).rejects.toMatchObject({ code: ErrorCode.InvalidMessage });
    const admin = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Admin, namespace: "full" }), namespace: "full", name: "full-admin" });
    closers.push(() => admin.close());
    await waitFor(async () => (await admin.deadLetters.list()).letters.length === 1, "the dead letter stored");

    // f1 dies: f2 adopts its agents.
    await f1.connection.close();
    expect(await waitFor(() => client.ref("counter", "c1").ask({ op: "get" }, { timeoutMs: 500 }).catch(() => undefined), "counter/c1 adopted")).toBe(4);
    expect(await client.whereIs("counter/c1")).toBe("f2");
    expect(await client.ref("journal", "j1").ask({})).toBe(4);

    // f2 hands over to f3 on close.
    const f3 = await node("f3", await nodeCreds("f3"), agents, "full");
    await f2.close({ handover: true });
    expect(await client.whereIs("counter/c1")).toBe("f3");
    expect(await client.ref("counter", "c1").ask({ op: "get" })).toBe(4);
    expect(await f3.ref("echo", "e1").ask("still")).toBe("still");

    expect({ f1: violations.get("f1"), f2: violations.get("f2"), f3: violations.get("f3"), client: clientViolations }).toEqual({ f1: [], f2: [], f3: [], client: [] });
  });
});

describe("an admin", () => {
  it("may purge and delete streams", async () => {
    const nc = await connect({ servers: secure.url, authenticator: credsAuthenticator(readFileSync(await secure.creds({ role: Role.Admin }))), maxReconnectAttempts: 0 });
    closers.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(s.deadLetterStream());
    expect((await jsm.streams.info(s.deadLetterStream())).state.messages).toBe(0);
    await jsm.streams.delete(s.deadLetterStream());
    await expect(jsm.streams.info(s.deadLetterStream())).rejects.toThrow("stream not found");
  });
});

describe("NATS micro services with credentials", () => {
  const svcEcho = defineAgent({ type: "svcecho", persist: false, activation: ActivationMode.OnDemand, receive: (m: unknown) => ({ got: m }) });
  const te = new TextEncoder();
  const td = new TextDecoder();

  it("a node narrowed to its type registers the service with no permission error; a client finds and asks it from a raw connection; a client narrowed to another type is refused", async () => {
    await node("svc-node", await secure.creds({ role: Role.Node, types: ["svcecho"] }), [svcEcho]);
    expect(violations.get("svc-node")).toEqual([]);

    const client = await attacker(await secure.creds({ role: Role.Client }));
    const info = JSON.parse(td.decode((await client.nc.request(`$SRV.INFO.troupe-${NS}-svcecho`, undefined, { timeout: 3000 })).data)) as { endpoints: Array<{ name: string; subject: string }> };
    const ask = info.endpoints.find((e) => e.name === "ask")!.subject.replace(/\*$/, "k1");
    const reply = await client.nc.request(ask, te.encode('{"hi":1}'), { timeout: 3000 });
    expect(JSON.parse(td.decode(reply.data))).toEqual({ got: { hi: 1 } });

    // Discovery of every service crosses from the namespace's account as a stream of answers, one per service.
    const names: string[] = [];
    for await (const m of await client.nc.requestMany("$SRV.PING", undefined, { strategy: "stall", stall: 300, maxWait: 3000 })) names.push((JSON.parse(td.decode(m.data)) as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining([`troupe-${NS}-svcecho`, `troupe-${NS}-echo`, `troupe-${NS}-counter`]));

    const narrowed = await attacker(await secure.creds({ role: Role.Client, types: ["counter"] }));
    expectViolation(await narrowed.publish(s.serviceAsk("svcecho", "k1"), te.encode("{}")), "publish", s.serviceAsk("svcecho", "k1"));
    // An observer may discover (read-only) but not ask.
    const observer = await attacker(await secure.creds({ role: Role.Observer }));
    expect((await observer.nc.request(`$SRV.PING.troupe-${NS}-svcecho`, undefined, { timeout: 3000 })).data.length).toBeGreaterThan(0);
    expectViolation(await observer.publish(s.serviceAsk("svcecho", "k1"), te.encode("{}")), "publish", s.serviceAsk("svcecho", "k1"));
    // A node credential of another type cannot take this type's requests.
    const other = await attacker(await secure.creds({ role: Role.Node, types: ["counter"] }));
    expectViolation(await other.subscribe(s.serviceAsk("svcecho"), { queue: s.serviceQueue() }), "subscription", s.serviceAsk("svcecho"));
  });
});
