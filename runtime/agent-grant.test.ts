// The `can` declaration as data: which entries are accepted (and which are an
// InvalidConfigError naming the entry), what a compiled grant allows, pattern
// overlap, and the targets handed to the credential issuer.

import { describe, expect, it } from "vitest";
import { compileGrant, grantedTargets, patternsOverlap } from "./agent-grant.js";
import { defineAgent } from "./define-agent.js";
import { InvalidConfigError } from "./errors.js";

const receive = () => null;

describe("can declarations", () => {
  it.each([
    [{ message: "echo" }, "can.message"],
    [{ message: [42] }, "can.message[0]"],
    [{ message: ["echo", "a/b/c"] }, "can.message[1]"],
    [{ message: ["*/k"] }, "can.message[0]"],
    [{ message: ["echo/"] }, "can.message[0]"],
    [{ message: ["ec ho"] }, "can.message[0]"],
    [{ messages: ["echo"] }, "can.messages"],
    [{ memory: ["facts.>"] }, "can.memory"],
    [{ memory: { reads: ["facts.>"] } }, "can.memory.reads"],
    [{ memory: { read: ["facts.>", "facts.>.x"] } }, "can.memory.read[1]"],
    [{ memory: { read: ["fa*cts"] } }, "can.memory.read[0]"],
    [{ memory: { write: ["Team_A:notes.>"] } }, "can.memory.write[0]"],
    [{ memory: { write: [":notes"] } }, "can.memory.write[0]"],
    [{ memory: { write: ["team:"] } }, "can.memory.write[0]"],
    [{ memory: { write: "notes.>" } }, "can.memory.write"],
    [null, "can"],
    [["echo"], "can"],
  ])("refuses %j, naming %s", (can, field) => {
    const define = () => defineAgent({ type: "a", receive, can: can as never });
    expect(define).toThrow(InvalidConfigError);
    try {
      define();
    } catch (err) {
      expect((err as InvalidConfigError).field).toBe(field);
    }
  });

  it("accepts every documented form, and an empty declaration grants nothing", () => {
    const def = defineAgent({
      type: "a",
      receive,
      can: { message: ["summarizer", "search/*", "search/s1", "*"], memory: { read: ["facts.>", "notes.*", "config", "team:plans.>"], write: [] } },
    });
    expect(def.grant).toBeDefined();
    const none = compileGrant({});
    expect(none.mayMessage("echo", "echo/e1")).toBe(false);
    expect(none.read.allows(undefined, "x")).toBe(false);
    expect(none.write.allows(undefined, "x")).toBe(false);
  });

  it("a type without can has no grant (it may reach everything)", () => {
    expect(defineAgent({ type: "a", receive }).grant).toBeUndefined();
  });

  it("keeps the declaration as checked, whatever the caller does to its object later", () => {
    const can = { message: ["echo"] };
    const def = defineAgent({ type: "a", receive, can });
    can.message.push("*");
    expect(def.can).toEqual({ message: ["echo"] });
    expect(def.grant!.mayMessage("other", "other/x")).toBe(false);
  });
});

describe("a compiled grant", () => {
  const grant = compileGrant({
    message: ["summarizer", "search/*", "lookup/l1"],
    memory: { read: ["facts.>", "notes.*", "config", "team:plans.>"], write: ["notes.*", "team:plans.today"] },
  });

  it.each([
    ["summarizer", "s9", true],
    ["search", "s1", true],
    ["lookup", "l1", true],
    ["lookup", "l2", false],
    ["echo", "e1", false],
    ["summarizerx", "s1", false],
  ])("message %s/%s: %s", (type, key, allowed) => {
    expect(grant.mayMessage(type, `${type}/${key}`)).toBe(allowed);
  });

  it("'*' grants every agent", () => {
    expect(compileGrant({ message: ["*"] }).mayMessage("anything", "anything/k")).toBe(true);
  });

  it.each([
    [undefined, "facts.a", true],
    [undefined, "facts.a.b", true],
    [undefined, "facts", false],
    [undefined, "notes.a", true],
    [undefined, "notes.a.b", false],
    [undefined, "config", true],
    [undefined, "config.x", false],
    [undefined, "plans.x", false],
    ["team", "plans.x", true],
    ["team", "facts.a", false],
    ["other", "facts.a", false],
  ])("read %s:%s: %s", (bucket, key, allowed) => {
    expect(grant.read.allows(bucket, key)).toBe(allowed);
  });

  it("writes are their own list", () => {
    expect(grant.write.allows(undefined, "notes.a")).toBe(true);
    expect(grant.write.allows(undefined, "facts.a")).toBe(false);
    expect(grant.write.allows("team", "plans.today")).toBe(true);
    expect(grant.write.allows("team", "plans.tomorrow")).toBe(false);
  });

  it("a read over a pattern is allowed when some granted key can match it", () => {
    expect(grant.read.overlaps(undefined, ">")).toBe(true);
    expect(grant.read.overlaps(undefined, "facts.*")).toBe(true);
    expect(grant.read.overlaps(undefined, "secrets.>")).toBe(false);
    expect(grant.read.overlaps("team", "plans.*")).toBe(true);
    expect(grant.read.overlaps("other", ">")).toBe(false);
  });
});

describe("patternsOverlap", () => {
  it.each([
    ["facts.>", "facts.a.b", true],
    ["facts.>", "facts", false],
    [">", "a", true],
    ["a.*", "a", false],
    ["a.*", "*.b", true],
    ["a.*.c", "a.b.>", true],
    ["a.b", "a.c", false],
    ["a.b", "a.b", true],
    ["a.b.c", "a.b", false],
    ["*", "a.b", false],
  ])("%s and %s: %s", (a, b, overlap) => {
    expect(patternsOverlap(a, b)).toBe(overlap);
    expect(patternsOverlap(b, a)).toBe(overlap);
  });
});

describe("grantedTargets", () => {
  it("lists what a declaration reaches, as plain data", () => {
    expect(
      grantedTargets({ message: ["search/*", "summarizer/s1", "echo"], memory: { read: ["facts.>", "team:plans.*"], write: ["notes:team.*"] } }),
    ).toEqual({
      messageTypes: [{ type: "search" }, { type: "echo" }, { type: "summarizer", key: "s1" }],
      memoryRead: [{ pattern: "facts.>" }, { bucket: "team", pattern: "plans.*" }],
      memoryWrite: [{ bucket: "notes", pattern: "team.*" }],
    });
    expect(grantedTargets({ message: ["*"] }).messageTypes).toEqual(["*"]);
    expect(grantedTargets({})).toEqual({ messageTypes: [], memoryRead: [], memoryWrite: [] });
  });

  it("refuses a bad declaration as defineAgent does", () => {
    expect(() => grantedTargets({ message: ["a/b/c"] })).toThrow(InvalidConfigError);
  });
});
