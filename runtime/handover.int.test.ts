// Rolling restarts: a node closed with { handover: true } hands its agents to
// live peers of their types (claim taken over with compare-and-set, state
// resumed), asks sent meanwhile wait and are answered, and a node that comes
// back under the same name takes back nothing it handed over.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { encodeEnvelope, decodeEnvelope, Kind } from "./envelope.js";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { connectClient, type TroupeClient } from "./client.js";
import { defineAgent } from "./define-agent.js";
import { counter } from "../actors/builtins.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();

const session = defineAgent({
  type: "session",
  activation: "on-demand",
  idleTimeoutMs: 60_000,
  state: () => ({ count: 0 }),
  receive(_msg: unknown, ctx) {
    return ++ctx.state.count;
  },
});

const agents = [counter, session];

describe("handover", () => {
  let client: TroupeClient;
  beforeAll(async () => {
    client = await connectClient({ servers: nats.url, namespace: "ho" });
  });
  afterAll(async () => {
    await client?.close();
  });

  it("hands a closing node's agents to a peer, with their state; asks sent meanwhile are answered", async () => {
    const a = await startNode({ servers: nats.url, namespace: "ho", name: "ho-a", agents });
    const b = await startNode({ servers: nats.url, namespace: "ho", name: "ho-b", agents });
    const events: TroupeEvent[] = [];
    b.onEvent((e) => events.push(e));
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `c${i}`);
      for (const key of keys) await a.spawn("counter", { key, node: "ho-a" });
      for (const key of keys) await client.ref("counter", key).ask({ op: "inc" });
      await client.ref("session", "s1").ask("hi");
      const onA = await a.whereIs("session/s1");

      // Asks keep coming while a hands its agents over.
      let stop = false;
      const acked = new Map<string, number>(keys.map((k) => [k, 1]));
      const failures: unknown[] = [];
      const load = (async () => {
        while (!stop) {
          await Promise.all(
            keys.map(async (key) => {
              try {
                await client.ref("counter", key).ask({ op: "inc" }, { timeoutMs: 10_000 });
                acked.set(key, acked.get(key)! + 1);
              } catch (err) {
                failures.push(err);
              }
            }),
          );
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await a.close({ handover: true });
      await new Promise((r) => setTimeout(r, 100));
      stop = true;
      await load;

      expect(failures).toEqual([]);
      for (const key of keys) {
        expect(await client.whereIs(`counter/${key}`)).toBe("ho-b");
        expect(await client.ref("counter", key).ask({ op: "get" })).toBe(acked.get(key));
      }
      await waitFor(() => events.filter((e) => e.kind === "handed_over" && e.node === "ho-a").length === keys.length, "handed_over events");
      expect(events.find((e) => e.kind === "handed_over")).toMatchObject({ to: "ho-b" });
      // The on-demand agent was passivated (if it was on a), and comes back on b with its state.
      if (onA === "ho-a") expect(await client.whereIs("session/s1")).toBeUndefined();
      expect(await client.ref("session", "s1").ask("again")).toBe(2);
      expect(await client.whereIs("session/s1")).toBe("ho-b");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("rolling restart of three nodes under load: every agent keeps running with its state, no ask fails, and a restarted node takes back nothing", async () => {
    const names = ["r1", "r2", "r3"];
    const nodes = new Map<string, TroupeNode>();
    for (const name of names) nodes.set(name, await startNode({ servers: nats.url, namespace: "ho-roll", name, agents }));
    const roll = await connectClient({ servers: nats.url, namespace: "ho-roll" });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const [i, key] of keys.entries()) await roll.spawn("counter", { key, node: names[i % 3] });
      const acked = new Map<string, number>(keys.map((k) => [k, 0]));
      const failures: unknown[] = [];
      let stop = false;
      const load = (async () => {
        while (!stop) {
          await Promise.all(
            keys.map(async (key) => {
              try {
                await roll.ref("counter", key).ask({ op: "inc" }, { timeoutMs: 10_000 });
                acked.set(key, acked.get(key)! + 1);
              } catch (err) {
                failures.push(err);
              }
            }),
          );
        }
      })();
      for (const name of names) {
        await new Promise((r) => setTimeout(r, 150));
        await nodes.get(name)!.close({ handover: true });
        const again = await startNode({ servers: nats.url, namespace: "ho-roll", name, agents });
        nodes.set(name, again);
        // Back under the same name, it took back nothing it handed over.
        expect((await again.list()).filter((i) => i.type === "counter")).toEqual([]);
      }
      await new Promise((r) => setTimeout(r, 150));
      stop = true;
      await load;

      expect(failures).toEqual([]);
      for (const key of keys) {
        expect(await roll.whereIs(`counter/${key}`)).toBeDefined();
        expect(await roll.ref("counter", key).ask({ op: "get" })).toBe(acked.get(key));
      }
      const running = (await roll.listAll()).agents.filter((i) => i.type === "counter" && i.state === "running");
      expect(running.map((i) => i.id).sort()).toEqual(keys.map((k) => `counter/${k}`).sort());
    } finally {
      await roll.close();
      for (const node of nodes.values()) await node.close();
    }
  });

  it("refuses a takeover from the wire that does not name the claim exactly, and leaves the claim where it was", async () => {
    const a = await startNode({ servers: nats.url, namespace: "ho-wire", name: "w-a", agents });
    const b = await startNode({ servers: nats.url, namespace: "ho-wire", name: "w-b", agents });
    const raw = await connect({ servers: nats.url });
    try {
      await a.spawn("counter", { key: "held", node: "w-a" });
      const send = async (body: unknown) => {
        const reply = await raw.request("troupe.ho-wire.node.w-b.ctl.counter", encodeEnvelope(Kind.System, "m", null, null, body, 1 << 20), { timeout: 5000 });
        return decodeEnvelope(reply.data, 1 << 20).error;
      };
      const claim = await (await new Kvm(raw).open("troupe_ho-wire_registry")).get("counter.held");
      // A stale or guessed revision: the claim is not the one named, so nothing moves.
      expect(await send({ op: "spawn", type: "counter", key: "held", takeover: { node: "w-a", revision: claim!.revision + 1 } })).toMatchObject({ code: "AGENT_EXISTS" });
      for (const takeover of [{ node: "w-a" }, { node: "w a", revision: 3 }, { node: "w-a", revision: -1 }, "w-a", [1]]) {
        expect(await send({ op: "spawn", type: "counter", key: "held", takeover })).toMatchObject({ code: "INVALID_ARGUMENT" });
      }
      expect(await a.whereIs("counter/held")).toBe("w-a");
      expect(await a.ref("counter", "held").ask({ op: "inc" })).toBe(1);
      // The exact claim moves it; the node that held it is told to let go, so it never runs twice.
      const now = await (await new Kvm(raw).open("troupe_ho-wire_registry")).get("counter.held");
      expect(await send({ op: "spawn", type: "counter", key: "held", takeover: { node: "w-a", revision: now!.revision } })).toBeNull();
      expect(await a.whereIs("counter/held")).toBe("w-b");
      await waitFor(async () => !(await a.list()).some((i) => i.id === "counter/held" && i.state === "running"), "w-a let go of counter/held");
      expect(await b.ref("counter", "held").ask({ op: "get" })).toBe(1);
    } finally {
      await raw.close();
      await a.close();
      await b.close();
    }
  });

  it("stops the agents no peer takes, and releases their claims", async () => {
    const alone = await startNode({ servers: nats.url, namespace: "ho-alone", name: "alone", agents });
    const c = await connectClient({ servers: nats.url, namespace: "ho-alone" });
    try {
      await alone.spawn("counter", { key: "only" });
      await alone.close({ handover: true });
      expect(await c.whereIs("counter/only")).toBeUndefined();
    } finally {
      await c.close();
    }
  });
});
