// How much message handling a node does in one turn of the event loop before
// it lets I/O, timers and heartbeats run. Every agent of a node draws on the
// same budget, whether it handles a message inline in the subscription
// callback or drains a backlog, so neither many idle agents fed by one socket
// read nor one agent with a long backlog can hold the loop: a busy node must
// never look dead.

import type { Clock } from "./clock.js";

/**
 * Wall-clock time a node spends handling messages in one turn of the event
 * loop (checked every 32 messages). Heartbeats come every second and a node is
 * taken for gone after three missed ones, so 50 ms keeps timers punctual with
 * a wide margin; and it is long enough that a turn handles whole socket reads
 * of small messages even on a busy machine, where wall time passes while the
 * process waits for a core, so the budget does not throttle a node below its
 * arrival rate.
 */
export const TURN_MS = 50;
/** And at most this many messages in one turn, whatever the clock says (a fake clock does not move). */
export const TURN_MESSAGES = 16_384;

/** The node's budget of message handling for the current turn of the event loop. */
export class TurnBudget {
  private used = 0;
  private startedAt = 0;
  private resetScheduled = false;

  constructor(
    private readonly clock: Clock,
    readonly maxMessages = TURN_MESSAGES,
    readonly maxMs = TURN_MS,
  ) {}

  /**
   * Take one message's share. False when this turn's budget is spent: the
   * caller queues the message (or waits for {@link nextTurn}) instead.
   */
  take(): boolean {
    if (this.used === 0) {
      this.startedAt = this.clock.now();
      if (!this.resetScheduled) {
        this.resetScheduled = true;
        setImmediate(this.reset);
      }
    }
    if (this.used >= this.maxMessages) return false;
    this.used++;
    if ((this.used & 31) === 0 && this.clock.now() - this.startedAt >= this.maxMs) this.used = this.maxMessages;
    return true;
  }

  private readonly reset = (): void => {
    this.used = 0;
    this.resetScheduled = false;
  };
}

/** Resolves on a later turn of the event loop, after pending I/O and timers had theirs (and the budget was renewed). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
