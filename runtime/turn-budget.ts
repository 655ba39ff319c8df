// How much message handling a node does in one turn of the event loop before
// it lets I/O, timers and heartbeats run. Every agent of a node draws on the
// same budget, whether it handles a message inline in the subscription
// callback or drains a backlog, so neither many idle agents fed by one socket
// read nor one agent with a long backlog can hold the loop: a busy node must
// never look dead.

import type { Clock } from "./clock.js";

/** Messages a node handles in one turn of the event loop, at most... */
export const TURN_MESSAGES = 256;
/** ...or for this long, whichever comes first (checked every 16 messages). */
export const TURN_MS = 10;

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
    if ((this.used & 15) === 0 && this.clock.now() - this.startedAt >= this.maxMs) this.used = this.maxMessages;
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
