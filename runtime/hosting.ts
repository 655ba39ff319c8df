// The agents one node runs: its agent types, the hosts of its running agents,
// its root supervisor and the supervisor agents under it. Spawning here claims
// the agent in the registry (compare-and-set), so at most one activation of an
// AgentId runs in the namespace; stopping releases the claim.

import type { NormalizedChildSpec, NormalizedSupervisorSpec } from "../supervisors/child-spec.js";
import { RestartType } from "../supervisors/strategy.js";
import { AgentHost, type AgentInfo, type HostEnv } from "./agent-host.js";
import type { Child, Parent } from "./child.js";
import type { Control } from "./control.js";
import { defineAgent, type AgentType } from "./define-agent.js";
import type { SupervisorType } from "./define-supervisor.js";
import {
  AgentExistsError,
  AgentNotFoundError,
  InvalidArgumentError,
  InvalidConfigError,
  NodeClosedError,
  SupervisorNotFoundError,
  UnknownAgentTypeError,
} from "./errors.js";
import type { Registry } from "./registry.js";
import { childSpec } from "./specs.js";
import { ListingOrder } from "./listing-order.js";
import { formatAgentId, parseAgentId, validateToken, type AgentId } from "./subjects.js";
import { Supervisor, type SupervisorEnv, type TreeNode } from "./supervisor.js";

/** A spawn request, as a control request carries it. */
export type SpawnRequest = Extract<Control, { op: "spawn" }>;

/** What hosting needs from its node. */
export interface HostingEnv {
  readonly nodeId: string;
  readonly host: HostEnv;
  readonly registry: Registry;
  readonly random: () => number;
  readonly root: NormalizedSupervisorSpec;
  /** Whether the node is closing: nothing new starts then. */
  closing(): boolean;
}

/** The agents this node runs. */
export class Hosting {
  private readonly types = new Map<string, AgentType>();
  private readonly hosts = new Map<AgentId, AgentHost>();
  /** Ids whose registry claim is in flight here, so two spawns of one id cannot both claim it. */
  private readonly claiming = new Set<AgentId>();
  /** Spawns in flight here: shutdown lets them finish (or fail) before it stops everything. */
  private readonly spawning = new Set<Promise<unknown>>();
  private readonly supervisors = new Map<AgentId, Supervisor>();
  private readonly root: Supervisor;
  private readonly supEnv: SupervisorEnv;
  /** The sorted ids a listing pages through. */
  private readonly listing: ListingOrder;

  constructor(
    agents: ReadonlyArray<AgentType | SupervisorType>,
    private readonly env: HostingEnv,
  ) {
    this.supEnv = {
      clock: env.host.clock,
      random: env.random,
      events: env.host.events,
      createHost: (spec, parent) => this.createHost(spec, parent),
      releaseHost: (child) => this.releaseHost(child),
    };
    for (const def of agents) this.types.set(def.type, def.kind === "agent" ? def : this.supervisorAgent(def));
    this.root = new Supervisor("root", env.root, this.supEnv, { perChildIntensity: true });
    this.listing = new ListingOrder(env.host.clock);
  }

  /** The agent types hosted here. */
  typeNames(): string[] {
    return [...this.types.keys()];
  }

  hostsType(type: string): boolean {
    return this.types.has(type);
  }

  /** Whether a supervisor agent with this id runs here. */
  hasSupervisor(id: string): boolean {
    return this.supervisors.has(id as AgentId);
  }

  /** Whether the agent runs here (in any state but gone). */
  runs(id: AgentId): boolean {
    return this.hosts.has(id);
  }

  /** Whether the agent runs here and is not stopped or failed. */
  isLive(id: AgentId): boolean {
    const host = this.hosts.get(id);
    return host !== undefined && host.state !== "stopped" && host.state !== "failed";
  }

  /** Number of agents here. */
  get size(): number {
    return this.hosts.size;
  }

  /** The agents here, then the few the root supervisor gave up on lately (`failed`). */
  list(): AgentInfo[] {
    return [...[...this.hosts.values()].map((h) => h.info()), ...this.root.givenUpAgents()];
  }

  /**
   * The agents of {@link list} whose id sorts after `after` (all without it),
   * in code-unit order of their ids; made lazily, one entry at a time, so a
   * page costs what it holds (plus one sort per listing, not per page).
   */
  *listFrom(after?: AgentId): Generator<AgentInfo> {
    const givenUp = new Map(this.root.givenUpAgents().map((info) => [info.id, info]));
    for (const id of this.listing.after(after, () => [...this.hosts.keys(), ...givenUp.keys()])) {
      const info = this.hosts.get(id)?.info() ?? givenUp.get(id);
      if (info) yield info;
    }
  }

  /** The root supervisor's tree. */
  tree(): TreeNode[] {
    return this.root.tree((child: Child) => this.supervisors.get(child.id));
  }

