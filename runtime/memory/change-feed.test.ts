// Callers' watches on top of a bucket's one watch: filtering, ordering, the
// revisions a watch starts after, decode failures as entries, and ending.
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { ValueDecodeError } from "../errors.js";
import { ChangeFeed, type RawChange } from "./change-feed.js";

const at = new Date(0);
const put = (key: string, revision: number, value: unknown): RawChange => ({
  key,
  revision,
  op: "put",
  created: at,
  bytes: encode(value),
});

describe("ChangeFeed", () => {
  it("delivers matching changes in order, queued until pulled", async () => {
    const feed = new ChangeFeed();
    const w = feed.open("user.>", 0, Promise.resolve());
    feed.publish(put("user.1", 1, "a"));
    feed.publish(put("team.1", 2, "t"));
    feed.publish({ key: "user.1", revision: 3, op: "delete", created: at, bytes: undefined });
    expect((await w.next()).value).toMatchObject({ key: "user.1", revision: 1, value: "a", op: "put" });
    expect((await w.next()).value).toMatchObject({ key: "user.1", revision: 3, value: undefined, op: "delete" });
  });

  it("skips revisions the node already knew when the watch opened", async () => {
    const feed = new ChangeFeed();
    const w = feed.open(">", 5, Promise.resolve());
    feed.publish(put("k", 5, "old"));
    feed.publish(put("k", 6, "new"));
    expect((await w.next()).value).toMatchObject({ revision: 6 });
  });

  it("tells each watch how many revisions went by unseen since its previous change", async () => {
    const feed = new ChangeFeed();
    const one = feed.open("k", 0, Promise.resolve());
    const all = feed.open(">", 0, Promise.resolve());
    feed.publish(put("k", 1, "a"));
    feed.publish(put("other", 4, "o"), 2); // revisions 2 and 3 were removed before they were read
    feed.publish(put("k", 5, "b"));
    feed.publish(put("k", 9, "c"), 3);
    expect([(await one.next()).value, (await one.next()).value, (await one.next()).value].map((c) => [c.revision, c.missed])).toEqual([
      [1, 0],
      [5, 2],
      [9, 3],
    ]);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await all.next()).value);
    expect(seen.map((c) => [c.revision, c.missed])).toEqual([
      [1, 0],
      [4, 2],
      [5, 0],
      [9, 3],
    ]);
    // a watch opened now starts counting now
    const late = feed.open(">", 9, Promise.resolve());
    feed.publish(put("k", 10, "d"));
    expect((await late.next()).value).toMatchObject({ revision: 10, missed: 0 });
  });

  it("turns a value that does not decode into an entry with error", async () => {
    const feed = new ChangeFeed();
    const w = feed.open(">", 0, Promise.resolve());
    feed.publish({ key: "bad", revision: 1, op: "put", created: at, bytes: new Uint8Array([0xc1]) });
    const c = (await w.next()).value;
    expect(c.value).toBeUndefined();
    expect(c.error).toBeInstanceOf(ValueDecodeError);
    expect(c.error.key).toBe("bad");
  });

  it("ends on break, on stop() and on closeAll(), and forgets the watch", async () => {
    const feed = new ChangeFeed();
    const a = feed.open(">", 0, Promise.resolve());
    const b = feed.open(">", 0, Promise.resolve());
    expect(feed.size).toBe(2);
    feed.publish(put("k", 1, 1));
    for await (const _ of a) break;
    expect(feed.size).toBe(1);
    const pending = b.next().then(() => b.next());
    feed.closeAll();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(feed.size).toBe(0);
  });

  it("fails the iteration when the bucket cannot be opened", async () => {
    const feed = new ChangeFeed();
    const boom = new Error("no bucket");
    const w = feed.open(">", 0, Promise.reject(boom));
    await expect(w.next()).rejects.toBe(boom);
    expect(await w.next()).toEqual({ value: undefined, done: true });
    expect(feed.size).toBe(0);
  });
});
