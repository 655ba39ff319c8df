// The agents one node runs: its agent types, the hosts of its running agents,
// its root supervisor and the supervisor agents under it. Spawning here claims
// the agent in the registry (compare-and-set), so at most one activation of an
// AgentId runs in the namespace; stopping releases the claim.

import type { NormalizedChildSpec, NormalizedSupervisorSpec } from "../supervisors/child-spec.js";
import { RestartType } from "../supervisors/strategy.js";
import { AgentHost, type AgentInfo, type HostEnv } from "./agent-host.js";
import type { Child, Parent } from "./child.js";
import type { Control } from "./control.js";
import { ActivationMode, defineAgent, type AgentType } from "./define-agent.js";
import type { SupervisorType } from "./define-supervisor.js";
import {
  AgentExistsError,
  AgentNotFoundError,
  errorText,
  NoNodeForTypeError,
  InvalidArgumentError,
  InvalidConfigError,
  NodeClosedError,
  SupervisorNotFoundError,
  UnknownAgentTypeError,
} from "./errors.js";
import { EventKind } from "./events.js";
import { Passivator } from "./passivation.js";
import { parsePoolMember } from "./pool-member.js";
import type { Registry, Takeover } from "./registry.js";
import { childSpec } from "./specs.js";
import { ListingOrder } from "./listing-order.js";
import { formatAgentId, parseAgentId, validateToken, type AgentId } from "./subjects.js";
import { Supervisor, type SupervisorEnv, type TreeNode } from "./supervisor.js";
import { checkChildrenFree, supervisorChildren } from "./supervisor-children.js";

/** Agents handed over at once by a closing node. */
const HANDOVER_CONCURRENCY = 64;

