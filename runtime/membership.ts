// Cluster membership: each node puts a heartbeat in `troupe_<ns>_nodes` every
// `heartbeatMs`. Whether another node is gone is judged on this node's own
// clock: its heartbeat entry's revision has not moved for the lapse window
// (three heartbeats, its own or ours, whichever is longer) while we watched.
// Until we have watched that long, the heartbeat's own timestamp decides, with
// a wide margin for clock skew between hosts. The window counts only while
// our own heartbeats land (three of them): when they stall too (a JetStream
// leader election, an outage), the store stood still, not the other node.
//
// A node name is claimed with compare-and-set: the entry carries the claiming
// run's instance id, and every heartbeat is an update on the revision this run
// wrote last. A second process with a live name is refused; a run whose entry
// was taken over learns it lost the name.

import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import { Bucket, Kvm, type KvEntry } from "@nats-io/kv";
import { listKeys } from "./memory/kv-keys.js";
import { isWrongLastSequence } from "./memory/jetstream-errors.js";
import type { Clock, TimerHandle } from "./clock.js";
import { encodeValue } from "./codec.js";
import { decodeNodeInfo, type NodeInfo } from "./cluster-entry.js";
import { InternalError, NodeNameTakenError } from "./errors.js";
import { ClusterBucket, type InvalidEntries } from "./invalid-entries.js";
import type { Retry } from "./state-store.js";
import type { Subjects } from "./subjects.js";

/** Our own heartbeats that must land while another node's stands still before it counts as gone. */
const LAPSE_BEATS = 3;

/** Allowance for clock skew between hosts when a heartbeat's own timestamp is all we have. */
const SKEW_MARGIN_MS = 30_000;

/** Rounds of the claim race (create, or take over a lapsed entry) before giving up. */
const CLAIM_ROUNDS = 10;

export type { NodeInfo } from "./cluster-entry.js";

/** What the node supplies at each beat; the membership adds the rest. */
export type NodeAnnouncement = Omit<NodeInfo, "lastSeen" | "revision" | "instance" | "heartbeatMs">;

