// Persisted agent state: the namespace's state bucket (`troupe_<ns>_state`,
// key `<type>.<key>`), written with compare-and-set on the revision the
// activation last wrote. A stale activation's write fails, so two activations
// can never both move one agent's state forward (fencing).

import type { NatsConnection } from "@nats-io/nats-core";
import { Bucket, Kvm } from "@nats-io/kv";
import { nuid } from "@nats-io/nats-core";
import { publishToKey } from "./memory/kv-publish.js";
import { formatAgentId, type AgentId, type Subjects } from "./subjects.js";
import { isWrongLastSequence } from "./memory/jetstream-errors.js";
import { InternalError, StateConflictError } from "./errors.js";

/** What the state bucket holds for an agent: its MessagePack bytes (none if never written or deleted) and the revision to write after. */
export interface StoredState {
  bytes: Uint8Array | undefined;
  revision: number;
}

/**
 * How long a state write waits for its acknowledgement before it is retried
 * (with the same message id, so a write that landed is not applied twice).
 * Shorter than JetStream's default 5 s so a write caught by a server restart
 * is retried soon after the connection is back.
 */
export const STATE_WRITE_TIMEOUT_MS = 1000;

/** What the check of a write's own revision gives when it cannot be read. */
const UNREADABLE: unique symbol = Symbol("unreadable");

/** Runs a JetStream operation with retries on transient errors. */
export type Retry = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

/** The state bucket of a namespace. */
export class StateStore {
  private constructor(
    private readonly kv: Bucket,
    private readonly subjects: Subjects,
    private readonly retry: Retry,
  ) {}

  /** Open (creating if needed) the namespace's state bucket. */
  /** Open (creating if needed, with `replicas` copies) the namespace's state bucket; an existing bucket keeps its replicas. */
  static async open(nc: NatsConnection, subjects: Subjects, retry: Retry, replicas = 1): Promise<StateStore> {
    const kv = await retry("open state bucket", () => new Kvm(nc).create(subjects.stateBucket(), { history: 1, replicas }));
    if (!(kv instanceof Bucket)) throw new InternalError("the KV client returned an unexpected bucket implementation");
    return new StateStore(kv, subjects, retry);
  }

  /** The state store over a bucket the caller opened (a client, which never creates buckets). */
  static fromBucket(kv: Bucket, subjects: Subjects, retry: Retry): StateStore {
    return new StateStore(kv, subjects, retry);
  }

  /**
   * The stored state of `type/key`: bytes undefined when there is none. Read
   * from the stream's leader, not a replica (a direct get may be served by a
   * replica that has not applied the last write yet, and an activation that
   * resumed from it would lose compare-and-set to its own predecessor's write).
   */
  async load(type: string, key: string): Promise<StoredState> {
    const k = this.subjects.stateKey(type, key);
    const subject = this.kv.subjectForKey(this.kv.encodeKey(k), true);
    const sm = await this.retry("load state", () => this.kv.jsm.streams.getMessage(this.kv.stream, { last_by_subj: subject }));
    if (!sm) return { bytes: undefined, revision: 0 };
    const e = this.kv.smToEntry(sm);
    return { bytes: e.operation === "PUT" ? e.value : undefined, revision: e.revision };
  }

  /**
   * Write `bytes` if the key's last revision is still `expectedRevision` (from load, or the last save).
   * Returns the new revision; throws StateConflict when another activation wrote first.
   */
  async save(type: string, key: string, bytes: Uint8Array, expectedRevision: number): Promise<number> {
    const k = this.subjects.stateKey(type, key);
    const msgID = nuid.next();
    let tries = 0;
    try {
      return await this.retry("save state", () => {
        tries++;
        return publishToKey(this.kv, k, bytes, { msgID, expectRevision: expectedRevision, timeoutMs: STATE_WRITE_TIMEOUT_MS });
      });
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      // A try whose acknowledgement was lost (a leader election) may have landed, and a retry of it, if the
      // server did not take it for a duplicate, then fails compare-and-set against our own write. That write is ours.
      // Whether our write is the one stored may not be readable now (an election): then we cannot tell either.
      const landed = await this.landedRevision(k, msgID).catch(() => UNREADABLE);
      if (typeof landed === "number") return landed;
      // Another write is the last one. An earlier try that got no answer may still have landed before it (and been read).
      throw new StateConflictError(formatAgentId(type, key), expectedRevision, tries > 1 || landed === UNREADABLE);
    }
  }

  /** The revision of the key's last write when that write carries message id `msgID`, else undefined. */
  private async landedRevision(key: string, msgID: string): Promise<number | undefined> {
    const subject = this.kv.subjectForKey(this.kv.encodeKey(key), true);
    const last = await this.kv.jsm.streams.getMessage(this.kv.stream, { last_by_subj: subject });
    return last?.header?.get("Nats-Msg-Id") === msgID ? last.seq : undefined;
  }

  /** Every agent that has stored state (running or not), sorted; keys that name no agent are skipped. */
  async ids(): Promise<AgentId[]> {
    const keys = await this.retry("list state keys", async () => {
      const out: string[] = [];
      for await (const k of await this.kv.keys()) out.push(k);
      return out;
    });
    const ids: AgentId[] = [];
    for (const k of keys) {
      const parts = this.subjects.parseAgentKey(k);
      if (parts) ids.push(formatAgentId(parts.type, parts.key));
    }
    return ids.sort();
  }

  /** Delete the stored state of `type/key` (an explicit operation; stopping an agent keeps its state). */
  async remove(type: string, key: string): Promise<void> {
    await this.retry("delete state", () => this.kv.delete(this.subjects.stateKey(type, key)));
  }
}
