// One activation's durable timers: the table loaded from the state record,
// the changes the message in flight makes to it (applied when its receive
// succeeds, dropped when it throws, so a failed receive schedules nothing),
// one clock timer for the earliest due, and the firing: a due timer becomes
// a message for the agent's own mailbox lane, and only once that message is
// handled is the timer removed (one-shot) or moved on (recurring), in the
// same commit as the state that message produced. A crash before that commit
// fires it again in the next activation, whose state does not have the first
// firing either. A timer whose receive throws counts an attempt; at the
// type's maxDeliver its message is dead-lettered and the timer moves on.

import type { Clock, TimerHandle } from "./clock.js";
import { decodeValue } from "./codec.js";
import { Kind } from "./envelope.js";
import { InvalidArgumentError } from "./errors.js";
import type { Item } from "./inbound.js";
import { afterFiring, MAX_TIMERS, timerInfo, type Timer, type TimerInfo } from "./timer-table.js";

/** The sender a timer's message names: `timer:<name>` (ctx.timer says it is one; a sender string alone can be claimed by anyone). */
export const TIMER_SENDER_PREFIX = "timer:";

/** What the timers need from their activation. */
export interface TimersOwner {
  readonly clock: Clock;
  readonly maxDeliver: number;
  /** A timer came due: drain (the drain takes it when the agent is free). */
  kick(): void;
  /** The table changed outside a message (onStart): the next commit writes it. */
  changedOutside(): void;
  /** The earliest due time changed (undefined: no timers left), for the wake index of an on-demand agent. */
  earliestChanged(due: number | undefined): void;
}

/** A timer's message being handled: its item, and the timer as it was when it fired. */
interface Firing {
  readonly item: Item;
  readonly timer: Timer;
}

/** The timers of one activation. */
export class ActivationTimers {
  private readonly live = new Map<string, Timer>();
  /** What the message in flight changed (null: cancelled), applied when it succeeds. */
  private staged: Map<string, Timer | null> | undefined;
  private earliest: Timer | undefined;
  private handle: TimerHandle | undefined;
  private firing: Firing | undefined;
  private stopped = false;

  constructor(
    private readonly owner: TimersOwner,
    loaded: readonly Timer[],
  ) {
    for (const t of loaded) this.live.set(t.name, t);
    this.recompute();
  }

  /** Timers held (committed or not), without what the message in flight changed. */
  get size(): number {
    return this.live.size;
  }

  /** The timers to write with the next commit. */
  snapshot(): Timer[] {
    return [...this.live.values()];
  }

  /** When the earliest timer is due, or undefined. */
  get earliestDue(): number | undefined {
    return this.earliest?.due;
  }

  /** Add or replace timer `t.name`; inside a message it applies when the message succeeds. */
  schedule(t: Timer, inMessage: boolean): void {
    if (this.stopped) return;
    const view = this.view();
    if (!view.has(t.name) && view.size >= MAX_TIMERS) throw new InvalidArgumentError("timer name", `an agent holds at most ${MAX_TIMERS} timers`);
    this.change(t.name, t, inMessage);
  }

  /** Cancel timer `name`; true when there was one. Inside a message it applies when the message succeeds. */
  cancel(name: string, inMessage: boolean): boolean {
    if (this.stopped) return false;
    const had = this.view().has(name);
    if (had) this.change(name, null, inMessage);
    return had;
  }

  /** The timers as the agent sees them now (with what the message in flight changed), earliest first. */
  list(): TimerInfo[] {
    return [...this.view().values()].sort((a, b) => a.due - b.due || (a.name < b.name ? -1 : 1)).map(timerInfo);
  }

  /** A timer is due and no timer's message is in flight. */
  get ready(): boolean {
    return this.firing === undefined && this.earliest !== undefined && this.earliest.due <= this.owner.clock.now();
  }

