// The `ctx` an agent's receive and hooks get: its address, its mutable state,
// refs to itself and others, shared memory, and stop(). One per activation.

import type { AgentContext } from "../actors/define-agent.js";
import type { AgentHost, HostEnv } from "./agent-host.js";
import type { AgentRef } from "./agent-ref.js";
import type { Memory } from "./memory/index.js";
import type { AgentId } from "./subjects.js";

/** The `ctx` handed to receive: mutable state, refs, memory, stop. */
export class HostContext implements AgentContext<unknown> {
  state: unknown = undefined;
  sender: string | null = null;
  readonly id: AgentId;
  readonly type: string;
  readonly key: string;
  readonly args: unknown;
  readonly node: string;
  private selfRef: AgentRef | undefined;

  constructor(
    private readonly host: AgentHost,
    private readonly env: HostEnv,
  ) {
    this.id = host.id;
    this.type = host.def.type;
    this.key = host.key;
    this.args = host.args;
    this.node = env.nodeId;
  }

  get self(): AgentRef {
    return (this.selfRef ??= this.env.messenger.ref(this.type, this.key, this.id));
  }

  get memory(): Memory {
    return this.env.memory;
  }

  ref<M = unknown, R = unknown>(type: string, key: string): AgentRef<M, R> {
    return this.env.messenger.ref<M, R>(type, key, this.id);
  }

  stop(): void {
    this.host.requestStop();
  }
}
