// Names are built in one place; these are the wire names DESIGN.md lists.
import { describe, expect, it } from "vitest";
import { agentId, parseAgentId, Subjects, validateBucketName } from "./subjects.js";
import { InvalidArgumentError } from "./errors.js";

describe("subjects", () => {
  const s = new Subjects("demo");

  it.each([
    [s.agent("counter", "c1"), "troupe.demo.agent.counter.c1"],
    [s.mailbox("counter", "c1"), "troupe.demo.mbox.counter.c1"],
    [s.poolSpawn("counter"), "troupe.demo.pool.counter.spawn"],
    [s.poolActivate("counter"), "troupe.demo.pool.counter.activate"],
    [s.poolRequests("counter"), "troupe.demo.pool.counter.*"],
    [s.topic("news"), "troupe.demo.topic.news"],
    [s.nodeControl("n1", "counter"), "troupe.demo.node.n1.ctl.counter"],
    [s.nodeControlAll("n1"), "troupe.demo.node.n1.ctl.*"],
    [s.nodeInfo("n1"), "troupe.demo.node.n1.info"],
    [s.event("lifecycle", "counter", "c1"), "troupe.demo.events.lifecycle.counter.c1"],
    [s.events(), "troupe.demo.events.*.*.*"],
    [s.deadLetter("counter", "c1"), "troupe.demo.dlq.counter.c1"],
    [s.mailboxStream(), "TROUPE_DEMO_MBOX"],
    [s.deadLetterStream(), "TROUPE_DEMO_DLQ"],
    [s.stateBucket(), "troupe_demo_state"],
    [s.stateKey("counter", "c1"), "counter.c1"],
    [s.registryBucket(), "troupe_demo_registry"],
    [s.nodesBucket(), "troupe_demo_nodes"],
    [s.memoryBucket(), "troupe_demo_mem"],
    [s.memoryBucket("facts"), "troupe_demo_mem_facts"],
  ])("builds %s", (built, expected) => {
    expect(built).toBe(expected);
  });

  it("parses what it builds", () => {
    expect(s.parseEvent("troupe.demo.events.child_failed.worker.w1")).toEqual({ kind: "child_failed", type: "worker", key: "w1" });
    expect(s.parseEvent("troupe.other.events.x.y.z")).toBeUndefined();
    expect(s.parseDeadLetter(s.deadLetter("counter", "c1"))).toEqual({ type: "counter", key: "c1" });
    expect(s.parseDeadLetter("troupe.other.dlq.counter.c1")).toBeUndefined();
    expect(s.parseDeadLetter("troupe.demo.dlq.counter.c1.extra")).toBeUndefined();
    expect(s.parseAgentKey("counter.c1")).toEqual({ type: "counter", key: "c1" });
    // A key that is no agent's (a hostile writer's): no parts that would fail parseAgentId later.
    expect(s.parseAgentKey("counter.a=b")).toBeUndefined();
    expect(s.parseAgentKey("c ounter.c1")).toBeUndefined();
    expect(parseAgentId("counter/c1")).toEqual({ type: "counter", key: "c1" });
    expect(s.parseNodeRequest(s.nodeControl("n1", "counter"))).toEqual({ lane: "ctl", type: "counter" });
    expect(s.parseNodeRequest(s.nodeInfo("n1"))).toEqual({ lane: "info" });
    expect(s.parseNodeRequest(s.poolSpawn("counter"))).toEqual({ lane: "spawn", type: "counter" });
    expect(s.parseNodeRequest(s.poolActivate("counter"))).toEqual({ lane: "activate", type: "counter" });
    expect(s.parseNodeRequest("troupe.demo.node.n1.ctl")).toBeUndefined();
    expect(s.parseNodeRequest("troupe.other.node.n1.ctl.counter")).toBeUndefined();
  });

  it("lists the namespace's streams with the subjects each captures", () => {
    expect(s.streams()).toEqual([
      { name: "KV_troupe_demo_state", subjects: ["$KV.troupe_demo_state.>"] },
      { name: "KV_troupe_demo_registry", subjects: ["$KV.troupe_demo_registry.>"] },
      { name: "KV_troupe_demo_types", subjects: ["$KV.troupe_demo_types.>"] },
      { name: "KV_troupe_demo_nodes", subjects: ["$KV.troupe_demo_nodes.>"] },
      { name: "KV_troupe_demo_mem", subjects: ["$KV.troupe_demo_mem.>"] },
      { name: "KV_troupe_demo_timers", subjects: ["$KV.troupe_demo_timers.>"] },
      { name: "KV_troupe_demo_subs", subjects: ["$KV.troupe_demo_subs.>"] },
      { name: "TROUPE_DEMO_MBOX", subjects: ["troupe.demo.mbox.>"] },
      { name: "TROUPE_DEMO_DLQ", subjects: ["troupe.demo.dlq.>"] },
      { name: "TROUPE_DEMO_TOPICS", subjects: ["troupe.demo.dtopic.>"] },
      { name: "TROUPE_DEMO_EVENTS", subjects: ["troupe.demo.events.>"] },
    ]);
  });

  it.each(["", "a.b", "a b", "a*", "a>", "x/y"])("refuses the token %j", (bad) => {
    expect(() => agentId(bad, "k")).toThrow(InvalidArgumentError);
    expect(() => agentId("t", bad)).toThrow(InvalidArgumentError);
  });

  it.each(["counter", "/c1", "counter/", "a/b/c", "a.b/c"])("refuses the agent id %j", (bad) => {
    expect(() => parseAgentId(bad)).toThrow(InvalidArgumentError);
  });

  it.each(["Demo", "has space", "", "a.b", "iso_mem_x", "a_b", "-a", "x".repeat(65)])("refuses the namespace %j", (bad) => {
    expect(() => new Subjects(bad)).toThrow(/invalid namespace/);
  });

  it("says what a namespace may hold", () => {
    expect(() => new Subjects("a_b")).toThrow('use 1-64 lowercase letters, digits or "-", starting with a letter or digit');
  });

  it.each(["x_state", "a_b", "Facts", "a.b", "", "-a", "a b", "x".repeat(129)])("refuses the bucket name %j", (bad) => {
    expect(() => s.memoryBucket(bad)).toThrow(InvalidArgumentError);
    expect(() => validateBucketName(bad)).toThrow(/invalid bucket name .*: use 1-128 lowercase letters, digits or "-"/);
  });

  it("a namespace's memory bucket cannot be another namespace's state bucket", () => {
    // Before: namespace "iso" + bucket "x_state" gave troupe_iso_mem_x_state, the state bucket of "iso_mem_x".
    expect(() => new Subjects("iso").memoryBucket("x_state")).toThrow(InvalidArgumentError);
    expect(() => new Subjects("iso_mem_x")).toThrow(InvalidArgumentError);
    expect(new Subjects("iso").memoryBucket("x-state")).toBe("troupe_iso_mem_x-state");
  });

  it("names a durable subscriber's topics consumer within JetStream's 255 characters, one name per agent", () => {
    const s = new Subjects("demo");
    expect(s.topicConsumer("ledger", "l1")).toBe("topics_6_ledger_l1");
    const long = s.topicConsumer("t".repeat(128), "k".repeat(128));
    const other = s.topicConsumer("t".repeat(128), "k".repeat(127) + "j");
    expect(long.length).toBeLessThanOrEqual(255);
    expect(long).not.toBe(other);
    expect(long).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
