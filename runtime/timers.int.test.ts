// Durable timers (ctx.schedule / ctx.cancel / ctx.timers) on a live node
// driven by a FakeClock: each `when` fires when the clock says so and not
// before; cancel and replace; a receive that throws schedules nothing; bad
// input is a typed error; timers outlive a kill and a stop/spawn; a recurring
// timer that missed several due times fires once; a timer whose receive
// keeps throwing is dead-lettered after maxDeliver tries instead of looping.

import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connectClient, defineAgent, startNode, type TroupeNode } from "../actors/index.js";
import { encodeValue } from "./codec.js";
import { Subjects } from "./subjects.js";
import { FakeClock, waitFor } from "./testing/index.js";
import { useNatsServer } from "./testing/vitest.js";
import { DEFAULT_MAX_DELIVER } from "./define-agent.js";
import type { TimerInfo, TimerWhen } from "./timer-table.js";

const nats = useNatsServer();

/** Midnight UTC, so cron schedules fall on round minutes. */
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

let clock: FakeClock;
/** Every timer message a receive saw (across activations), and how often the failing one ran. */
let seen: Array<{ name: string | undefined; sender: string | null; at: number; msg: unknown }> = [];
let boomRuns = 0;

type AlarmMsg =
  | { op: "schedule"; name: string; when: TimerWhen; msg: unknown }
  | { op: "schedule-then-throw"; name: string }
  | { op: "try-schedule"; name: string; when: TimerWhen }
  | { op: "cancel"; name: string }
  | { op: "timers" }
  | { op: "get" }
  | { op: "tick"; n?: number }
  | { op: "boom" };

const alarm = defineAgent({
  type: "alarm",
  state: () => ({ fired: [] as string[] }),
  receive(msg: AlarmMsg, ctx) {
    switch (msg.op) {
      case "schedule":
        ctx.schedule(msg.name, msg.when, msg.msg);
        return ctx.timers();
      case "try-schedule":
        try {
          ctx.schedule(msg.name, msg.when, { op: "tick" });
          return null;
        } catch (err) {
          const e = err as { name: string; code: string; argument?: string };
          return { name: e.name, code: e.code, argument: e.argument };
        }
      case "schedule-then-throw":
        ctx.schedule(msg.name, { afterMs: 10 }, { op: "tick" });
        throw new Error("changed my mind");
      case "cancel":
        return ctx.cancel(msg.name);
      case "timers":
        return ctx.timers();
      case "get":
        return { fired: [...ctx.state.fired], timers: ctx.timers() };
      case "tick":
        seen.push({ name: ctx.timer, sender: ctx.sender, at: clock.now(), msg });
        ctx.state.fired.push(`${ctx.timer}@${clock.now() - T0}`);
        return null;
      case "boom":
        boomRuns++;
        throw new Error("boom");
    }
  },
});

const volatile = defineAgent({
  type: "volatile",
  persist: false,
  receive(_msg: unknown, ctx) {
    try {
      ctx.schedule("t", { afterMs: 10 }, "x");
      return null;
    } catch (err) {
      const e = err as { name: string; field?: string };
      return { name: e.name, field: e.field };
    }
  },
});

let node: TroupeNode | undefined;
let seq = 0;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function start(): Promise<TroupeNode> {
  clock = new FakeClock(T0);
  seen = [];
  boomRuns = 0;
  node = await startNode({ servers: nats.url, namespace: `timers-${process.pid}-${++seq}`, agents: [alarm, volatile], clock });
  return node;
}

type View = { fired: string[]; timers: TimerInfo[] };

async function fired(n: TroupeNode, key: string, count: number): Promise<View> {
  let view: View | undefined;
  await waitFor(async () => {
    view = await n.ref("alarm", key).ask<View>({ op: "get" });
    return view.fired.length >= count;
  }, `${count} timer(s) fired on alarm/${key}`);
  return view!;
}

async function get(n: TroupeNode, key: string): Promise<View> {
  return n.ref("alarm", key).ask<View>({ op: "get" });
}

