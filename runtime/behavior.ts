// How an agent type turns messages into work, the same way for every kind of
// agent: a `receive` function over state, an XState machine whose persisted
// snapshot is the state, or a model loop whose journal is the state
// (model/model-behavior.ts). The agent host only speaks to a Behavior.

import { createActor, type AnyActor } from "xstate";
import { InvalidMessageError } from "./errors.js";
import type { AgentType } from "./define-agent.js";
import type { HostContext } from "./host-context.js";
import type { Behavior } from "./behavior-contract.js";

export type { Behavior };
import { ModelBehavior } from "./model/model-behavior.js";


/** The Behavior of an agent type, fresh for each activation. */
export function behaviorOf(def: AgentType): Behavior {
  if (def.model) return new ModelBehavior(def, def.model);
  return def.machine ? new MachineBehavior(def) : new FunctionBehavior(def);
}

class FunctionBehavior implements Behavior {
  constructor(private readonly def: AgentType) {}

  start(ctx: HostContext, persisted: { found: boolean; value?: unknown }): void {
    ctx.state = persisted.found ? persisted.value : this.def.initialState(ctx.args);
    ctx.tracker.takeChange(); // the starting state is the baseline
  }

  handle(msg: unknown, ctx: HostContext): unknown {
    return this.def.receive!(msg, ctx);
  }

  takeChange(ctx: HostContext): boolean {
    return ctx.tracker.takeChange();
  }

  persistable(ctx: HostContext): unknown {
    return ctx.tracker.raw;
  }

  stop(): void {}
}

/** The answer to an ask sent to an XState agent. */
export interface MachineReply {
  value: unknown;
  context: unknown;
  status: string;
}

/** A persisted XState snapshot, with the version of its shape. */
interface StoredSnapshot {
  v: number;
  snapshot: unknown;
}

class MachineBehavior implements Behavior {
  private actor: AnyActor | undefined;
  private error: unknown;
  /** The snapshot last reported as the baseline: XState keeps the same object while nothing changes. */
  private seen: unknown;

  constructor(private readonly def: AgentType) {}

  start(ctx: HostContext, persisted: { found: boolean; value?: unknown }): void {
    const stored = persisted.found ? (persisted.value as StoredSnapshot | undefined) : undefined;
    const snapshot =
      stored && typeof stored === "object" && stored.v === this.def.snapshotVersion ? (stored.snapshot as never) : undefined;
    const actor = createActor(this.def.machine!, { input: ctx.args, snapshot });
    actor.subscribe({ error: (err: unknown) => void (this.error = err) });
    this.error = undefined;
    actor.start();
    this.actor = actor;
    if (this.error !== undefined) throw this.error;
    this.seen = actor.getSnapshot();
    // ctx.state is the persisted snapshot, made only when someone reads it.
    ctx.sourceState(() => this.persistable());
  }

  handle(msg: unknown, ctx: HostContext): MachineReply {
    if (msg === null || typeof msg !== "object" || typeof (msg as { type?: unknown }).type !== "string") {
      throw new InvalidMessageError(`a message for XState agent ${ctx.id} must be an object with a string "type"`);
    }
    const actor = this.actor!;
    actor.send(msg as { type: string });
    if (this.error !== undefined) throw this.error;
    const snap = actor.getSnapshot();
    if (snap.status === "error") throw snap.error;
    return { value: snap.value, context: snap.context, status: snap.status };
  }

  takeChange(): boolean {
    const snap: unknown = this.actor!.getSnapshot();
    const changed = snap !== this.seen;
    this.seen = snap;
    return changed;
  }

  persistable(): StoredSnapshot {
    return { v: this.def.snapshotVersion, snapshot: this.actor!.getPersistedSnapshot() };
  }

  stop(): void {
    this.actor?.stop();
    this.actor = undefined;
  }
}

/** Whether a message for this type must be an XState event (an object with a string `type`). */
export function requiresEventShape(def: AgentType): boolean {
  return def.machine !== undefined;
}
