// A list page is as full as one message allows, never fuller, and never
// empty while agents remain: measured against the real reply encoding.

import { describe, expect, it } from "vitest";
import type { AgentInfo } from "./agent-host.js";
import { encodeReply } from "./envelope.js";
import { InvalidMessageError } from "./errors.js";
import { fillListPage } from "./list-page.js";
import type { AgentId } from "./subjects.js";

function info(i: number): AgentInfo {
  const key = `k${String(i).padStart(6, "0")}`;
  return {
    id: `worker/${key}` as AgentId,
    type: "worker",
    key,
    node: "n1",
    state: "running",
    supervisor: "root",
    startedAt: 1_700_000_000_000 + i,
    uptimeMs: i * 7,
    handled: i % 13,
    failures: 0,
    restarts: i % 3,
    mailbox: 0,
    mailboxBytes: 0,
    rejected: 0,
  } as AgentInfo;
}

const ID = "request-id-1";
const SENDER = "node:n1";
const bytesOf = (body: unknown): number => encodeReply(ID, SENDER, body, null, Number.POSITIVE_INFINITY).length;
const EMPTY = bytesOf({ agents: [] });

describe("fillListPage", () => {
  it.each([300, 2_000, 8_192, 65_536])("fills a page to the %i-byte limit: the reply fits, one more agent would not", (max) => {
    const all = Array.from({ length: 1_000 }, (_, i) => info(i));
    const page = fillListPage(all, 10_000, max, EMPTY);
    expect(page.agents.length).toBeGreaterThan(0);
    expect(page.agents.length).toBeLessThan(all.length);
    expect(page.agents).toEqual(all.slice(0, page.agents.length));
    expect(page.next).toBe(page.agents[page.agents.length - 1]!.id);
    expect(bytesOf(page)).toBeLessThanOrEqual(max);
    const fuller = all.slice(0, page.agents.length + 1);
    expect(bytesOf({ agents: fuller, next: fuller[fuller.length - 1]!.id })).toBeGreaterThan(max);
  });

  it("counts array headers past 15 and 65,535 items exactly", () => {
    const all = Array.from({ length: 70_000 }, (_, i) => info(i));
    const sizeOf = (n: number) => bytesOf({ agents: all.slice(0, n), next: all[n - 1]!.id });
    for (const n of [15, 16, 65_535, 65_536]) {
      const page = fillListPage(all, 100_000, sizeOf(n), EMPTY);
      expect(page.agents.length).toBe(n);
      expect(bytesOf(page)).toBeLessThanOrEqual(sizeOf(n));
    }
  });

  it("stops at the limit and names the last agent as next; the last page has no next", () => {
    const all = Array.from({ length: 25 }, (_, i) => info(i));
    const first = fillListPage(all, 10, 1 << 20, EMPTY);
    expect(first.agents.map((a) => a.id)).toEqual(all.slice(0, 10).map((a) => a.id));
    expect(first.next).toBe(all[9]!.id);
    const last = fillListPage(all.slice(20), 10, 1 << 20, EMPTY);
    expect(last.agents).toHaveLength(5);
    expect(last).not.toHaveProperty("next");
    expect(fillListPage([], 10, 1 << 20, EMPTY)).toEqual({ agents: [] });
  });

  it("a limit too small for even one agent is an InvalidMessageError, not an empty page that never moves on", () => {
    expect(() => fillListPage([info(1)], 10, EMPTY + 20, EMPTY)).toThrow(InvalidMessageError);
  });
});
