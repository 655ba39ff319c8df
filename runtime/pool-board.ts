// The pools of one process (a node or a client): one PoolMembers per pool type
// and name, shared by every Pool object made for them (so `ctx.pool(...)` in a
// receive costs a map lookup, and counts load with the rest of the process),
// with one load-report subscription each until the process closes.

import { Pool, type MemberRefs } from "./pool.js";
import { validatePoolOptions, type PoolOptions } from "./pool-options.js";
import { PoolMembers, type PoolEnv } from "./pool-members.js";
import { validateToken } from "./subjects.js";

export class PoolBoard {
  private readonly pools = new Map<string, PoolMembers>();

  constructor(private readonly env: PoolEnv) {}

  /** A pool of `type`, sending as `refs` makes refs. @throws InvalidConfigError naming the bad option */
  pool<M, R>(type: string, options: PoolOptions<M> | undefined, refs: MemberRefs): Pool<M, R> {
    validateToken("agent type", type);
    const o = validatePoolOptions<M>(type, options);
    const id = `${type}/${o.name}`;
    let members = this.pools.get(id);
    if (!members) this.pools.set(id, (members = new PoolMembers(type, o.name, this.env)));
    return new Pool<M, R>(members, o, this.env, refs);
  }

  close(): void {
    for (const m of this.pools.values()) m.close();
    this.pools.clear();
  }
}
