// When a node dies without a goodbye, a survivor that hosts the same types
// adopts its root-supervised agents, which resume from their persisted state.

import { afterAll, describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { startNode, type TroupeNode } from "./node.js";
import { counter, echo } from "../actors/builtins.js";
import type { TroupeEvent } from "./events.js";

const nats = useNatsServer();

describe("failover", () => {
  const nodes: TroupeNode[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.close().catch(() => {});
  });

  it("adopts the agents of a node whose heartbeat lapsed, exactly once", async () => {
    const opts = { servers: nats.url, namespace: "fo", agents: [counter, echo], heartbeatMs: 100 };
    const doomed = await startNode({ ...opts, name: "doomed" });
    const a = await startNode({ ...opts, name: "a" });
    const b = await startNode({ ...opts, name: "b" });
    nodes.push(a, b);
    const events: TroupeEvent[] = [];
    a.onEvent((e) => events.push(e), { kind: "failover" });

    const ref = await doomed.spawn("counter", { key: "c1" });
    for (let i = 0; i < 7; i++) await ref.ask({ op: "inc" });
    await doomed.spawn("echo", { key: "e1", args: { hello: 1 } });

    // The process "dies": its connection drops, no graceful close, no registry release.
    await doomed.connection.close();

    expect(await waitFor(() => a.ref("counter", "c1").ask({ op: "get" }, { timeoutMs: 500 }), "counter/c1 adopted")).toBe(7);
    expect(await waitFor(() => a.ref("echo", "e1").ask("back", { timeoutMs: 500 }), "echo/e1 adopted")).toBe("back");
    const where = await a.whereIs("counter/c1");
    expect(["a", "b"]).toContain(where);
    const everywhere = (await a.listAll()).agents.filter((x) => x.id === "counter/c1");
    expect(everywhere).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.id === "counter/c1").map((e) => e.from)).toEqual(["doomed"]);
  });
});
