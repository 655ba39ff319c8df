import { decode, encode } from "@msgpack/msgpack";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useNatsServer } from "../../runtime/testing/server.js";
import { OwnInbox } from "./own-inbox.js";
import { startEchoResponder, windowed } from "./raw-nats.js";

const nats = useNatsServer();

describe("OwnInbox", () => {
  let a: Awaited<ReturnType<typeof connect>>;
  let b: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    a = await connect({ servers: nats.url });
    b = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("matches each reply to its request, 64 in flight, and keeps no entry after", async () => {
    const responder = startEchoResponder(b, "oi.echo");
    await b.flush();
    const inbox = new OwnInbox(a);
    await windowed(2_000, 64, async (n) => {
      const reply = decode(await inbox.request("oi.echo", encode({ n }))) as { n: number };
      expect(reply.n).toBe(n);
    });
    expect(inbox.pending).toBe(0);
    inbox.close();
    responder.stop();
  });

  it("close rejects the requests still waiting", async () => {
    const inbox = new OwnInbox(a);
    const waiting = inbox.request("oi.nobody", encode({ n: 1 }));
    expect(inbox.pending).toBe(1);
    inbox.close(new Error("done"));
    await expect(waiting).rejects.toThrow("done");
    expect(inbox.pending).toBe(0);
  });
});
