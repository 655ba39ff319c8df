// MemoryOptions: defaults merged once, each bad field named.
import { describe, expect, it } from "vitest";
import { FakeClock, systemClock } from "../clock.js";
import { InvalidConfigError } from "../errors.js";
import { KV_WRITE_HEADER_BYTES } from "./kv-publish.js";
import { resolveMemoryOptions } from "./options.js";
import type { MemoryOptions } from "./types.js";

describe("resolveMemoryOptions", () => {
  it("fills in the documented defaults", () => {
    const o = resolveMemoryOptions();
    expect(o.cache).toEqual({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
    expect(o.history).toBe(5);
    expect(o.maxValueBytes).toBe(1024 * 1024);
    expect(o.clock).toBe(systemClock);
    expect(o.retry.attempts).toBeGreaterThanOrEqual(1);
  });

  it("keeps room for a write's headers under the server's max_payload", () => {
    const mib = 1024 * 1024;
    expect(resolveMemoryOptions({}, mib).maxValueBytes).toBe(mib - KV_WRITE_HEADER_BYTES);
    expect(resolveMemoryOptions({}, 8 * mib).maxValueBytes).toBe(mib);
    expect(resolveMemoryOptions({ maxValueBytes: mib - KV_WRITE_HEADER_BYTES }, mib).maxValueBytes).toBe(mib - KV_WRITE_HEADER_BYTES);
    expect(() => resolveMemoryOptions({ maxValueBytes: mib }, mib)).toThrow(/max_payload of 1048576 bytes less 384 for the headers/);
  });

  it("keeps what is given", () => {
    const clock = new FakeClock();
    const o = resolveMemoryOptions({ cache: { maxEntries: 5 }, history: 10, clock, retry: { attempts: 2, minMs: 1, maxMs: 2 } });
    expect(o.cache.maxEntries).toBe(5);
    expect(o.history).toBe(10);
    expect(o.clock).toBe(clock);
    expect(o.retry).toEqual({ attempts: 2, minMs: 1, maxMs: 2 });
  });

  it.each<[string, MemoryOptions, number | undefined]>([
    ["cache.maxEntries", { cache: { maxEntries: -1 } }, undefined],
    ["cache.maxBytes", { cache: { maxBytes: 0 } }, undefined],
    ["history", { history: 0 }, undefined],
    ["history", { history: 65 }, undefined],
    ["maxValueBytes", { maxValueBytes: 1.5 }, undefined],
    ["maxValueBytes", { maxValueBytes: 2000 }, 1000],
    ["retry.attempts", { retry: { attempts: 0 } }, undefined],
    ["retry.maxMs", { retry: { minMs: 100, maxMs: 10 } }, undefined],
    ["timeoutMs", { timeoutMs: 0 }, undefined],
  ])("names %s when it is wrong", (field, options, maxPayload) => {
    let err: unknown;
    try {
      resolveMemoryOptions(options, maxPayload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field).toBe(field);
  });
});
