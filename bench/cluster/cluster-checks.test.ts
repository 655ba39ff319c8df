// The pure parts of the `cluster` scenario's verdicts: which activations of
// one agent overlapped (running twice), the time without answers after a
// kill, and which server a kill takes.

import { describe, expect, it } from "vitest";
import { activationSpans, overlaps, type ActivationRecord } from "./activation-log.js";
import { answerGaps } from "./answer-gaps.js";
import { pickVictim } from "./cluster-leaders.js";

const start = (key: string, act: string, node: string, at: number): ActivationRecord => ({ ev: "start", key, act, node, at });
const stop = (key: string, act: string, node: string, at: number): ActivationRecord => ({ ev: "stop", key, act, node, at });

describe("overlaps of activations", () => {
  it.each([
    ["stopped before the next started", [[start("a", "1", "n1", 0), stop("a", "1", "n1", 100)], [start("a", "2", "n2", 150)]], [undefined, undefined], 0],
    ["stopped at the moment the next started", [[start("a", "1", "n1", 0), stop("a", "1", "n1", 100)], [start("a", "2", "n2", 100)]], [undefined, undefined], 0],
    ["stopped after the next started", [[start("a", "1", "n1", 0), stop("a", "1", "n1", 130)], [start("a", "2", "n2", 100)]], [undefined, undefined], 1],
    ["never stopped, its process alive", [[start("a", "1", "n1", 0)], [start("a", "2", "n2", 100)]], [undefined, undefined], 1],
    ["never stopped, its process killed before the adoption", [[start("a", "1", "n1", 0)], [start("a", "2", "n2", 3_000)]], [2_000, undefined], 0],
    ["never stopped, its process killed after the adoption", [[start("a", "1", "n1", 0)], [start("a", "2", "n2", 3_000)]], [3_500, undefined], 1],
    ["two agents side by side", [[start("a", "1", "n1", 0)], [start("b", "2", "n2", 100)]], [undefined, undefined], 0],
    ["restarted on the same node", [[start("a", "1", "n1", 0), stop("a", "1", "n1", 50), start("a", "2", "n1", 50)], []], [undefined, undefined], 0],
  ] as const)("%s", (_what, logs, died, want) => {
    const spans = activationSpans(
      logs.map((records, i) => ({ records, diedAt: died[i] })),
      10_000,
    );
    expect(overlaps(spans)).toHaveLength(want);
  });

  it("says how long both ran", () => {
    const [o] = overlaps(activationSpans([{ records: [start("a", "1", "n1", 0), stop("a", "1", "n1", 130)] }, { records: [start("a", "2", "n2", 100)] }], 1_000));
    expect(o).toMatchObject({ key: "a", overlapMs: 30, first: { node: "n1", ended: "stopped" }, second: { node: "n2", ended: "running" } });
  });
});

describe("answerGaps", () => {
  const marks = [
    { key: "a", at: 500 }, // before the kill: left out
    { key: "a", at: 1_020 },
    { key: "a", at: 4_000 },
    { key: "b", at: 4_000 },
  ];

  it("measures from the kill to the window's end, over all agents and per agent", () => {
    const g = answerGaps(marks, ["a", "b"], 1_000, 5_000);
    expect(g.longestMs).toBe(2_980);
    expect(Object.fromEntries(g.perAgentMs)).toEqual({ a: 2_980, b: 3_000 });
    expect(Object.fromEntries(g.firstAnswerMs)).toEqual({ a: 20, b: 3_000 });
  });

  it("gives an agent that never answers the whole window, and no first answer", () => {
    const g = answerGaps(marks, ["a", "c"], 1_000, 5_000);
    expect(g.perAgentMs.get("c")).toBe(4_000);
    expect(g.firstAnswerMs.has("c")).toBe(false);
  });
});

describe("pickVictim", () => {
  it.each([
    ["leader", ["n2", "n2", "n1"], "n2"],
    ["follower", ["n2", "n2", "n1"], "n3"],
    ["follower", ["n1", "n2", "n3"], "n1"],
    ["follower", ["n2", "n2", "n2"], "n1"],
    ["leader", [undefined, "n1", "n1"], undefined],
  ] as const)("%s with leaders %j -> %s", (role, leaders, want) => {
    expect(pickVictim(role, ["n1", "n2", "n3"], leaders)).toBe(want);
  });
});
