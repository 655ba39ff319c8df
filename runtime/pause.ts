// A wait on the clock that whoever stops the waiter can cut short: a watch loop
// pausing before it re-arms must not hold up a node's close (on a fake clock
// nobody advances, it would hold it up for ever).

import type { Clock, TimerHandle } from "./clock.js";

export class Pause {
  private timer: TimerHandle | undefined;
  private resolve: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  /** Wait `ms`, or until {@link cancel}. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.timer = this.clock.setTimeout(() => this.end(), ms);
    });
  }

  /** End the wait now (no-op when nothing waits). */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.end();
  }

  private end(): void {
    this.timer = undefined;
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  }
}
