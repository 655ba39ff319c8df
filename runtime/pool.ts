// A pool of agents of one type: `node.pool(type, options)` (or `ctx.pool`,
// `client.pool`) sends each message to one member, chosen by the pool's
// policy. Members are agents `<type>/<name>-<i>`, brought up on first use
// (`min` of them), supervised as any agent, and more of them (up to `max`)
// when every member is busy. An ask through a pool gets its member's typed
// errors, as an ask to the member would.
//
// @example
// const workers = node.pool("worker", { policy: PoolPolicy.LeastLoaded, min: 4, max: 16 });
// const summary = await workers.ask({ doc: "..." });

import type { AgentRef, AskOptions, TellOptions } from "./agent-ref.js";
import { AgentNotFoundError } from "./errors.js";
import { PoolPolicy, type ValidPoolOptions } from "./pool-options.js";
import type { PoolEnv, PoolMembers } from "./pool-members.js";
import { leastCost, rendezvous } from "./pool-routing.js";

export { PoolPolicy };
export type { PoolOptions } from "./pool-options.js";

/** A member chosen for a message, and what to call when its ask ends (told: nothing). */
interface Routed {
  index: number;
  done: (ok: boolean) => void;
}

const NOTHING = (): void => {};

/** Makes a ref to a member as the pool's owner sends (a node, a client, an agent). */
export type MemberRefs = (type: string, key: string) => AgentRef;

/** A pool of agents of one type. Made by `node.pool`, `client.pool` or `ctx.pool`. */
export class Pool<Msg = unknown, Reply = unknown> {
  readonly type: string;
  readonly name: string;
  readonly policy: PoolPolicy;
  private next = 0;
  private readonly refs: AgentRef[] = [];

  /** @internal Use `node.pool(type, options)`. */
  constructor(
    private readonly members: PoolMembers,
    private readonly o: ValidPoolOptions<Msg>,
    private readonly env: Pick<PoolEnv, "clock" | "random">,
    private readonly makeRef: MemberRefs,
  ) {
    this.type = members.type;
    this.name = o.name;
    this.policy = o.policy;
  }

  /** The members in use now (grows up to `max`). */
  get size(): number {
    return Math.min(this.members.size, this.o.max);
  }

  /**
   * Send to one member and wait for its answer. Rejects with the member's
   * typed errors (AskTimeoutError, RemoteError, ...), InvalidMessageError when
   * a consistent-hash pool finds no key in the message.
   */
  async ask<R = Reply>(msg: Msg, opts?: AskOptions): Promise<R> {
    const { index, done } = await this.route(msg, true);
    try {
      const reply = await this.ref(index).ask<R>(msg, opts);
      done(true);
      return reply;
    } catch (err) {
      done(false);
      if (err instanceof AgentNotFoundError) this.members.lost(index);
      throw err;
    }
  }

  /** Send to one member without waiting for an answer (as `ref.tell`). */
  async tell(msg: Msg, opts?: TellOptions): Promise<void> {
    const { index } = await this.route(msg, false);
    try {
      await this.ref(index).tell(msg, opts);
    } catch (err) {
      if (err instanceof AgentNotFoundError) this.members.lost(index);
      throw err;
    }
  }

  /** The member a message goes to now, by the policy, once it is up; its load already counts the message. */
  private async route(msg: Msg, asking: boolean): Promise<Routed> {
    const routed = await this.choose(msg, asking);
    const coming = this.members.whenUp(routed.index);
    if (coming) {
      try {
        await coming;
      } catch (err) {
        routed.done(false);
        throw err;
      }
    }
    return routed;
  }

  /**
   * The member a message goes to now, by the policy (members brought up
   * first). The message is counted against the member in the same turn as
   * it is chosen, so the next message chosen (a burst sent at once) sees it.
   */
  private async choose(msg: Msg, asking: boolean): Promise<Routed> {
    const key = this.o.policy === PoolPolicy.ConsistentHash ? this.o.key!(msg) : undefined;
    const up = this.members.ready(this.o.min, this.o.max);
    if (up) await up;
    const grown = this.members.grow(this.o.max);
    if (grown) {
      // Every member was busy: the one just brought up takes this message (a hashed key stays where it maps).
      const index = this.members.size - 1;
      if (this.o.policy !== PoolPolicy.ConsistentHash && index < this.o.max) {
        const routed = this.count(index, asking);
        await grown;
        return routed;
      }
      await grown;
    }
    return this.count(this.pick(key), asking);
  }

  /** The policy's choice among the members up now (no await: the load read is the load the choice counts on). */
  private pick(key: string | undefined): number {
    const n = this.size;
    switch (this.o.policy) {
      case PoolPolicy.RoundRobin:
        return this.next++ % n;
      case PoolPolicy.Random:
        return Math.min(n - 1, Math.floor(this.env.random() * n));
      case PoolPolicy.ConsistentHash:
        return rendezvous(key!, n);
      case PoolPolicy.LeastLoaded: {
        const now = this.env.clock.now();
        const costs: number[] = [];
        for (let i = 0; i < n; i++) costs.push(this.members.cost(i, now));
        return leastCost(costs, this.env.random);
      }
    }
  }

  private count(index: number, asking: boolean): Routed {
    if (asking) return { index, done: this.members.sent(index) };
    this.members.told(index);
    return { index, done: NOTHING };
  }

  private ref(index: number): AgentRef {
    return (this.refs[index] ??= this.makeRef(this.type, this.members.key(index)));
  }
}
