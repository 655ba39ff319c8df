// Which keys of a KV bucket exist, under some filters, kept in memory so that
// asking about a key that does not exist costs no request. It lists the keys
// once and follows changes through a watch (updates only, headers only),
// armed before the listing so that nothing written in between is missed, and
// armed again from the last revision seen + 1 when it ends (a disconnect, a
// server restart), listing the keys again. While the watch is not running it
// knows nothing: `mayHave` answers true, and the caller reads the key. A key
// deleted while no watch ran may still be counted as present: one read too many.

import { KvWatchInclude, type KV, type KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import { Pause } from "./pause.js";
import type { Clock } from "./clock.js";

/** Pause before the watch is armed again after it ended or failed. */
const REARM_MIN_MS = 100;
const REARM_MAX_MS = 5000;

export class KeyDirectory {
  private readonly keys = new Set<string>();
  /** The watch runs and the listing is in: `keys` is the truth. */
  private live = false;
  private iter: QueuedIterator<KvWatchEntry> | undefined;
  private lastRevision = 0;
  private closed = false;
  private readonly pause: Pause;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly kv: KV,
    /** Key filters (NATS wildcards), e.g. `["worker.>"]`. */
    private readonly filters: readonly string[],
    private readonly clock: Clock,
    /** The watch or the listing failed (it is tried again). */
    private readonly trouble: (err: unknown) => void,
  ) {
    this.pause = new Pause(clock);
  }

  /** Start following the keys; resolves once the first listing is in (or failed once). */
  start(): Promise<void> {
    if (this.filters.length === 0) return Promise.resolve();
    let first!: () => void;
    const ready = new Promise<void>((resolve) => (first = resolve));
    this.loop = this.run(first);
    return ready;
  }

  /** Whether `key` may exist: false only when it is known not to. */
  mayHave(key: string): boolean {
    return !this.live || this.keys.has(key);
  }

  /** The owner wrote (`exists`) or deleted `key`: known at once, before the watch says so. */
  noted(key: string, exists: boolean): void {
    if (exists) this.keys.add(key);
    else this.keys.delete(key);
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.pause.cancel();
    this.iter?.stop();
    await this.loop;
  }

  private async run(ready: () => void): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        const key = [...this.filters];
        const iter = await this.kv.watch(
          this.lastRevision > 0
            ? { key, headers_only: true, resumeFromRevision: this.lastRevision + 1 }
            : { key, headers_only: true, include: KvWatchInclude.UpdatesOnly },
        );
        this.iter = iter;
        if (this.closed) iter.stop();
        // Listed after the watch is armed: a key written in between is in one or the other.
        for (const filter of this.filters) for await (const k of await this.kv.keys(filter)) this.keys.add(k);
        this.live = true;
        ready();
        failures = 0;
        for await (const e of iter) {
          if (e.revision > this.lastRevision) this.lastRevision = e.revision;
          this.noted(e.key, e.operation === "PUT");
        }
      } catch (err) {
        failures++;
        if (!this.closed) this.trouble(err);
      }
      // While no watch runs, nothing is known; armed again, it replays what changed
      // since the last revision seen (or lists the keys again, when it saw none).
      this.live = false;
      ready();
      this.iter = undefined;
      if (this.closed) break;
      await this.pause.sleep(Math.min(REARM_MAX_MS, REARM_MIN_MS * 2 ** Math.min(failures, 6)));
    }
  }
}
