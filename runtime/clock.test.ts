// The fake clock fires timers in due order and only when advanced.
import { describe, expect, it } from "vitest";
import { FakeClock, MAX_TIMER_MS, systemClock } from "./clock.js";

describe("FakeClock", () => {
  it("fires due timers in order, and no others", async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    const cancelled = clock.setTimeout(() => fired.push("never"), 150);
    clock.clearTimeout(cancelled);
    clock.setTimeout(() => fired.push("late"), 500);
    await clock.advance(250);
    expect(fired).toEqual(["a@1100", "b@1200"]);
    expect(clock.now()).toBe(1250);
    expect(clock.pending).toBe(1);
  });

  it("resolves sleep when time passes", async () => {
    const clock = new FakeClock();
    let done = false;
    void clock.sleep(50).then(() => (done = true));
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });
});

describe("systemClock", () => {
  it("holds a delay longer than one Node timer can (Node would fire it after 1 ms)", async () => {
    let fired = false;
    const long = systemClock.setTimeout(() => (fired = true), MAX_TIMER_MS + 1);
    const short = new Promise<void>((resolve) => systemClock.setTimeout(resolve, 30));
    await short;
    expect(fired).toBe(false);
    systemClock.clearTimeout(long);
  });
});