describe("durable timers", () => {
  it("fires { afterMs } and { at } once when due on the clock, as a message from timer:<name>", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a1" });
    const listed = await ref.ask<TimerInfo[]>({ op: "schedule", name: "soon", when: { afterMs: 1000 }, msg: { op: "tick", n: 1 } });
    expect(listed).toEqual([{ name: "soon", kind: "at", due: T0 + 1000, attempts: 0 }]);
    await ref.ask({ op: "schedule", name: "exact", when: { at: new Date(T0 + 2000) }, msg: { op: "tick", n: 2 } });

    await clock.advance(999);
    expect((await get(n, "a1")).fired).toEqual([]);
    await clock.advance(1);
    expect((await fired(n, "a1", 1)).fired).toEqual(["soon@1000"]);
    expect(seen[0]).toMatchObject({ name: "soon", sender: "timer:soon", msg: { op: "tick", n: 1 } });

    await clock.advance(1000);
    const view = await fired(n, "a1", 2);
    expect(view.fired).toEqual(["soon@1000", "exact@2000"]);
    expect(view.timers).toEqual([]);
    // An ordinary message has no ctx.timer, whatever its sender says.
    await clock.advance(10_000);
    expect((await get(n, "a1")).fired).toHaveLength(2);
  });

  it("fires { every } on its period and { cron } on its schedule", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a2" });
    await ref.ask({ op: "schedule", name: "beat", when: { every: 100 }, msg: { op: "tick" } });
    await ref.ask({ op: "schedule", name: "five", when: { cron: "*/5 * * * *", tz: "Europe/Berlin" }, msg: { op: "tick" } });
    // Each firing is handled before the clock moves on (else the later ones were missed, and fire once).
    let view: View | undefined;
    for (let i = 1; i <= 3; i++) {
      await clock.advance(100);
      view = await fired(n, "a2", i);
    }
    view = view!;
    expect(view.fired).toEqual(["beat@100", "beat@200", "beat@300"]);
    expect(view.timers.find((t) => t.name === "five")).toMatchObject({ kind: "cron", due: T0 + 5 * 60_000 });
    await ref.ask({ op: "cancel", name: "beat" });
    await clock.advance(5 * 60_000 - 300);
    expect((await fired(n, "a2", 4)).fired.slice(3)).toEqual(["five@300000"]);
    await clock.advance(5 * 60_000);
    expect((await fired(n, "a2", 5)).fired.slice(3)).toEqual(["five@300000", "five@600000"]);
  });

  it("cancels, and replaces a timer scheduled again under its name", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a3" });
    await ref.ask({ op: "schedule", name: "gone", when: { afterMs: 100 }, msg: { op: "tick" } });
    expect(await ref.ask({ op: "cancel", name: "gone" })).toBe(true);
    expect(await ref.ask({ op: "cancel", name: "gone" })).toBe(false);
    await ref.ask({ op: "schedule", name: "moved", when: { afterMs: 100 }, msg: { op: "tick" } });
    const listed = await ref.ask<TimerInfo[]>({ op: "schedule", name: "moved", when: { afterMs: 500 }, msg: { op: "tick" } });
    expect(listed).toEqual([{ name: "moved", kind: "at", due: T0 + 500, attempts: 0 }]);
    await clock.advance(400);
    expect((await get(n, "a3")).fired).toEqual([]);
    await clock.advance(100);
    expect((await fired(n, "a3", 1)).fired).toEqual(["moved@500"]);
    await clock.advance(1000);
    expect((await get(n, "a3")).fired).toEqual(["moved@500"]);
  });

  it("schedules nothing when the receive that scheduled throws", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a4" });
    await expect(ref.ask({ op: "schedule-then-throw", name: "never" })).rejects.toThrow(/changed my mind/);
    await waitFor(async () => (await n.list()).some((i) => i.id === "alarm/a4" && i.state === "running"), "restarted");
    expect((await get(n, "a4")).timers).toEqual([]);
    await clock.advance(1000);
    expect((await get(n, "a4")).fired).toEqual([]);
  });

  it("refuses a bad name, when, cron expression or time zone with InvalidArgumentError, and a type that persists nothing with InvalidConfigError", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a5" });
    const bad = async (name: string, when: unknown, argument: string) => {
      expect(await ref.ask({ op: "try-schedule", name, when })).toEqual({ name: "InvalidArgumentError", code: "INVALID_ARGUMENT", argument });
    };
    await bad("has.dot", { afterMs: 1 }, "timer name");
    await bad("", { afterMs: 1 }, "timer name");
    await bad("t", { cron: "61 * * * *" }, "cron");
    await bad("t", { cron: "* * * * *", tz: "Nowhere/Atlantis" }, "cron");
    await bad("t", { afterMs: -1 }, "afterMs");
    await bad("t", { every: 0 }, "every");
    await bad("t", { at: "tomorrow" }, "at");
    await bad("t", { in: 5 }, "when");
    await bad("t", { afterMs: 5, every: 10, cron: "* * * * *" }, "when");
    const v = await n.spawn("volatile", { key: "v1" });
    expect(await v.ask("x")).toEqual({ name: "InvalidConfigError", field: "persist" });
    expect((await get(n, "a5")).timers).toEqual([]);
  });

  it("keeps timers across a kill (restart) and across a stop and a new spawn", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a6" });
    await ref.ask({ op: "schedule", name: "k", when: { afterMs: 100 }, msg: { op: "tick" } });
    await ref.ask({ op: "schedule", name: "s", when: { afterMs: 1000 }, msg: { op: "tick" } });
    await n.kill("alarm/a6", "test");
    await waitFor(async () => (await n.list()).some((i) => i.id === "alarm/a6" && i.state === "running" && i.restarts === 1), "restarted");
    await clock.advance(100);
    expect((await fired(n, "a6", 1)).fired).toEqual(["k@100"]);

    await n.stop(ref);
    // Nothing runs it while stopped: the timer does not fire.
    await clock.advance(1000);
    await n.spawn("alarm", { key: "a6" });
    // Due while it was stopped: fires once when it is back.
    const view = await fired(n, "a6", 2);
    expect(view.fired).toEqual(["k@100", "s@1100"]);
    expect(view.timers).toEqual([]);
  });

  it("fires a recurring timer that missed several due times once, then goes on with its schedule", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a7" });
    await ref.ask({ op: "schedule", name: "r", when: { every: 100 }, msg: { op: "tick" } });
    await n.stop(ref);
    await clock.advance(1050);
    await n.spawn("alarm", { key: "a7" });
    const view = await fired(n, "a7", 1);
    expect(view.fired).toEqual(["r@1050"]);
    expect(view.timers).toEqual([{ name: "r", kind: "every", due: T0 + 1100, attempts: 0 }]);
    await clock.advance(50);
    expect((await fired(n, "a7", 2)).fired).toEqual(["r@1050", "r@1100"]);
  });

  it("gives up a timer whose receive keeps throwing after maxDeliver tries: dead-lettered, not fired again", async () => {
    const n = await start();
    const ref = await n.spawn("alarm", { key: "a8" });
    await ref.ask({ op: "schedule", name: "bad", when: { every: 100 }, msg: { op: "boom" } });
    await clock.advance(100);
    await waitFor(() => boomRuns >= DEFAULT_MAX_DELIVER, `${DEFAULT_MAX_DELIVER} tries`);
    await waitFor(async () => (await n.list()).some((i) => i.id === "alarm/a8" && i.state === "running"), "running again");
    // Moved on: due again at its next period (so a recurring one goes on; a one-shot is gone).
    const view = await get(n, "a8");
    expect(view.timers).toEqual([{ name: "bad", kind: "every", due: T0 + 200, attempts: 0 }]);
    expect(boomRuns).toBe(DEFAULT_MAX_DELIVER);
    await ref.ask({ op: "cancel", name: "bad" });
    await clock.advance(1000);
    expect(boomRuns).toBe(DEFAULT_MAX_DELIVER);
    // Its message is in the dead letters, from the timer, with the tries it took.
    const client = await connectClient({ servers: nats.url, namespace: n.namespace, clock });
    try {
      const { letters } = await client.deadLetters.list({ agent: "alarm/a8" });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ kind: "letter", sender: "timer:bad", deliveries: DEFAULT_MAX_DELIVER, body: { op: "boom" } });
      expect((letters[0] as { reason: string }).reason).toMatch(/gave up after 5 tries: .*boom/);
    } finally {
      await client.close();
    }
  });

  it("refuses malformed timers in the state bucket: the start fails with InvalidMessageError, the node serves on", async () => {
    const n = await start();
    const kv = await new Kvm(n.connection).open(new Subjects(n.namespace).stateBucket());
    await kv.put("alarm.a9", encodeValue(["troupe/timers", 1, encodeValue({ fired: [] }), [["x", "at", -1, null, null, null, encodeValue(1), 0]]]));
    await expect(n.spawn("alarm", { key: "a9" })).rejects.toThrow(/stored timers hold a bad due time/);
    const ref = await n.spawn("alarm", { key: "a10" });
    expect((await ref.ask<View>({ op: "get" })).fired).toEqual([]);
  });
});
