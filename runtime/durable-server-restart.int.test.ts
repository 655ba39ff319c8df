// Durable mailboxes across a crash of the nats-server (SIGKILL, then a
// restart on the same store): every tell that resolved, before, during or
// after the outage, is applied exactly once; a tell sent while the server is
// down either resolves once it is stored or rejects with a typed error, and
// never resolves without being stored.

import { afterAll, describe, expect, it } from "vitest";
import { useNatsServer } from "./testing/server.js";
import { waitFor } from "./testing/wait.js";
import { ledgerAgent, twice, type LedgerMsg, type LedgerState } from "./testing/durable/ledger.js";
import { MailboxUnavailableError } from "./errors.js";
import { startNode, type TroupeNode } from "./node.js";

const nats = useNatsServer();
let node: TroupeNode | undefined;
afterAll(async () => {
  await node?.close().catch(() => {});
});

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe("durable mailboxes across a server restart", () => {
  it("applies every tell that resolved exactly once; one that could not be stored rejects with a typed error", async () => {
    node = await startNode({ servers: nats.url, namespace: "srv", name: "n", heartbeatMs: 200, agents: [ledgerAgent()] });
    const ref = await node.spawn<LedgerMsg>("ledger", { key: "s" });
    for (const id of ids("b", 20)) await ref.tell({ op: "add", id });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(ids("b", 20));

    await nats.server.kill();
    // Sent while the server is down: each resolves once stored, or rejects.
    const during = ids("d", 20).map((id) =>
      ref.tell({ op: "add", id }).then(
        () => ({ id, stored: true as const }),
        (err: unknown) => ({ id, stored: false as const, err }),
      ),
    );
    // Down long enough that store attempts time out and are retried (under the same message id).
    await new Promise((r) => setTimeout(r, 3_000));
    await nats.server.restart();
    const outcomes = await Promise.all(during);
    for (const id of ids("a", 20)) await ref.tell({ op: "add", id });

    const resolved = [...ids("b", 20), ...outcomes.filter((o) => o.stored).map((o) => o.id), ...ids("a", 20)];
    for (const o of outcomes) if (!o.stored) expect(o.err).toBeInstanceOf(MailboxUnavailableError);
    await waitFor(async () => {
      const applied = (await ref.ask<LedgerState>({ op: "get" }, { timeoutMs: 2_000 })).applied;
      return resolved.every((id) => applied.includes(id));
    }, "every resolved tell applied", 10_000);
    const { applied } = await ref.ask<LedgerState>({ op: "get" });
    expect(twice(applied)).toEqual([]);
    // Order is kept: the tells before, then those during that were stored, then those after.
    expect(applied.filter((id) => id.startsWith("b"))).toEqual(ids("b", 20));
    expect(applied.filter((id) => id.startsWith("a"))).toEqual(ids("a", 20));
    expect(applied.slice(-20)).toEqual(ids("a", 20));
  }, 60_000);

  it("recognises a tell retried with its id after the server forgot it (applied, removed, then the server restarted)", async () => {
    node ??= await startNode({ servers: nats.url, namespace: "srv", name: "n", heartbeatMs: 200, agents: [ledgerAgent()] });
    const ref = await node.spawn<LedgerMsg>("ledger", { key: "k" });
    await ref.tell({ op: "add", id: "x1" }, { id: "x1" });
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["x1"]);
    await nats.server.kill();
    await nats.server.restart();
    // The stream rebuilt its duplicate ids from what it still holds, and x1 was removed once applied: it is
    // stored again, and the agent's record of the keys it applied keeps it from being applied twice.
    await waitFor(
      () =>
        ref.tell({ op: "add", id: "x1" }, { id: "x1" }).then(
          () => true,
          () => false,
        ),
      "the retry stored",
      20_000,
    );
    await ref.tell({ op: "add", id: "x2" }, { id: "x2" });
    await waitFor(async () => (await ref.ask<LedgerState>({ op: "get" }, { timeoutMs: 2_000 }).catch(() => ({ applied: [] as string[] }))).applied.includes("x2"), "x2 applied", 20_000);
    expect((await ref.ask<LedgerState>({ op: "get" })).applied).toEqual(["x1", "x2"]);
  }, 60_000);
});