  /** The message of the earliest due timer, to handle now (the timer stays until it succeeded). */
  take(): Item | undefined {
    if (!this.ready) return undefined;
    const timer = this.earliest!;
    const item: Item = {
      kind: Kind.Tell,
      id: `${timer.name}@${timer.due}`,
      sender: TIMER_SENDER_PREFIX + timer.name,
      trace: null,
      body: decodeValue(timer.msg),
      reply: undefined,
      timer: timer.name,
    };
    this.firing = { item, timer };
    return item;
  }

  /** The message in flight succeeded: its timer (if it was one) moves on, and what it changed applies. True when the table changed. */
  succeeded(item: Item): boolean {
    let changed = false;
    const firing = this.firing;
    if (firing !== undefined && firing.item === item) {
      this.firing = undefined;
      this.moveOn(firing.timer);
      changed = true;
    }
    const staged = this.staged;
    if (staged !== undefined) {
      this.staged = undefined;
      for (const [name, t] of staged) {
        if (t === null) this.live.delete(name);
        else this.live.set(name, t);
      }
      changed = true;
    }
    if (changed) this.recompute();
    return changed;
  }

  /**
   * The message in flight failed: what it changed is dropped. A timer's
   * message counts an attempt; at maxDeliver it is given up ("give_up": the
   * caller dead-letters it) and the timer moves on. Returns what happened to
   * a timer (undefined when the message was not one).
   */
  failed(item: Item): "retry" | "give_up" | undefined {
    this.staged = undefined;
    const firing = this.firing;
    if (firing === undefined || firing.item !== item) return undefined;
    this.firing = undefined;
    const attempts = firing.timer.attempts + 1;
    if (attempts >= this.owner.maxDeliver) {
      this.moveOn(firing.timer);
      this.recompute();
      return "give_up";
    }
    if (this.live.get(firing.timer.name) === firing.timer) this.live.set(firing.timer.name, { ...firing.timer, attempts });
    this.recompute();
    return "retry";
  }

  /** Fire nothing more (the activation ended). */
  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.owner.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private moveOn(fired: Timer): void {
    // Replaced or cancelled meanwhile: the new one stands.
    if (this.live.get(fired.name) !== fired) return;
    const next = afterFiring(fired, this.owner.clock.now());
    if (next) this.live.set(fired.name, next);
    else this.live.delete(fired.name);
  }

  private change(name: string, t: Timer | null, inMessage: boolean): void {
    if (inMessage) {
      (this.staged ??= new Map()).set(name, t);
      return;
    }
    if (t === null) this.live.delete(name);
    else this.live.set(name, t);
    this.recompute();
    this.owner.changedOutside();
  }

  private view(): Map<string, Timer> {
    if (this.staged === undefined) return this.live;
    const v = new Map(this.live);
    for (const [name, t] of this.staged) {
      if (t === null) v.delete(name);
      else v.set(name, t);
    }
    return v;
  }

  /** Find the earliest timer and arm the clock for it. */
  private recompute(): void {
    const before = this.earliest?.due;
    let earliest: Timer | undefined;
    for (const t of this.live.values()) if (earliest === undefined || t.due < earliest.due) earliest = t;
    this.earliest = earliest;
    if (this.stopped) return;
    this.arm();
    if (earliest?.due !== before) this.owner.earliestChanged(earliest?.due);
  }

  /** Arm the clock for the earliest timer. A timer that fires before the clock reads its due time (Node's timers and Date.now() may disagree by a millisecond) arms again. */
  private arm(): void {
    const clock = this.owner.clock;
    if (this.handle !== undefined) clock.clearTimeout(this.handle);
    this.handle = undefined;
    const earliest = this.earliest;
    if (earliest === undefined || this.stopped) return;
    this.handle = clock.setTimeout(() => {
      this.handle = undefined;
      if (this.earliest !== undefined && this.earliest.due > clock.now()) this.arm();
      else this.owner.kick();
    }, Math.max(0, earliest.due - clock.now()));
  }
}
