// The timer wake index: KV bucket `troupe_<ns>_timers`, key `<type>.<key>`,
// value the MessagePack epoch ms at which an on-demand agent's earliest timer
// is due. A passivated agent runs nowhere, so nothing fires its timers: the
// nodes that host its type watch this index and activate it when that time
// comes (runtime/timer-wakeups.ts). The agent writes its entry when its
// earliest due gets earlier than the entry says (or the entry is past), and
// the exact value (or a delete, with no timers left) when it passivates or
// stops. An entry that is early only wakes the agent for nothing.

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm } from "@nats-io/kv";
import { decodeValue, encodeValue } from "./codec.js";
import { InternalError, InvalidMessageError } from "./errors.js";
import type { Retry } from "./state-store.js";
import type { Subjects } from "./subjects.js";

/** The wake index of a namespace. */
export class TimerIndex {
  private constructor(
    readonly kv: Bucket,
    private readonly subjects: Subjects,
    private readonly retry: Retry,
  ) {}

  /** Open (creating if needed) the namespace's timer wake index. */
  static async open(nc: NatsConnection, subjects: Subjects, retry: Retry, replicas = 1): Promise<TimerIndex> {
    const kv = await retry("open timers bucket", () => new Kvm(nc).create(subjects.timersBucket(), { history: 1, replicas }));
    if (!(kv instanceof Bucket)) throw new InternalError("the KV client returned an unexpected bucket implementation");
    return new TimerIndex(kv, subjects, retry);
  }

  /** Say that `type/key` has a timer due at `due`. */
  async put(type: string, key: string, due: number): Promise<void> {
    await this.retry("write timer index", () => this.kv.put(this.subjects.timerKey(type, key), encodeValue(due)));
  }

  /** Say that `type/key` has no timer. */
  async remove(type: string, key: string): Promise<void> {
    await this.retry("delete timer index", () => this.kv.delete(this.subjects.timerKey(type, key)));
  }
}

/** The due time an index entry holds; throws InvalidMessageError for anything but epoch ms. */
export function decodeWakeDue(bytes: Uint8Array): number {
  let v: unknown;
  try {
    v = decodeValue(bytes);
  } catch {
    throw new InvalidMessageError("a timer index entry does not decode as MessagePack");
  }
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new InvalidMessageError("a timer index entry is not epoch milliseconds");
  return v;
}

/**
 * What one agent host keeps of its index entry: what it last wrote (as far as
 * it knows), so it writes only when the entry would be late.
 */
export class WakeEntry {
  /** What the index holds for this agent, as far as this host knows (undefined: not known). */
  private indexed: number | undefined;

  constructor(
    private readonly index: TimerIndex,
    private readonly type: string,
    private readonly key: string,
    private readonly report: (err: unknown) => void,
  ) {}

  /** The earliest due time is now `due` (at `now`): write it when the entry would wake the agent too late, or not at all. */
  earliest(due: number | undefined, now: number): void {
    // Nothing to wake for: none left, or due now (this activation fires it; the next due time is written then).
    if (due === undefined || due <= now) return;
    if (this.indexed !== undefined && this.indexed <= due && this.indexed > now) return;
    // Known only once written: a failed put leaves the next call (or the settle) to write it.
    this.index.put(this.type, this.key, due).then(() => (this.indexed = due), this.report);
  }

  /** The agent stops here (passivated, stopped): the entry says exactly when it is due next, or is deleted. */
  async settle(due: number | undefined): Promise<void> {
    try {
      // Always written: an entry that already says `due` may have been tried and dropped by the
      // watchers while this activation ran (a wake finding the agent busy here); a new revision
      // of it is what makes them wake the agent again.
      if (due === undefined) await this.index.remove(this.type, this.key);
      else await this.index.put(this.type, this.key, due);
      this.indexed = due;
    } catch (err) {
      this.report(err);
    }
  }
}

/** The on-demand types among `agents` that persist (the ones whose timers the index wakes). */
export function wakeableTypes(agents: ReadonlyArray<{ kind: string; type: string; persist?: boolean; activation?: string }>): string[] {
  return agents.filter((a) => a.kind === "agent" && a.persist === true && a.activation === "on-demand").map((a) => a.type);
}
