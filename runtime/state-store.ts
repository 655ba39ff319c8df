// Persisted agent state: the namespace's state bucket (`troupe_<ns>_state`,
// key `<type>.<key>`), written with compare-and-set on the revision the
// activation last wrote. A stale activation's write fails, so two activations
// can never both move one agent's state forward (fencing).

import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm, type KV } from "@nats-io/kv";
import type { Subjects } from "./subjects.js";
import { isWrongLastSequence } from "./memory/jetstream-errors.js";

/** A stored state: its MessagePack bytes and the revision that wrote them. */
export interface StoredState {
  bytes: Uint8Array;
  revision: number;
}

/** Thrown by save() when another activation wrote the state since `expectedRevision`. */
export class StateConflict extends Error {
  constructor(readonly agent: string, readonly expectedRevision: number) {
    super(`state of ${agent} was written by another activation (expected revision ${expectedRevision})`);
    this.name = "StateConflict";
  }
}

/** Runs a JetStream operation with retries on transient errors. */
export type Retry = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

/** The state bucket of a namespace. */
export class StateStore {
  private constructor(
    private readonly kv: KV,
    private readonly subjects: Subjects,
    private readonly retry: Retry,
  ) {}

  /** Open (creating if needed) the namespace's state bucket. */
  static async open(nc: NatsConnection, subjects: Subjects, retry: Retry): Promise<StateStore> {
    const kv = await retry("open state bucket", () => new Kvm(nc).create(subjects.stateBucket(), { history: 1 }));
    return new StateStore(kv, subjects, retry);
  }

  /** The stored state of `type/key`, or undefined when there is none. */
  async load(type: string, key: string): Promise<StoredState | undefined> {
    const e = await this.retry("load state", () => this.kv.get(this.subjects.stateKey(type, key)));
    if (!e || e.operation !== "PUT") return undefined;
    return { bytes: e.value, revision: e.revision };
  }

  /**
   * Write `bytes` if the stored revision is still `expectedRevision` (0: nothing stored yet).
   * Returns the new revision; throws StateConflict when another activation wrote first.
   */
  async save(type: string, key: string, bytes: Uint8Array, expectedRevision: number): Promise<number> {
    const k = this.subjects.stateKey(type, key);
    try {
      return await this.retry("save state", () =>
        expectedRevision === 0 ? this.kv.create(k, bytes) : this.kv.update(k, bytes, expectedRevision),
      );
    } catch (err) {
      if (isWrongLastSequence(err)) throw new StateConflict(`${type}/${key}`, expectedRevision);
      throw err;
    }
  }

  /** Delete the stored state of `type/key` (an explicit operation; stopping an agent keeps its state). */
  async remove(type: string, key: string): Promise<void> {
    await this.retry("delete state", () => this.kv.delete(this.subjects.stateKey(type, key)));
  }
}
