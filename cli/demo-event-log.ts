// The demo's view of lifecycle and supervision events: collected as they
// arrive, printed at the points of the story where they belong.

import type { TroupeEvent } from "../actors/index.js";

/**
 * A line for the events a newcomer should see, or undefined for the routine
 * ones. `restarting` holds the agents whose restart was announced and that
 * are not running again yet.
 */
export function describeEvent(e: TroupeEvent, restarting: Set<string>): string | undefined {
  switch (e.kind) {
    case "child_failed":
      return `✗ ${e.id} failed: ${String(e.error ?? e.reason)}`;
    case "child_restarted":
      restarting.add(e.id);
      return `↻ ${String(e.supervisor)} restarts ${e.id} (restart ${String(e.restartCount ?? e.attempt)})`;
    case "max_intensity":
      return `! ${String(e.supervisor)} gave up on ${e.id}: too many restarts`;
    case "lifecycle":
      if (e.to !== "running" || !restarting.delete(e.id)) return undefined;
      return `✓ ${e.id} is running again`;
    default:
      return undefined;
  }
}

/** The story lines of events, in arrival order, with a cursor: what is before it has been shown. */
export class EventLog {
  private readonly lines: string[] = [];
  private shown = 0;
  private readonly restarting = new Set<string>();

  /** Record an event (the node's onEvent handler); routine events leave no line. */
  readonly add = (e: TroupeEvent): void => {
    const line = describeEvent(e, this.restarting);
    if (line !== undefined) this.lines.push(line);
  };

  /** Wait (up to `timeoutMs`) until a line not yet shown matches; false on timeout. */
  async until(match: (line: string) => boolean, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lines.slice(this.shown).some(match)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The lines not yet shown; moves the cursor to the end. */
  take(): string[] {
    const lines = this.lines.slice(this.shown);
    this.shown = this.lines.length;
    return lines;
  }
}
