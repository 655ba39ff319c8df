// The key directory behind topic subscriptions: a key that exists (written
// before it started, or since, by anyone) may be there; one never written or
// deleted since is known absent, so the agent's start reads nothing; across a
// server restart it follows again from where it was.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "./clock.js";
import { KeyDirectory } from "./key-directory.js";
import { connectTo } from "./testing/connect.js";
import { useNatsServer } from "./testing/vitest.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();
let nc: NatsConnection;
let other: NatsConnection;
beforeAll(async () => {
  nc = await connectTo(nats.url);
  other = await connectTo(nats.url);
});
afterAll(async () => {
  await nc?.close();
  await other?.close();
});

describe("KeyDirectory", () => {
  it("knows which keys under its filters exist, as others write and delete them", async () => {
    const kv = await new Kvm(nc).create("dir_test", { history: 1 });
    const theirs = await new Kvm(other).open("dir_test");
    await theirs.put("worker.before", "x");
    await theirs.put("other.k", "x");
    const troubles: unknown[] = [];
    const dir = new KeyDirectory(kv, ["worker.>"], systemClock, (err) => troubles.push(err));
    expect(dir.mayHave("worker.never"), "before it started, everything may exist").toBe(true);
    await dir.start();
    try {
      expect(dir.mayHave("worker.before")).toBe(true);
      expect(dir.mayHave("worker.never")).toBe(false);

      await theirs.put("worker.later", "x");
      await waitFor(() => dir.mayHave("worker.later"), "a key written by another connection");
      await theirs.delete("worker.before");
      await waitFor(() => !dir.mayHave("worker.before"), "a deleted key");

      // Its own writes count at once.
      dir.noted("worker.mine", true);
      expect(dir.mayHave("worker.mine")).toBe(true);
      expect(troubles).toEqual([]);
    } finally {
      await dir.stop();
    }
  });

  it("follows again after the server restarted, without missing what was written meanwhile", { timeout: 60_000 }, async () => {
    const kv = await new Kvm(nc).create("dir_restart", { history: 1 });
    const dir = new KeyDirectory(kv, ["t.>"], systemClock, () => {});
    await dir.start();
    try {
      await kv.put("t.a", "x");
      await waitFor(() => dir.mayHave("t.a"), "t.a");
      expect(dir.mayHave("t.b")).toBe(false);
      await nats.server.restart();
      const theirs = await new Kvm(other).open("dir_restart");
      await waitFor(() => theirs.put("t.b", "x").then(() => true, () => false), "a write after the restart");
      await waitFor(() => dir.mayHave("t.b"), "t.b, written after the restart");
      await waitFor(async () => {
        await theirs.put("t.c", "x");
        return dir.mayHave("t.c") && !dir.mayHave("t.zzz");
      }, "the watch live again: t.c known, t.zzz known absent");
    } finally {
      await dir.stop();
    }
  });
});
