// Specs: defaults merged once, and every bad field named in the error.
import { describe, expect, it } from "vitest";
import { SpecError } from "./spec-error.js";
import { normalizeChildSpec, normalizeSupervisorSpec } from "./child-spec.js";

const child = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: "worker", key: id, ...extra });

describe("normalizeSupervisorSpec", () => {
  it("fills in OTP's defaults", () => {
    expect(normalizeSupervisorSpec({ type: "sup", children: [child("a")] })).toEqual({
      type: "sup",
      strategy: "one_for_one",
      intensity: 1,
      periodMs: 5000,
      backoff: null,
      children: [{ id: "a", type: "worker", key: "a", restart: "permanent", shutdownMs: 5000, args: undefined }],
    });
    expect(normalizeSupervisorSpec({ type: "sup" }).children).toEqual([]);
  });

  it("keeps what is given", () => {
    const spec = normalizeSupervisorSpec({
      type: "sup",
      strategy: "rest_for_one",
      intensity: 0,
      periodMs: 1,
      backoff: { minMs: 5, maxMs: 50, factor: 3, jitter: 1, resetAfterMs: 0 },
      children: [child("a", { restart: "transient", shutdownMs: 0, args: { n: 1 } })],
    });
    expect(spec.strategy).toBe("rest_for_one");
    expect(spec.intensity).toBe(0);
    expect(spec.periodMs).toBe(1);
    expect(spec.backoff).toEqual({ minMs: 5, maxMs: 50, factor: 3, jitter: 1, resetAfterMs: 0 });
    expect(spec.children[0]).toEqual({ id: "a", type: "worker", key: "a", restart: "transient", shutdownMs: 0, args: { n: 1 } });
  });

  it("completes a partial backoff from the defaults", () => {
    expect(normalizeSupervisorSpec({ type: "sup", backoff: {} }).backoff).toEqual({ minMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2 });
    expect(normalizeSupervisorSpec({ type: "sup", backoff: { minMs: 60_000 } }).backoff).toEqual({
      minMs: 60_000,
      maxMs: 60_000,
      factor: 2,
      jitter: 0.2,
    });
  });

  const bad: [string, unknown, string, RegExp][] = [
    ["not an object", 42, "supervisor spec", /must be an object, got 42/],
    ["an array", [], "supervisor spec", /must be an object/],
    ["missing type", {}, "type", /got undefined/],
    ["type not a string", { type: 7 }, "type", /got 7/],
    ["unknown strategy", { type: "s", strategy: "one_for_some" }, "strategy", /one_for_one, one_for_all, rest_for_one, got "one_for_some"/],
    ["negative intensity", { type: "s", intensity: -1 }, "intensity", /^invalid intensity: must be a non-negative integer, got -1$/],
    ["fractional intensity", { type: "s", intensity: 1.5 }, "intensity", /got 1\.5/],
    ["intensity as a string", { type: "s", intensity: "3" }, "intensity", /got "3"/],
    ["zero period", { type: "s", periodMs: 0 }, "periodMs", /integer >= 1, got 0/],
    ["misspelt field", { type: "s", intesity: 3 }, "intesity", /unknown field/],
    ["children not an array", { type: "s", children: {} }, "children", /must be an array/],
    ["child not an object", { type: "s", children: [child("a"), "b"] }, "children[1]", /must be an object, got "b"/],
    ["child restart unknown", { type: "s", children: [child("a"), child("b", { restart: "sometimes" })] }, "children[1].restart", /permanent, transient, temporary, got "sometimes"/],
    ["child id empty", { type: "s", children: [child("")] }, "children[0].id", /non-empty string/],
    ["child type missing", { type: "s", children: [{ id: "a", key: "k" }] }, "children[0].type", /got undefined/],
    ["child shutdownMs negative", { type: "s", children: [child("a", { shutdownMs: -5 })] }, "children[0].shutdownMs", /non-negative integer, got -5/],
    ["child unknown field", { type: "s", children: [child("a", { restrat: "temporary" })] }, "children[0].restrat", /unknown field/],
    ["duplicate child id", { type: "s", children: [child("a"), child("b"), { ...child("a"), key: "other" }] }, "children[2].id", /duplicate child id "a" \(also children\[0\]\.id\)/],
    ["two children for one agent", { type: "s", children: [child("a"), { ...child("b"), key: "a" }] }, "children[1].key", /worker\/a is already started by children\[0\]/],
    ["backoff not an object", { type: "s", backoff: 5 }, "backoff", /must be an object/],
    ["backoff factor below 1", { type: "s", backoff: { factor: 0.5 } }, "backoff.factor", /number >= 1, got 0\.5/],
    ["backoff jitter above 1", { type: "s", backoff: { jitter: 1.5 } }, "backoff.jitter", /from 0 to 1, got 1\.5/],
    ["backoff maxMs below minMs", { type: "s", backoff: { minMs: 500, maxMs: 100 } }, "backoff.maxMs", />= minMs \(500\), got 100/],
    ["backoff minMs negative", { type: "s", backoff: { minMs: -1 } }, "backoff.minMs", /non-negative number, got -1/],
    ["backoff minMs infinite", { type: "s", backoff: { minMs: Infinity } }, "backoff.minMs", /got Infinity/],
    ["backoff unknown field", { type: "s", backoff: { max: 10 } }, "backoff.max", /unknown field/],
  ];
  it.each(bad)("%s: names %s", (_name, input, field, message) => {
    let error: unknown;
    try {
      normalizeSupervisorSpec(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });
});

describe("normalizeChildSpec", () => {
  it("fills in defaults", () => {
    expect(normalizeChildSpec({ id: "c", type: "t", key: "k" })).toEqual({
      id: "c",
      type: "t",
      key: "k",
      restart: "permanent",
      shutdownMs: 5000,
      args: undefined,
    });
  });

  it("names fields under `child`, or the prefix given", () => {
    expect(() => normalizeChildSpec({ id: "c", type: "t", key: "k", restart: "never" })).toThrow(
      expect.objectContaining({ field: "child.restart" }),
    );
    expect(() => normalizeChildSpec({ id: "c", type: "t", key: "" }, "spawn")).toThrow(expect.objectContaining({ field: "spawn.key" }));
  });
});
