// Time, injected. Runtime and supervisor logic never call Date.now() or
// setTimeout directly: they take a Clock, so restart windows, backoff and
// timeouts are tested with the FakeClock below, without sleeping.

/** A handle returned by {@link Clock.setTimeout}, passed back to clearTimeout. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** The source of time for the runtime. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
  /** A promise that resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The longest delay one Node timer takes; a longer one fires after 1 ms, so longer delays are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay longer than one Node timer can hold, run as a chain of timers. */
class LongTimer {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly fn: () => void,
    private left: number,
  ) {
    this.arm();
  }
  private arm(): void {
    const step = Math.min(this.left, MAX_TIMER_MS);
    this.left -= step;
    this.timer = setTimeout(() => (this.left > 0 ? this.arm() : this.fn()), step);
    this.timer.unref?.();
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

/** The wall clock: Date.now() and Node's timers. Timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    if (ms > MAX_TIMER_MS) return new LongTimer(fn, ms);
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout(handle) {
    if (handle instanceof LongTimer) handle.clear();
    else clearTimeout(handle as NodeJS.Timeout);
  },
  sleep(ms) {
    return new Promise((resolve) => {
      if (ms > MAX_TIMER_MS) new LongTimer(resolve, ms);
      else setTimeout(resolve, ms);
    });
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires every timer due
 * in that span, in order of due time.
 *
 * @example
 * const clock = new FakeClock(0);
 * clock.setTimeout(() => fired.push(clock.now()), 100);
 * await clock.advance(100); // fired === [100]
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<FakeTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers (and the promise callbacks they release). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers.delete(next);
      this.current = next.at;
      next.fn();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
