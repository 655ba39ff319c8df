import { describe, expect, it } from "vitest";
import { useNatsServer } from "../../runtime/testing/server.js";
import { rawKvPolledVisibility } from "./raw-kv-polled.js";

const nats = useNatsServer();

describe("raw KV write seen by polling a map a watch keeps", () => {
  it("times every write after the warm-up", async () => {
    const samples = await rawKvPolledVisibility(nats.url, { writes: 50, warmup: 10 });
    expect(samples).toHaveLength(50);
    for (const us of samples) expect(us).toBeGreaterThan(0);
  });

  it("an aborted run stops with the abort reason", async () => {
    const abort = new AbortController();
    abort.abort(new Error("stop here"));
    await expect(rawKvPolledVisibility(nats.url, { writes: 50, warmup: 0, signal: abort.signal })).rejects.toThrow("stop here");
  });
});
