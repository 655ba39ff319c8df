// Awaiting a namespace's events in tests: record them into an array, or wait
// for the first one that matches. Works with a node or a light client.

import type { EventKind, TroupeEvent } from "../events.js";

/** Which events to receive: all, or one kind, agent type or agent. */
export interface EventFilter {
  kind?: EventKind;
  type?: string;
  key?: string;
}

/** Anything that delivers events: a TroupeNode or a TroupeClient. */
export interface EventSource {
  onEvent(handler: (event: TroupeEvent) => void, filter?: EventFilter): () => void;
}

/** Events recorded since {@link recordEvents}, in arrival order; `stop()` unsubscribes. */
export interface EventRecording {
  readonly events: readonly TroupeEvent[];
  stop(): void;
}

/**
 * Record `source`'s events (filtered) from now on.
 *
 * @example
 * const rec = recordEvents(node, { kind: "child_restarted" });
 * await node.kill("counter/c1");
 * await waitFor(() => rec.events.length === 1, "one restart");
 * rec.stop();
 */
export function recordEvents(source: EventSource, filter: EventFilter = {}): EventRecording {
  const events: TroupeEvent[] = [];
  const stop = source.onEvent((e) => events.push(e), filter);
  return { events, stop };
}

/**
 * Resolves with the first event from now on that passes `filter` and `match`;
 * rejects naming what it waited for after `timeoutMs` (wall-clock time).
 * Subscribe before doing what should cause the event:
 *
 * @example
 * const restarted = nextEvent(node, { kind: "child_restarted", type: "counter" });
 * await node.kill("counter/c1");
 * await restarted;
 */
export function nextEvent(
  source: EventSource,
  filter: EventFilter = {},
  match: (event: TroupeEvent) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<TroupeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for an event ${JSON.stringify(filter)}`));
    }, timeoutMs);
    const stop = source.onEvent((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      stop();
      resolve(e);
    }, filter);
  });
}
