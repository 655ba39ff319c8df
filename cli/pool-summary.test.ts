import { describe, expect, it } from "vitest";
import type { AgentInfo } from "../actors/index.js";
import { poolLines, poolSummaries, withPools } from "./pool-summary.js";

const agent = (type: string, key: string, handled: number) => ({ id: `${type}/${key}`, type, key, handled }) as AgentInfo;

describe("ps pool summary", () => {
  const agents = [agent("worker", "w-1", 7), agent("worker", "w-0", 5), agent("counter", "c1", 3), agent("worker", "w-10", 1)];

  it("groups members by type and pool name, in index order, with messages handled per member", () => {
    expect(poolSummaries(agents)).toEqual([{ pool: "worker/w", members: 3, handled: 13, perMember: { "w-0": 5, "w-1": 7, "w-10": 1 } }]);
    expect(poolLines(poolSummaries(agents))).toEqual(["pool worker/w: 3 members, 13 handled (w-0 5, w-1 7, w-10 1)"]);
  });

  it("marks members in --json rows, and leaves other agents as they are", () => {
    const rows = withPools(agents);
    expect(rows[0]).toMatchObject({ pool: "worker/w", poolIndex: 1 });
    expect(rows[2]).not.toHaveProperty("pool");
  });

  it("counts a member listed twice once, and leaves out rows the root supervisor gave up on", () => {
    const moving = [
      agent("worker", "w-0", 5),
      agent("worker", "w-0", 2), // the same member, listed by a second node while it moves
      { ...agent("worker", "w-1", 9), state: "failed" } as AgentInfo,
      agent("worker", "w-1", 4),
    ];
    expect(poolSummaries(moving)).toEqual([{ pool: "worker/w", members: 2, handled: 9, perMember: { "w-0": 5, "w-1": 4 } }]);
  });
});
