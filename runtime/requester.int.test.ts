// Ask deadlines on a fake clock, against a real server: asks share one
// deadline timer per requester, and each still fails with AskTimeoutError at
// its own timeout, whatever the mix of timeouts, answered asks in between,
// or more distinct timeouts than there are lanes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { FakeClock } from "./clock.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { decodeEnvelope, encodeReply } from "./envelope.js";
import { AskTimeoutError } from "./errors.js";
import { Messenger } from "./messenger.js";
import { MAX_LANES } from "./requester.js";
import { Subjects } from "./subjects.js";
import { connectTo, useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";

const nats = useNatsServer();

/** How an ask ended, and when on the fake clock. */
interface Outcome {
  value?: unknown;
  error?: unknown;
  at: number;
}

describe("ask deadlines on one shared timer", () => {
  let nc: NatsConnection;
  let responder: NatsConnection;
  let sub: Subscription;
  const subjects = new Subjects("deadlines");
  let received = 0;

  beforeAll(async () => {
    nc = await connectTo(nats.url);
    responder = await connectTo(nats.url);
    // Answers only the asks that say so; the others wait for their deadline.
    sub = responder.subscribe(subjects.agent("slow", "s1"), {
      callback: (_err, msg) => {
        received++;
        const env = decodeEnvelope(msg.data, DEFAULT_MAX_MESSAGE_BYTES);
        if ((env.body as { answer?: boolean }).answer) msg.respond(encodeReply(env.id, "slow/s1", env.body, null, DEFAULT_MAX_MESSAGE_BYTES));
      },
    });
    await responder.flush();
  });

  afterAll(async () => {
    sub.unsubscribe();
    await responder.close();
    await nc.close();
  });

  function setUp(): { clock: FakeClock; messenger: Messenger; ask: (body: object, timeoutMs: number) => Outcome[] } {
    const clock = new FakeClock(1_000_000);
    const messenger = new Messenger(nc, subjects, clock, { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, askTimeoutMs: 5_000, servers: nats.url });
    const ref = messenger.ref("slow", "s1", "test-client");
    const ask = (body: object, timeoutMs: number): Outcome[] => {
      const outcome: Outcome[] = [];
      ref.ask(body, { timeoutMs }).then(
        (value) => outcome.push({ value, at: clock.now() }),
        (error: unknown) => outcome.push({ error, at: clock.now() }),
      );
      return outcome;
    };
    return { clock, messenger, ask };
  }

  /** Let the responder see every ask sent so far. */
  async function delivered(count: number): Promise<void> {
    await nc.flush();
    await waitFor(() => received >= count, `the responder received ${count} asks`);
  }

  it("fails each ask at its own timeout, in any mix of timeouts and send times", async () => {
    const { clock, messenger, ask } = setUp();
    const start = clock.now();
    const before = received;
    const a = ask({ n: 1 }, 100);
    const b = ask({ n: 2 }, 50);
    await clock.advance(30);
    const c = ask({ n: 3 }, 100);
    await delivered(before + 3);

    await clock.advance(19); // t = 49
    expect([a, b, c].map((o) => o.length)).toEqual([0, 0, 0]);
    await clock.advance(1); // t = 50
    expect(b).toEqual([{ error: expect.any(AskTimeoutError), at: start + 50 }]);
    expect((b[0]!.error as AskTimeoutError).timeoutMs).toBe(50);
    expect([a.length, c.length]).toEqual([0, 0]);
    await clock.advance(50); // t = 100
    expect(a).toEqual([{ error: expect.any(AskTimeoutError), at: start + 100 }]);
    expect(c).toEqual([]);
    await clock.advance(29); // t = 129
    expect(c).toEqual([]);
    await clock.advance(1); // t = 130
    expect(c).toEqual([{ error: expect.any(AskTimeoutError), at: start + 130 }]);
    expect(messenger.requester.outstanding).toBe(0);
  });

  it("never times out an answered ask, and still times out the ones sent after it", async () => {
    const { clock, messenger, ask } = setUp();
    const start = clock.now();
    const answered = ask({ n: 1, answer: true }, 100);
    await waitFor(() => answered.length === 1, "the answer came back");
    expect(answered).toEqual([{ value: { n: 1, answer: true }, at: start }]);
    await clock.advance(10);
    const waiting = ask({ n: 2 }, 100);
    await nc.flush();
    await clock.advance(90); // t = 100: the first ask's deadline, nothing due
    expect(waiting).toEqual([]);
    await clock.advance(9);
    expect(waiting).toEqual([]);
    await clock.advance(1); // t = 110
    expect(waiting).toEqual([{ error: expect.any(AskTimeoutError), at: start + 110 }]);
    expect(answered).toHaveLength(1);
    expect(messenger.requester.outstanding).toBe(0);
  });

  it("times out asks with more distinct timeouts than there are lanes, each at its own", async () => {
    const { clock, messenger, ask } = setUp();
    const start = clock.now();
    const count = MAX_LANES + 4;
    // Longest first, so that each new timeout is the earliest deadline so far.
    const outcomes = Array.from({ length: count }, (_, i) => ask({ n: i }, (count - i) * 10));
    await nc.flush();
    for (let step = 1; step <= count; step++) {
      await clock.advance(9);
      expect(outcomes.filter((o) => o.length > 0)).toHaveLength(step - 1);
      await clock.advance(1);
      const done = outcomes[count - step]!;
      expect(done).toEqual([{ error: expect.any(AskTimeoutError), at: start + step * 10 }]);
    }
    expect(messenger.requester.outstanding).toBe(0);
    // Nothing is left armed for asks that are gone.
    await clock.advance(10_000);
    expect(outcomes.every((o) => o.length === 1)).toBe(true);
  });

  it("fails every waiting ask at once when the messenger closes, and leaves no timer behind", async () => {
    const { clock, messenger, ask } = setUp();
    const outcomes = [ask({ n: 1 }, 100), ask({ n: 2 }, 200), ask({ n: 3 }, 300)];
    await nc.flush();
    messenger.close(new Error("closed for the test"));
    await clock.advance(0);
    expect(outcomes.map((o) => String((o[0]?.error as Error | undefined)?.message))).toEqual(Array(3).fill("closed for the test"));
    expect(messenger.requester.outstanding).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
