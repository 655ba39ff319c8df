import { describe, expect, it } from "vitest";
import { Timeline } from "./timeline.js";

function fakeNow(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("Timeline", () => {
  it("counts completions per bucket as a rate, with outages as zero", () => {
    const clock = fakeNow();
    const tl = new Timeline({ bucketMs: 100, now: clock.now });
    tl.record(10); // bucket 0
    clock.advance(150);
    tl.record(5); // bucket 1
    clock.advance(200); // bucket 2 empty, now in bucket 3
    tl.record(20);
    clock.advance(100); // 450 ms
    tl.stop();
    expect(tl.points()).toEqual([
      { tMs: 0, value: 100 },
      { tMs: 100, value: 50 },
      { tMs: 200, value: 0 },
      { tMs: 300, value: 200 },
      { tMs: 400, value: 0 },
    ]);
    expect(tl.total()).toBe(35);
  });

  it("scales a partial last bucket and drops a sliver", () => {
    const clock = fakeNow();
    const tl = new Timeline({ bucketMs: 100, now: clock.now });
    clock.advance(150);
    tl.record(25); // 25 in the 50 ms of bucket 1 covered so far
    tl.stop();
    expect(tl.points().at(-1)).toEqual({ tMs: 100, value: 500 });
    const tl2 = new Timeline({ bucketMs: 100, now: clock.now });
    tl2.record(1);
    clock.advance(110);
    tl2.stop();
    expect(tl2.points()).toHaveLength(1);
  });

  it("keeps chaos events with their time, and reset starts over", () => {
    const clock = fakeNow();
    const tl = new Timeline({ now: clock.now });
    clock.advance(1234);
    expect(tl.event("server killed")).toBe(1234);
    expect(tl.events()).toEqual([{ atMs: 1234, label: "server killed" }]);
    tl.record(3);
    tl.reset();
    expect(tl.events()).toEqual([]);
    expect(tl.total()).toBe(0);
    expect(tl.elapsedMs()).toBe(0);
  });

  it("rejects a bucket size that is not positive", () => {
    expect(() => new Timeline({ bucketMs: 0 })).toThrow(/invalid_bucket_ms/);
  });
});
