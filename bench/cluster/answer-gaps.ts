// Time without answers around a kill: from the answers the bench received
// (agent key and `performance.now()` time), the longest stretch with no
// answer at all, and per agent the longest stretch without an answer from
// that agent, in a window that starts at the kill.

/** One answered ask: which agent, and when its answer arrived (ms, one monotonic clock). */
export interface AnswerMark {
  key: string;
  at: number;
}

/** The gaps in one window. */
export interface AnswerGaps {
  /** The longest time with no answer from any agent, ms. */
  longestMs: number;
  /** Per agent: the longest time without an answer from it, ms. */
  perAgentMs: Map<string, number>;
  /** Per agent: the window's start → its first answer in the window, ms; missing when it never answered. */
  firstAnswerMs: Map<string, number>;
}

/**
 * Gaps between answers in [fromMs, toMs]: the window's start counts as the
 * start of the first gap and its end as the end of the last, so an agent that
 * never answers in the window has a gap of the whole window.
 *
 * @example
 * // killed at 1000; answers at 1020 (a), 4000 (a, b), window to 5000
 * answerGaps(marks, ["a", "b"], 1000, 5000) // longestMs 2980, perAgentMs a 2980 / b 3000, firstAnswerMs a 20 / b 3000
 */
export function answerGaps(marks: readonly AnswerMark[], keys: readonly string[], fromMs: number, toMs: number): AnswerGaps {
  const inside = marks.filter((m) => m.at >= fromMs && m.at <= toMs).sort((a, b) => a.at - b.at);
  const longest = (times: readonly number[]): number => {
    let prev = fromMs;
    let max = 0;
    for (const t of times) {
      max = Math.max(max, t - prev);
      prev = t;
    }
    return Math.max(max, toMs - prev);
  };
  const byKey = new Map<string, number[]>(keys.map((k) => [k, []]));
  for (const m of inside) byKey.get(m.key)?.push(m.at);
  const perAgentMs = new Map<string, number>();
  const firstAnswerMs = new Map<string, number>();
  for (const [key, times] of byKey) {
    perAgentMs.set(key, longest(times));
    if (times.length > 0) firstAnswerMs.set(key, times[0]! - fromMs);
  }
  return { longestMs: longest(inside.map((m) => m.at)), perAgentMs, firstAnswerMs };
}
