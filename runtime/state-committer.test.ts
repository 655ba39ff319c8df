// Group commit against a store whose writes the test lets through one at a
// time: answers wait for the commit of what they reveal, one write covers
// many messages, and a fence while a write is in flight answers what waits
// with AgentFencedError (never a failed write), and writes nothing more.

import { describe, expect, it } from "vitest";
import { AgentFencedError, ErrorCode, InvalidMessageError, OutcomeUnknownError, StateConflictError, type WireError } from "./errors.js";
import { StateCommitter, type CommitterHost } from "./state-committer.js";
import type { StateStore } from "./state-store.js";

/** A store whose saves wait until the test releases them. */
class GatedStore {
  readonly saves: Uint8Array[] = [];
  private gates: Array<() => void> = [];
  private revision = 1;
  /** The next save throws this (once released), instead of storing. */
  failWith: Error | undefined;

  async save(_type: string, _key: string, bytes: Uint8Array): Promise<number> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    const err = this.failWith;
    this.failWith = undefined;
    if (err) throw err;
    this.saves.push(bytes);
    return ++this.revision;
  }

  get waiting(): number {
    return this.gates.length;
  }

  release(): void {
    this.gates.shift()?.();
  }
}

function committerOver(store: GatedStore, state: { n: number }) {
  const answers: Array<{ id: string; value: unknown; error: WireError | null }> = [];
  const events: string[] = [];
  const host: CommitterHost = {
    id: "tally/x",
    type: "tally",
    key: "x",
    store: store as unknown as StateStore,
    encodeState: () => new Uint8Array([state.n]),
    answer: (_reply, id, value, error) => answers.push({ id, value, error }),
    isActive: () => true,
    fenced: () => events.push("fenced"),
    failed: (reason) => events.push(`failed: ${reason}`),
    internalError: (err) => events.push(`internal: ${String(err)}`),
  };
  const committer = new StateCommitter(host);
  committer.reset(1, new Uint8Array([0]));
  return { committer, answers, events };
}

const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("StateCommitter", () => {
  it("holds answers until the commit of the state they reveal, and writes many changes at once", async () => {
    const store = new GatedStore();
    const state = { n: 0 };
    const { committer, answers } = committerOver(store, state);
    state.n = 1;
    committer.changed();
    committer.answer("_INBOX.a", "a1", 1);
    await flushed();
    expect(store.waiting).toBe(1);
    // Handled while the first write is in flight: both wait for the next write.
    state.n = 2;
    committer.changed();
    committer.answer("_INBOX.a", "a2", 2);
    state.n = 3;
    committer.changed();
    committer.answer("_INBOX.a", "a3", 3);
    expect(answers).toEqual([]);
    store.release();
    await flushed();
    expect(answers.map((a) => a.id)).toEqual(["a1"]);
    store.release();
    await committer.settle();
    expect(answers.map((a) => a.id)).toEqual(["a1", "a2", "a3"]);
    expect(store.saves.map((b) => b[0])).toEqual([1, 3]);
  });

  it("answers what waits with AgentFencedError when fenced during a write, and writes nothing more", async () => {
    const store = new GatedStore();
    const state = { n: 0 };
    const { committer, answers, events } = committerOver(store, state);
    state.n = 1;
    committer.changed();
    committer.answer("_INBOX.a", "in-flight", 1);
    await flushed();
    state.n = 2;
    committer.changed();
    committer.answer("_INBOX.a", "waiting", 2);
    committer.fence();
    committer.answer("_INBOX.a", "after", 3);
    committer.changed();
    store.release();
    await committer.settle();
    await flushed();
    const byId = Object.fromEntries(answers.map((a) => [a.id, a.error ? a.error.name : "ok"]));
    // The write in flight landed, so its answer is true; the rest learn that another activation owns the state.
    expect(byId).toEqual({ "in-flight": "ok", waiting: new AgentFencedError("tally/x").name, after: new AgentFencedError("tally/x").name });
    expect(answers.find((a) => a.id === "waiting")!.error!.code).toBe(ErrorCode.AgentFenced);
    expect(store.saves.map((b) => b[0])).toEqual([1]);
    expect(store.waiting).toBe(0);
    expect(events).toEqual([]);
  });

  /** A committer whose first write, covering the ask "covered" (and, with `later`, one handled while it is in flight), fails with `err`. */
  async function failedWrite(err: Error, later = false) {
    const store = new GatedStore();
    const state = { n: 1 };
    const run = committerOver(store, state);
    run.committer.changed();
    run.committer.answer("_INBOX.a", "covered", 1);
    await flushed();
    if (later) {
      // Handled while the write is in flight: in no write.
      state.n = 2;
      run.committer.changed();
      run.committer.answer("_INBOX.a", "later", 2);
    }
    store.failWith = err;
    store.release();
    await flushed();
    const errorOf = (id: string) => run.answers.find((a) => a.id === id)!.error;
    return { errorOf, events: run.events };
  }

  it("tells the asks a write covered that its outcome is unknown when it got no answer, and the later asks that they failed", async () => {
    const { errorOf, events } = await failedWrite(Object.assign(new Error("TIMEOUT"), { name: "TimeoutError" }), true);
    expect(errorOf("covered")).toMatchObject({ code: ErrorCode.OutcomeUnknown, name: OutcomeUnknownError.name });
    expect(errorOf("later")).toMatchObject({ code: ErrorCode.Remote });
    expect(events).toEqual(["failed: state write failed: TIMEOUT"]);
  });

  it("tells the asks a write covered that they failed when the write was refused for what it holds (never stored)", async () => {
    const { errorOf } = await failedWrite(new InvalidMessageError("too large"));
    expect(errorOf("covered")).toMatchObject({ code: ErrorCode.Remote, name: "InvalidMessageError" });
  });

  it("after a lost compare-and-set, tells the covered asks their outcome is unknown when an earlier try may have landed, else that they were fenced", async () => {
    for (const maybeLanded of [true, false]) {
      const { errorOf, events } = await failedWrite(new StateConflictError("tally/x", 1, maybeLanded));
      expect(errorOf("covered")).toMatchObject({ code: maybeLanded ? ErrorCode.OutcomeUnknown : ErrorCode.AgentFenced });
      expect(events).toEqual(["fenced"]);
    }
  });
});
