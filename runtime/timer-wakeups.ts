// Waking passivated on-demand agents whose timers come due. Each node that
// hosts on-demand types watches the timer wake index (runtime/timer-index.ts)
// for its types' agents and, on its clock, activates an agent when its entry
// is due. Every such node may try; activation is idempotent (one registry
// claim wins, the others hear AgentExistsError), and the agent's activation
// fires what is due. An entry is tried once per value: after the wake it is
// forgotten here until the index says something new, so a wake that finds
// nothing due (or an agent running elsewhere) cannot loop. The watch is armed
// again from the last revision seen + 1 when it ends (a disconnect, a server
// restart).

import type { KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import { Pause } from "./pause.js";
import type { Clock, TimerHandle } from "./clock.js";
import { decodeWakeDue, type TimerIndex } from "./timer-index.js";
import type { Subjects } from "./subjects.js";

/** Pause before the watch is armed again after it ended or failed. */
const REARM_MIN_MS = 100;
const REARM_MAX_MS = 5000;

/** What the wakeups need from their node. */
export interface WakeupsEnv {
  readonly clock: Clock;
  readonly subjects: Subjects;
  readonly index: TimerIndex;
  /** The on-demand types this node hosts. */
  readonly types: readonly string[];
  /** Activate `type/key` (here, or learn it runs elsewhere); failures are the caller's to swallow. */
  activate(type: string, key: string): Promise<unknown>;
  /** A malformed entry, or the watch failing. */
  trouble(where: string, err: unknown): void;
}

/** Watches the wake index and activates agents when their timers are due. */
export class TimerWakeups {
  /** Due time by index key; an entry leaves when it is woken or deleted from the index. */
  private readonly due = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private armedFor: number | undefined;
  private iter: QueuedIterator<KvWatchEntry> | undefined;
  private lastRevision = 0;
  private closed = false;
  private readonly pause: Pause;
  private loop: Promise<void> | undefined;
  /** Wakes tried, for tests and diagnostics. */
  woken = 0;

  constructor(private readonly env: WakeupsEnv) {
    this.pause = new Pause(env.clock);
  }

  /** Start watching (resolves once the first watch is armed, or failed once). */
  async start(): Promise<void> {
    let first!: () => void;
    const armed = new Promise<void>((resolve) => (first = resolve));
    this.loop = this.run(first);
    await armed;
  }

  /** Stop watching and waking. */
  async stop(): Promise<void> {
    this.closed = true;
    this.pause.cancel();
    this.iter?.stop();
    if (this.timer !== undefined) this.env.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.loop;
  }

  /** How many agents' entries wait here (for tests). */
  get size(): number {
    return this.due.size;
  }

  private async run(firstArmed: () => void): Promise<void> {
    const { index, types } = this.env;
    let failures = 0;
    while (!this.closed) {
      try {
        const keys = types.map((t) => `${t}.>`);
        const iter = await index.kv.watch(this.lastRevision > 0 ? { key: keys, resumeFromRevision: this.lastRevision + 1 } : { key: keys });
        this.iter = iter;
        firstArmed();
        failures = 0;
        if (this.closed) iter.stop();
        for await (const e of iter) this.apply(e);
      } catch (err) {
        failures++;
        if (!this.closed) this.env.trouble("timer index watch", err);
      }
      firstArmed();
      this.iter = undefined;
      if (this.closed) break;
      await this.pause.sleep(Math.min(REARM_MAX_MS, REARM_MIN_MS * 2 ** Math.min(failures, 6)));
    }
  }

  private apply(e: KvWatchEntry): void {
    if (e.revision > this.lastRevision) this.lastRevision = e.revision;
    const key = e.key;
    if (e.operation !== "PUT") {
      this.due.delete(key);
      return;
    }
    let due: number;
    try {
      due = decodeWakeDue(e.value);
    } catch (err) {
      this.due.delete(key);
      this.env.trouble(`timer index entry ${key}`, err);
      return;
    }
    this.due.set(key, due);
    // Only an earlier entry moves the alarm (no scan per entry: a watch replays every entry at start).
    this.arm(due);
  }

  /** Arm the clock for `earliest` (the earliest entry when not given), again only when it is earlier than what is armed. */
  private arm(earliest?: number): void {
    if (this.closed) return;
    if (earliest === undefined) for (const d of this.due.values()) if (earliest === undefined || d < earliest) earliest = d;
    if (earliest === undefined) return;
    if (this.timer !== undefined && this.armedFor !== undefined && this.armedFor <= earliest) return;
    if (this.timer !== undefined) this.env.clock.clearTimeout(this.timer);
    this.armedFor = earliest;
    this.timer = this.env.clock.setTimeout(() => this.fire(), Math.max(0, earliest - this.env.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    const now = this.env.clock.now();
    for (const [k, d] of this.due) {
      if (d > now) continue;
      this.due.delete(k);
      const parts = this.env.subjects.parseAgentKey(k);
      if (!parts) continue;
      this.woken++;
      // Activated here, or running (or being activated) elsewhere: either way its activation fires what is due.
      this.env.activate(parts.type, parts.key).catch(() => {});
    }
    this.arm();
  }
}
