// The live view of `agentctl top`, drawn with ink: it lists the namespace
// every interval and redraws the frame of top-model.ts, failing agents in red
// (and marked `!`, for terminals without colour). Keys: q quits, s cycles the
// sort, / types a filter (Enter keeps it, Esc clears it). Time comes from a
// Clock, so tests drive the refreshes with a FakeClock.

import { Box, Text, useApp, useInput } from "ink";
import { createElement as h, useEffect, useRef, useState, type ReactElement } from "react";
import type { Clock } from "../runtime/clock.js";
import { frameLines, nextSort, topFrame, type RiseMarks, type TopSample, type TopSort } from "./top-model.js";

/** What the view needs. */
export interface TopViewProps {
  /** Lists the namespace (the client's listAll), stamped with `clock.now()` by the view. */
  list: () => Promise<Omit<TopSample, "at">>;
  namespace: string;
  intervalMs: number;
  sort: TopSort;
  filter?: string;
  clock: Clock;
}

/** The view's state between refreshes. */
interface Shown {
  cur: TopSample | undefined;
  prev: TopSample | undefined;
  error: string | undefined;
}

/** The live `top` view. Render it with ink's `render` (or ink-testing-library's). */
export function TopView(props: TopViewProps): ReactElement {
  const { exit } = useApp();
  const [shown, setShown] = useState<Shown>({ cur: undefined, prev: undefined, error: undefined });
  const [sort, setSort] = useState<TopSort>(props.sort);
  const [filter, setFilter] = useState(props.filter ?? "");
  const [typing, setTyping] = useState(false);
  const marks = useRef<RiseMarks>(new Map());

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const refresh = async (): Promise<void> => {
      try {
        const listing = await props.list();
        const sample: TopSample = { ...listing, at: props.clock.now() };
        if (!stopped) setShown((s) => ({ cur: sample, prev: s.cur, error: undefined }));
      } catch (err) {
        if (!stopped) setShown((s) => ({ ...s, error: err instanceof Error ? err.message : String(err) }));
      }
      if (!stopped) timer = props.clock.setTimeout(() => void refresh(), props.intervalMs);
    };
    void refresh();
    return () => {
      stopped = true;
      if (timer !== undefined) props.clock.clearTimeout(timer);
    };
  }, [props.list, props.clock, props.intervalMs]);

  useInput((input, key) => {
    if (typing) {
      if (key.return) setTyping(false);
      else if (key.escape) {
        setTyping(false);
        setFilter("");
      } else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setFilter((f) => f + input);
      return;
    }
    if (input === "q" || key.escape) exit();
    else if (input === "s") setSort((s) => nextSort(s));
    else if (input === "/") {
      setTyping(true);
      setFilter("");
    }
  });

  const help = typing ? `filter: ${filter}_  (Enter keeps it, Esc clears it)` : "q quit · s sort · / filter";
  if (shown.cur === undefined) {
    return h(Box, { flexDirection: "column" }, h(Text, null, shown.error ? `error: ${shown.error}` : "listing agents..."), h(Text, { dimColor: true }, help));
  }
  const frame = topFrame(shown.cur, shown.prev, { sort, filter, namespace: props.namespace, marks: marks.current });
  const { lines, firstRow } = frameLines(frame);
  return h(
    Box,
    { flexDirection: "column" },
    ...lines.map((line, i) => {
      const row = i >= firstRow ? frame.rows[i - firstRow] : undefined;
      const props: Record<string, unknown> = { key: i };
      if (i === 0) props.bold = true;
      else if (i === firstRow - 1) props.dimColor = true;
      if (row?.failing) props.color = "red";
      if (line.startsWith("warning: ")) props.color = "yellow";
      return h(Text, props, line || " ");
    }),
    shown.error ? h(Text, { color: "red" }, `error: ${shown.error} (showing the last listing)`) : null,
    h(Text, { dimColor: true }, help),
  );
}