/** This node's heartbeat, and a view of the others. */
export class Membership {
  /** This run's id, written into the heartbeat entry and the registry claims. */
  readonly instance = nuid.next();
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Per node: the heartbeat revision we last saw and when (our clock) it changed. Dropped when its entry is gone. */
  private readonly observed = new Map<string, { revision: number; since: number; ownBeats: number }>();
  /** Our own heartbeats that landed so far (this node beats once {@link claim} succeeded). */
  private ownBeats = 0;
  /** Whether this membership beats (a node's), or only observes (a client's). */
  private beatsOwn = false;
  private lastBeat: number | undefined;
  /** Revision of the entry this run wrote last; undefined until the name is claimed. */
  private revision: number | undefined;
  private announce: (() => NodeAnnouncement) | undefined;
  private onGap: (() => void) | undefined;
  private onLost: (() => void) | undefined;
  /** Another run took the name while this one was starting. */
  private lost = false;
  private beating: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: Bucket,
    private readonly name: string,
    private readonly namespace: string,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    readonly lapseMs: number,
    private readonly retry: Retry,
    private readonly invalid: InvalidEntries,
  ) {}

  /** Open the membership bucket for a node named `name` (nothing is written until {@link claim}). */
  static async open(
    nc: NatsConnection,
    subjects: Subjects,
    name: string,
    clock: Clock,
    heartbeatMs: number,
    retry: Retry,
    invalid: InvalidEntries,
    replicas = 1,
  ): Promise<Membership> {
    const kv = await retry("open membership bucket", () => new Kvm(nc).create(subjects.nodesBucket(), { history: 1, replicas }));
    if (!(kv instanceof Bucket)) throw new InternalError("the KV client returned an unexpected bucket implementation");
    return new Membership(kv, name, subjects.ns, clock, heartbeatMs, heartbeatMs * 3, retry, invalid);
  }

  /**
   * A view of the membership bucket `kv` (opened by the caller) for a process
   * that is no node: it reads who is alive and never claims a name or beats.
   * Liveness uses each node's own heartbeat interval.
   */
  static observer(kv: Bucket, subjects: Subjects, clock: Clock, retry: Retry, invalid: InvalidEntries): Membership {
    return new Membership(kv, "", subjects.ns, clock, 0, 0, retry, invalid);
  }

  /** How long `info`'s revision must stand still before its node counts as gone. */
  private lapseOf(info: Pick<NodeInfo, "heartbeatMs"> | undefined): number {
    return Math.max(this.lapseMs, 3 * (info?.heartbeatMs ?? 0));
  }

  /**
   * Whether a node counts as alive. Dead when its entry is missing, when we saw
   * the entry's revision stand still for the lapse window of our own time, or
   * (before we have watched that long) when its heartbeat timestamp is older
   * than the lapse window plus a margin for clock skew.
   */
  isAlive(info: NodeInfo | undefined): boolean {
    if (!info) return false;
    const now = this.clock.now();
    const lapse = this.lapseOf(info);
    const revision = info.revision ?? -1;
    const seen = this.observed.get(info.id);
    if (seen && seen.revision !== revision) {
      this.observed.set(info.id, { revision, since: now, ownBeats: this.ownBeats });
      return true; // it wrote a heartbeat since we last looked
    }
    if (!seen) this.observed.set(info.id, { revision, since: now, ownBeats: this.ownBeats });
    else if (now - seen.since > lapse && this.beatsSince(seen.ownBeats) >= LAPSE_BEATS) return false; // stood still while we watched
    return now - info.lastSeen <= lapse + SKEW_MARGIN_MS;
  }

  /**
   * Our own heartbeats that landed since we had written `then` of them; for an
   * observer, which never beats, as many as a lapse needs. A node is judged
   * gone only while we could write: when our own beats stall too (a leader
   * election, an outage), the store stood still, not the node.
   */
  private beatsSince(then: number): number {
    return this.beatsOwn ? this.ownBeats - then : LAPSE_BEATS;
  }

  /** A node's last heartbeat, or undefined (no entry, or a malformed one, which is reported). */
  async get(nodeId: string): Promise<NodeInfo | undefined> {
    return this.check(nodeId, await this.kv.get(nodeId));
  }

  private check(key: string, e: KvEntry | null): NodeInfo | undefined {
    if (!e || e.operation !== "PUT") {
      this.observed.delete(key);
      this.invalid.forget(ClusterBucket.Nodes, key);
      return undefined;
    }
    const checked = decodeNodeInfo(key, e.value, e.revision);
    if (!checked.ok) {
      this.observed.delete(key);
      this.invalid.report({ bucket: ClusterBucket.Nodes, key, revision: e.revision, reason: checked.reason });
      return undefined;
    }
    this.invalid.forget(ClusterBucket.Nodes, key);
    return checked.value;
  }

  /** Every node whose heartbeat is fresh. Forgets what it watched of nodes whose entries are gone. */
  async alive(): Promise<NodeInfo[]> {
    const keys = await listKeys(this.kv);
    const present = new Set(keys);
    for (const id of this.observed.keys()) if (!present.has(id)) this.observed.delete(id);
    const out: NodeInfo[] = [];
    for (const k of keys) {
      const info = await this.get(k);
      if (info && this.isAlive(info)) out.push(info);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Claim this node's name and begin heartbeating. Creates the entry, or takes
   * over one whose revision stood still for the lapse window while we watched
   * (or whose timestamp is long past); refuses a name whose entry moves.
   *
   * @throws NodeNameTakenError when another live process holds the name
   */
  async claim(announce: () => NodeAnnouncement): Promise<void> {
    this.announce = announce;
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const e = await this.retry("membership lookup", () => this.kv.get(this.name));
      if (!e || e.operation !== "PUT") {
        if (await this.write((value) => this.kv.create(this.name, value))) return this.beatEvery();
        continue; // another process created it first
      }
      const holder = this.check(this.name, e);
      // Watch the entry: a holder that beats moves its revision within its heartbeat.
      const since = this.clock.now();
      const stale = holder !== undefined && since - holder.lastSeen > this.lapseOf(holder) + SKEW_MARGIN_MS;
      let current: KvEntry | null = e;
      while (!stale && this.clock.now() - since <= this.lapseOf(holder)) {
        await this.clock.sleep(Math.max(10, Math.min(this.heartbeatMs, this.lapseOf(holder)) / 3));
        current = await this.retry("membership lookup", () => this.kv.get(this.name));
        if (!current || current.operation !== "PUT" || current.revision !== e.revision) break;
      }
      if (current && current.operation === "PUT" && current.revision !== e.revision) {
        throw new NodeNameTakenError(this.name, this.namespace);
      }
      if (!current || current.operation !== "PUT") continue; // the holder left: race for a fresh create
      if (await this.write((value) => this.kv.update(this.name, value, e.revision))) return this.beatEvery();
    }
    throw new NodeNameTakenError(this.name, this.namespace);
  }

  /** Write this run's entry with `put`; false when compare-and-set lost. */
  private async write(put: (value: Uint8Array) => Promise<number>): Promise<boolean> {
    try {
      this.revision = await put(this.entry());
      this.lastBeat = this.clock.now();
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }

  private entry(): Uint8Array {
    const info: Omit<NodeInfo, "revision"> = {
      ...this.announce!(),
      instance: this.instance,
      heartbeatMs: this.heartbeatMs,
      lastSeen: this.clock.now(),
    };
    return encodeValue(info);
  }

  private beatEvery(): void {
    this.beatsOwn = true;
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = this.clock.setTimeout(() => void this.beatNow().finally(loop), this.heartbeatMs);
    };
    loop();
  }

  /** One heartbeat, after the one under way. Never rejects. */
  private beatNow(): Promise<void> {
    this.beating = this.beating.then(() => this.beat());
    return this.beating;
  }

  private async beat(): Promise<void> {
    if (this.stopped || this.revision === undefined) return;
    try {
      this.revision = await this.kv.update(this.name, this.entry(), this.revision);
      this.ownBeats++;
      const now = this.clock.now();
      // Our own heartbeat stood still long enough for others to count us gone (a stall, an outage):
      // they may have adopted our agents.
      if (this.lastBeat !== undefined && now - this.lastBeat > this.lapseMs) this.onGap?.();
      this.lastBeat = now;
    } catch (err) {
      if (isWrongLastSequence(err)) await this.recheck().catch(() => {});
      // Otherwise a missed beat (server restarting, an election): the next one tries again; no node is
      // judged gone on beats we could not write ourselves.
    }
  }

  /** Our compare-and-set failed: find out whether the name is still ours. */
  private async recheck(): Promise<void> {
    const e = await this.kv.get(this.name);
    if (!e || e.operation !== "PUT") {
      // Our entry was deleted: the name is free, claim it again unless someone is faster.
      if (!(await this.write((value) => this.kv.create(this.name, value)))) this.loseName();
      return;
    }
    const checked = decodeNodeInfo(this.name, e.value, e.revision);
    if (checked.ok && checked.value.instance === this.instance) {
      this.revision = e.revision; // our own write, whose answer was lost
      return;
    }
    if (!checked.ok) {
      // Garbage over our entry: no live run writes that, so the name is still ours.
      this.invalid.report({ bucket: ClusterBucket.Nodes, key: this.name, revision: e.revision, reason: checked.reason });
      if (!(await this.write((value) => this.kv.update(this.name, value, e.revision)))) this.loseName();
      return;
    }
    this.loseName();
  }

  private loseName(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.lost = true;
    this.revision = undefined;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.onLost?.();
  }

  /**
   * Announce this node now and every heartbeatMs from here on (after {@link claim}).
   * `onGap` is called when a beat lands more than `lapseMs` after the previous one;
   * `onLost` when another process took the name over.
   *
   * @throws NodeNameTakenError when the name was taken over while the node was starting
   */
  async start(onGap?: () => void, onLost?: () => void): Promise<void> {
    this.onGap = onGap;
    this.onLost = onLost;
    await this.beatNow();
    if (this.lost) throw new NodeNameTakenError(this.name, this.namespace);
  }

  /** Stop beating and remove this node's entry if this run still holds it. */
  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.beating;
    const revision = this.revision;
    this.revision = undefined;
    if (revision === undefined) return;
    try {
      await this.kv.delete(this.name, { previousSeq: revision });
    } catch {
      // Server gone, or another run holds the name now: the entry is not ours to remove.
    }
  }
}
