// A pause ends when its time comes, or at once when cancelled (a stopping loop does not wait it out).

import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { Pause } from "./pause.js";

describe("Pause", () => {
  it("ends when the clock reaches it, or at once when cancelled", async () => {
    const clock = new FakeClock();
    const pause = new Pause(clock);
    let done = false;
    const p = pause.sleep(5000).then(() => (done = true));
    await clock.advance(4999);
    expect(done).toBe(false);
    pause.cancel();
    await p;
    expect(done).toBe(true);
    const again = pause.sleep(10).then(() => "timed out");
    await clock.advance(10);
    expect(await again).toBe("timed out");
    pause.cancel(); // nothing waits: no-op
  });
});