  /** Start an agent here, under the root or the supervisor the request names. */
  async spawn(c: SpawnRequest): Promise<void> {
    this.assertOpen();
    validateToken("agent type", c.type);
    validateToken("agent key", c.key);
    if (!this.types.has(c.type)) throw new UnknownAgentTypeError(c.type, [...this.types.keys()]);
    const running = this.hosts.get(formatAgentId(c.type, c.key));
    if (running && running.state !== "stopped" && running.state !== "failed") throw new AgentExistsError(running.id, this.env.nodeId);
    let parent: Supervisor = this.root;
    if (c.supervisor !== undefined) {
      const sup = this.supervisors.get(c.supervisor as AgentId);
      if (!sup) throw new SupervisorNotFoundError(c.supervisor);
      parent = sup;
    }
    let spec: NormalizedChildSpec;
    try {
      spec = childSpec({
        id: formatAgentId(c.type, c.key),
        type: c.type,
        key: c.key,
        restart: c.restart ?? RestartType.Permanent,
        shutdownMs: c.shutdownMs,
        args: c.args,
      });
    } catch (err) {
      throw new InvalidArgumentError((err as InvalidConfigError).field ?? "spawn", (err as Error).message);
    }
    const starting = parent.startChild(spec, { dynamic: true });
    this.spawning.add(starting);
    try {
      await starting;
    } finally {
      this.spawning.delete(starting);
    }
  }

  /** Stop an agent here for good: removed from its supervisor, its claim released. */
  async stop(id: AgentId): Promise<void> {
    const host = this.hosts.get(id);
    if (!host) throw new AgentNotFoundError(id);
    const parent = host.parent as Supervisor;
    await parent.stopChild(id);
    if (host.state !== "stopped") {
      await host.stop(0);
      await this.releaseHost(host);
    }
    this.hosts.delete(id);
  }

  /** Make an agent here fail as if its receive threw. */
  kill(id: AgentId, reason: string): void {
    const host = this.hosts.get(id);
    if (!host || (host.state !== "running" && host.state !== "starting")) throw new AgentNotFoundError(id);
    host.kill(reason);
  }

  /**
   * Check that the registry still names this node for an agent it runs, and
   * fence the local activation when another node has taken it over.
   */
  async verifyClaim(id: AgentId): Promise<void> {
    const host = this.hosts.get(id);
    if (!host || (host.state !== "running" && host.state !== "starting")) return;
    const { type, key } = parseAgentId(id);
    const where = await this.env.registry.lookup(type, key).catch(() => "unknown" as const);
    if (where === "unknown") return;
    if (where && where.reg.node !== this.env.nodeId) host.fence();
  }

  /** Check every agent here against the registry (after a reconnect, or a gap in our heartbeats). */
  async verifyClaims(): Promise<void> {
    for (const id of [...this.hosts.keys()]) {
      if (this.env.closing()) return;
      await this.verifyClaim(id);
    }
  }

  /** Fence every agent here at once (the node lost its name: another process may run them now). */
  fenceAll(): void {
    for (const host of this.hosts.values()) host.fence();
  }

  /** What telemetry reports per agent. */
  agentStats(): Array<AgentInfo & { type: string }> {
    return [...this.hosts.values()].map((h) => ({ ...h.info(), type: h.def.type }));
  }

  /** Let spawns in flight settle, then stop every agent in reverse start order. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.spawning]);
    await this.root.shutdown();
  }

  private assertOpen(): void {
    if (this.env.closing()) throw new NodeClosedError(this.env.nodeId);
  }

  private async createHost(spec: NormalizedChildSpec, parent: Parent): Promise<AgentHost> {
    const def = this.types.get(spec.type);
    if (!def) throw new UnknownAgentTypeError(spec.type, [...this.types.keys()]);
    const id = formatAgentId(spec.type, spec.key);
    const existing = this.hosts.get(id);
    if ((existing && existing.state !== "stopped" && existing.state !== "failed") || this.claiming.has(id)) {
      throw new AgentExistsError(id, this.env.nodeId);
    }
    this.claiming.add(id);
    try {
      await this.env.registry.claim(spec.type, spec.key, this.env.nodeId, parent.id, { args: spec.args, restart: spec.restart });
    } finally {
      this.claiming.delete(id);
    }
    const host = new AgentHost(def, spec.key, spec.args, parent, this.env.host);
    this.hosts.set(id, host);
    return host;
  }

  private async releaseHost(child: Child): Promise<void> {
    // Stopped, or failed for good (given up on): its supervisor forgot it, so does the node.
    if (this.hosts.get(child.id) === child && (child.state === "stopped" || child.state === "failed")) this.hosts.delete(child.id);
    await this.env.registry.release(child.type, child.key, this.env.nodeId);
  }

  /** The agent type that runs a supervisor: its activation starts the children; stopping it stops them. */
  private supervisorAgent(def: SupervisorType): AgentType {
    return defineAgent({
      type: def.type,
      persist: false,
      state: () => ({}),
      receive: (_msg: unknown, ctx) => {
        const sup = this.supervisors.get(ctx.id);
        return { id: ctx.id, strategy: def.spec.strategy, children: sup ? sup.tree((child: Child) => this.supervisors.get(child.id)) : [] };
      },
      onStart: async (ctx) => {
        const sup = new Supervisor(ctx.id, def.spec, this.supEnv, {
          onEscalate: (reason) => this.hosts.get(ctx.id)?.failNow(reason),
        });
        this.supervisors.set(ctx.id, sup);
        await sup.startChildren(def.spec.children);
      },
      onStop: async (ctx) => {
        const sup = this.supervisors.get(ctx.id);
        this.supervisors.delete(ctx.id);
        await sup?.shutdown();
      },
    });
  }
}