/** How long a handed-over agent may take to handle what already reached it before it stops here. */
const HANDOVER_DRAIN_MS = 5_000;

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
  /** Ask node `node` to check its claim of `id` against the registry and fence its activation if it lost it (best effort). */
  fenceOn(node: string, id: AgentId): Promise<void>;
  /** Told when an agent starts being hosted here and when it is let go (the agent protocol registers it meanwhile). */
  readonly watchHosts?: { started(type: string, key: string): void; released(type: string, key: string): void };
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
  /** On-demand activations in flight here: a second first message waits for the same one. Deleted when it settles. */
  private readonly activating = new Map<AgentId, Promise<void>>();
  /** Claims handed over to this node by a peer, by id, from the spawn request until the claim is made. */
  private readonly takeovers = new Map<AgentId, Takeover>();
  /** Agents this node is handing over: stopping them keeps their claim, for the peer to take over. */
  private readonly handingOver = new Set<AgentId>();
  /** Passivates idle on-demand agents (absent when no hosted type is on demand). */
  private readonly passivator: Passivator | undefined;
  /** The sorted ids a listing pages through. */
  private readonly listing: ListingOrder;
  /** The hosts whose key is a pool member's (`<name>-<i>`): their load is reported. Kept with {@link hosts}. */
  private readonly poolMembers = new Map<AgentId, AgentHost>();

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
    const onDemand = [...this.types.values()].filter((t) => t.activation === ActivationMode.OnDemand);
    if (onDemand.length > 0) {
      this.passivator = new Passivator(env.host.clock, Math.min(...onDemand.map((t) => t.idleTimeoutMs!)), {
        candidates: () => this.passivationCandidates(),
        passivate: (host, idleMs) => this.passivate(host, idleMs),
      });
    }
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

  /** The agents here whose key is a pool member's, for load reports. */
  poolMemberHosts(): Iterable<AgentHost> {
    return this.poolMembers.values();
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
    if (c.takeover) this.takeovers.set(spec.id as AgentId, c.takeover);
    const starting = parent.startChild(spec, { dynamic: true });
    this.spawning.add(starting);
    try {
      await starting;
    } finally {
      this.spawning.delete(starting);
      if (c.takeover) this.takeovers.delete(spec.id as AgentId);
    }
    // The claim is ours now: the node that held it lets go, if it still runs the agent (a handover stopped it already).
    if (c.takeover) void this.env.fenceOn(c.takeover.node, spec.id as AgentId);
  }

  /**
   * Activate an on-demand agent here, unless it runs here already: the first
   * message to a virtual agent that runs nowhere asks its type's pool for this.
   * Throws AgentExistsError when another node holds its claim (it is starting
   * or passivating there: the sender tries again), AgentNotFoundError when the
   * type is activated by spawn only.
   */
  async activate(type: string, key: string): Promise<{ id: AgentId; node: string }> {
    this.assertOpen();
    const def = this.types.get(type);
    if (!def) throw new UnknownAgentTypeError(type, [...this.types.keys()]);
    const id = formatAgentId(type, key);
    if (def.activation !== ActivationMode.OnDemand) {
      // A spawned agent is never activated by a message. But one that a live node claims is on its way
      // (handed over, or starting): the sender waits for it, as it would during a restart.
      const held = await this.env.registry.lookup(type, key);
      if (held?.live) throw new AgentExistsError(id, held.reg.node);
      throw new AgentNotFoundError(id);
    }
    // Passivating here: let it finish, then activate again.
    await this.passivator?.settled(id);
    if (!this.isLive(id)) {
      let activating = this.activating.get(id);
      if (!activating) {
        activating = this.spawn({ op: "spawn", type, key }).finally(() => this.activating.delete(id));
        this.activating.set(id, activating);
        await activating;
        this.env.host.events.publish(EventKind.Activated, type, key);
      } else {
        await activating;
      }
    }
    return { id, node: this.env.nodeId };
  }

  /** Start passivating idle on-demand agents (once the node is up). */
  startPassivation(): void {
    this.passivator?.start();
  }

  /** On-demand agents that may be passivated: running under the root (a supervisor agent's children stay with it). */
  private *passivationCandidates(): Iterable<{ host: AgentHost; idleTimeoutMs: number }> {
    for (const host of this.hosts.values()) {
      if (host.def.activation === ActivationMode.OnDemand && host.parent === this.root && host.state === "running") {
        yield { host, idleTimeoutMs: host.def.idleTimeoutMs! };
      }
    }
  }

  /**
   * Passivate an idle agent: stop listening (what was on its way is still
   * taken), and if it stayed idle, stop it for good: state committed, claim
   * released. A message that arrived meanwhile keeps it running.
   */
  private async passivate(host: AgentHost, idleMs: number): Promise<void> {
    if (this.env.closing() || this.hosts.get(host.id) !== host) return;
    if (!(await host.quietDown())) return;
    await this.stop(host.id);
    this.env.host.events.publish(EventKind.Passivated, host.type, host.key, { idleMs });
  }

  /**
   * Hand every agent under the root to live peers that host its type (a
   * rolling restart): each stops listening, handles what already reached
   * it, commits and stops here, keeping its registry claim; a peer of its
   * type's pool takes the claim over (compare-and-set on its revision) and
   * starts it from the committed state. Asks sent meanwhile wait for it,
   * as during a restart. An on-demand agent is passivated instead: its next
   * message activates it on a peer. An agent no peer takes is stopped here.
   * `peerTimeoutMs` bounds each request to the pool.
   */
  async handOver(peerTimeoutMs: number): Promise<{ handedOver: number; passivated: number; stopped: number }> {
    const counts = { handedOver: 0, passivated: 0, stopped: 0 };
    await this.passivator?.stop();
    const hosts = [...this.hosts.values()].filter((h) => h.parent === this.root && h.up);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < hosts.length) {
        const host = hosts[next++]!;
        try {
          counts[await this.handOverOne(host, peerTimeoutMs)]++;
        } catch (err) {
          counts.stopped++;
          this.env.host.events.publish(EventKind.SupervisorError, host.type, host.key, { supervisor: "root", job: "hand over", error: errorText(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HANDOVER_CONCURRENCY, hosts.length) }, worker));
    return counts;
  }

  private async handOverOne(host: AgentHost, peerTimeoutMs: number): Promise<"handedOver" | "passivated" | "stopped"> {
    const { type, key, id } = host;
    await host.stopListening(host.def.activation === ActivationMode.OnDemand ? 0 : HANDOVER_DRAIN_MS);
    if (host.def.activation === ActivationMode.OnDemand) {
      await this.stop(id);
      this.env.host.events.publish(EventKind.Passivated, type, key, { idleMs: 0, handover: true });
      return "passivated";
    }
    const held = await this.env.registry.lookup(type, key);
    if (!held || held.reg.node !== this.env.nodeId) {
      await this.stop(id);
      return "stopped";
    }
    this.handingOver.add(id);
    try {
      await this.stop(id);
    } finally {
      this.handingOver.delete(id);
    }
    const request: SpawnRequest = { op: "spawn", type, key, takeover: { node: this.env.nodeId, revision: held.revision } };
    if (held.reg.args !== undefined) request.args = held.reg.args;
    if (Object.values(RestartType).includes(held.reg.restart as RestartType)) request.restart = held.reg.restart as RestartType;
    try {
      const messenger = this.env.host.messenger;
      const took = (await messenger.control(messenger.subjects.poolSpawn(type), request, peerTimeoutMs, `node:${this.env.nodeId}`, () => new NoNodeForTypeError(type, 0))) as { node?: unknown };
      this.env.host.events.publish(EventKind.HandedOver, type, key, { to: typeof took?.node === "string" ? took.node : null });
      return "handedOver";
    } catch {
      // No peer took it: it stops here, for good, as a close without handover would.
      await this.env.registry.release(type, key, this.env.nodeId);
      return "stopped";
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
    this.poolMembers.delete(id);
    this.env.watchHosts?.released(host.type, host.key);
  }

  /** Make an agent here fail as if its receive threw. */
  kill(id: AgentId, reason: string): void {
    const host = this.hosts.get(id);
    if (!host || !host.up) throw new AgentNotFoundError(id);
    host.kill(reason);
  }

  /**
   * Check that the registry still names this node for an agent it runs, and
   * fence the local activation when another node has taken it over.
   */
  async verifyClaim(id: AgentId): Promise<void> {
    const host = this.hosts.get(id);
    if (!host || !host.up) return;
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
    await this.passivator?.stop();
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
      await this.env.registry.claim(spec.type, spec.key, this.env.nodeId, parent.id, { args: spec.args, restart: spec.restart }, this.takeovers.get(id));
    } finally {
      this.claiming.delete(id);
    }
    const host = new AgentHost(def, spec.key, spec.args, parent, this.env.host);
    this.hosts.set(id, host);
    if (parsePoolMember(spec.key)) this.poolMembers.set(id, host);
    this.env.watchHosts?.started(spec.type, spec.key);
    return host;
  }

  private async releaseHost(child: Child): Promise<void> {
    // Stopped, or failed for good (given up on): its supervisor forgot it, so does the node.
    if (this.hosts.get(child.id) === child && (child.state === "stopped" || child.state === "failed")) {
      this.hosts.delete(child.id);
      this.poolMembers.delete(child.id as AgentId);
      this.env.watchHosts?.released(child.type, child.key);
    }
    // Handed over: the claim is the peer's to take over.
    if (this.handingOver.has(child.id as AgentId)) return;
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
        const children = supervisorChildren(def.spec.children, parseAgentId(ctx.id).key);
        await checkChildrenFree(this.env.registry, ctx.id, def.spec.children, children);
        this.supervisors.set(ctx.id, sup);
        await sup.startChildren(children);
      },
      onStop: async (ctx) => {
        const sup = this.supervisors.get(ctx.id);
        this.supervisors.delete(ctx.id);
        await sup?.shutdown();
      },
    });
  }
}
