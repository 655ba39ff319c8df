// A node: one process's share of the runtime. It holds the NATS connection,
// hosts agents under its root supervisor, answers control requests (spawn,
// stop, kill, list, tree) on `troupe.<ns>.node.<id>.ctl` and on the pool
// subjects of the types it hosts, heartbeats into the membership bucket, and
// gives access to the namespace's shared memory.

import { hostname } from "node:os";
import type { Msg, NatsConnection, Status, Subscription } from "@nats-io/nats-core";
import { defineAgent, type AgentType } from "./define-agent.js";
import type { NormalizedChildSpec } from "../supervisors/child-spec.js";
import { childSpec } from "./specs.js";
import type { SupervisorType } from "./define-supervisor.js";
import { Supervisor, type SupervisorEnv } from "./supervisor.js";
import { RestartType } from "../supervisors/strategy.js";
import { AgentHost, type AgentInfo, type HostEnv } from "./agent-host.js";
import type { Child, Parent } from "./child.js";
import type { AgentRef } from "./agent-ref.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { ClusterCalls, spawnRequest, targetId, type NodeTree } from "./cluster-calls.js";
import { openConnection } from "./connection.js";
import { DeadLetters, ensureDeadLetterStream } from "./dead-letters.js";
import { decodeControl, type Control } from "./control.js";
import { decodeEnvelope, Kind } from "./envelope.js";
import {
  AgentExistsError,
  AgentNotFoundError,
  InvalidArgumentError,
  InvalidConfigError,
  JetStreamNotEnabledError,
  NodeClosedError,
  NodeNameTakenError,
  errorText,
  InvalidMessageError,
  SupervisorNotFoundError,
  TroupeError,
  UnknownAgentTypeError,
  toWireError,
} from "./errors.js";
import { EventKind as EventKindValues, EventPublisher, type EventKind, type TroupeEvent } from "./events.js";
import { InvalidEntries } from "./invalid-entries.js";
import { Membership, type NodeAnnouncement, type NodeInfo } from "./membership.js";
import { openMemory, type Memory } from "./memory/index.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import { MailboxBudget } from "./mailbox.js";
import { TurnBudget } from "./turn-budget.js";
import { Messenger } from "./messenger.js";
import { Registry } from "./registry.js";
import { StateStore, type Retry } from "./state-store.js";
import { formatAgentId, isReplySubject, parseAgentId, replySubjectProblem, Subjects, validateToken, type AgentId } from "./subjects.js";
import { configureTracing, observeNode } from "./telemetry.js";
import { Failover } from "./failover.js";
import { validateNodeOptions, type NodeOptions, type SpawnOptions, type ValidOptions } from "./node-options.js";

export type { NodeOptions, SpawnOptions, NodeTree };

/**
 * Start a node: connect, make sure the namespace's buckets and streams exist,
 * and begin hosting the given agent types.
 *
 * @example
 * const node = await startNode({ servers: "nats://127.0.0.1:4222", namespace: "demo", agents: [counter] });
 * const ref = await node.spawn("counter", { key: "c1" });
 * await ref.ask({ op: "get" });
 * await node.close();
 */
export async function startNode(options: NodeOptions = {}): Promise<TroupeNode> {
  const o = validateNodeOptions(options);
  const nc = options.connection ?? (await openConnection({ servers: o.servers, name: `troupe-node-${o.name}` }));
  try {
    return await TroupeNode.create(nc, o, options.connection === undefined);
  } catch (err) {
    if (options.connection === undefined) await nc.close().catch(() => {});
    throw err;
  }
}

/** A running node. Made by {@link startNode}. */
export class TroupeNode {
  /** This node's id. */
  readonly id: string;
  readonly namespace: string;
  /** The namespace's shared memory (`node.memory.bucket(name)` for named buckets). */
  readonly memory: Memory;
  /** The NATS connection this node talks through. */
  readonly connection: NatsConnection;

  private readonly subjects: Subjects;
  private readonly messenger: Messenger;
  /** Requests to other nodes and lookups in the cluster's buckets (shared with the light client). */
  private readonly calls: ClusterCalls;
  private readonly types = new Map<string, AgentType>();
  private readonly hosts = new Map<AgentId, AgentHost>();
  /** Ids whose registry claim is in flight here, so two spawns of one id cannot both claim it. */
  private readonly claiming = new Set<AgentId>();
  /** Spawns in flight here: close() lets them finish (or fail) before it stops everything. */
  private readonly spawning = new Set<Promise<unknown>>();
  private readonly supervisors = new Map<AgentId, Supervisor>();
  private readonly root: Supervisor;
  private readonly hostEnv: HostEnv;
  private readonly supEnv: SupervisorEnv;
  private readonly controlSubs: Subscription[] = [];
  /** Control requests refused with nowhere to send the error (no reply subject, or one that is not an inbox). */
  private rejectedControl = 0;
  private readonly sender: string;
  private closing: Promise<void> | undefined;
  /** Why the node closed: undefined for close(), set first by a node that closes on its own. */
  private closeReason: Error | undefined;
  private reasonSet = false;
  private resolveClosed: (reason: Error | undefined) => void = () => {};
  private readonly closedWith = new Promise<Error | undefined>((resolve) => (this.resolveClosed = resolve));
  private readonly startedAt: number;
  private failover: Failover | undefined;
  private unobserve: (() => void) | undefined;
  /** The connection's status events, watched for reconnects until close. */
  private statuses: { stop(): void } | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly o: ValidOptions,
    private readonly ownsConnection: boolean,
    private readonly stateStore: StateStore,
    private readonly registry: Registry,
    private readonly membership: Membership,
    memory: Memory,
  ) {
    this.id = o.name;
    this.namespace = o.namespace;
    this.connection = nc;
    this.memory = memory;
    this.sender = `node:${o.name}`;
    this.startedAt = o.clock.now();
    this.subjects = new Subjects(o.namespace);
    const serverMax = nc.info?.max_payload ?? DEFAULT_MAX_MESSAGE_BYTES;
    const maxMessageBytes = Math.min(o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, serverMax);
    this.messenger = new Messenger(nc, this.subjects, o.clock, {
      maxMessageBytes,
      askTimeoutMs: o.askTimeoutMs,
      servers: Array.isArray(o.servers) ? o.servers.join(",") : o.servers,
    });
    this.calls = new ClusterCalls(
      this.messenger,
      this.subjects,
      { membership: async () => membership, registry: async () => registry, stateStore: async () => stateStore },
      { namespace: o.namespace, clock: o.clock, askTimeoutMs: o.askTimeoutMs, spawnWaitMs: o.spawnWaitMs, sender: this.sender },
    );
    const events = new EventPublisher(nc, this.subjects, o.name, o.clock, maxMessageBytes);
    this.hostEnv = {
      nodeId: o.name,
      nc,
      clock: o.clock,
      messenger: this.messenger,
      events,
      deadLetters: new DeadLetters(nc, this.subjects, o.name, o.clock),
      stateStore,
      memory,
      maxMessageBytes,
      mailboxBudget: new MailboxBudget(o.mailboxBytes),
      turns: new TurnBudget(o.clock),
    };
    this.supEnv = {
      clock: o.clock,
      random: o.random,
      events,
      createHost: (spec, parent) => this.createHost(spec, parent),
      releaseHost: (host) => this.releaseHost(host),
    };
    for (const def of o.agents) {
      this.types.set(def.type, def.kind === "agent" ? def : this.supervisorAgent(def));
    }
    this.root = new Supervisor(
      "root",
      o.root,
      this.supEnv,
      { perChildIntensity: true },
    );
  }

  /** @internal Use {@link startNode}. */
  static async create(nc: NatsConnection, o: ValidOptions, ownsConnection: boolean): Promise<TroupeNode> {
    const subjects = new Subjects(o.namespace);
    if (!(nc.info as { jetstream?: boolean } | undefined)?.jetstream) {
      throw new JetStreamNotEnabledError(Array.isArray(o.servers) ? o.servers.join(",") : o.servers);
    }
    const retry: Retry = (operation, fn) => withJetStreamRetry(operation, fn, { clock: o.clock, ...DEFAULT_RETRY });
    configureTracing(o.tracing);
    const invalid = new InvalidEntries();
    const membership = await Membership.open(nc, subjects, o.name, o.clock, o.heartbeatMs, retry, invalid);
    // The name is claimed (compare-and-set) before anything else, and beats from then on.
    let announce = (): NodeAnnouncement => ({ id: o.name, types: [], startedAt: o.clock.now(), pid: process.pid, host: hostname(), agents: 0 });
    await membership.claim(() => announce());
    let node: TroupeNode | undefined;
    try {
      const [stateStore, registry, memory] = await Promise.all([
        StateStore.open(nc, subjects, retry),
        Registry.open(nc, subjects, membership, o.clock, retry, invalid),
        Promise.resolve(openMemory(nc, subjects, { clock: o.clock, ...o.memory })),
        ensureDeadLetterStream(nc, subjects),
      ]);
      node = new TroupeNode(nc, o, ownsConnection, stateStore, registry, membership, memory);
      const events = node.hostEnv.events;
      invalid.sink = (entry) => events.publish(EventKindValues.InvalidEntry, "node", o.name, { ...entry });
      announce = () => node!.nodeInfo();
      await node.listen();
      await membership.start(
        () => void node!.verifyClaims(),
        () => void node!.loseName(),
      );
    } catch (err) {
      if (node) await node.close().catch(() => {});
      else await membership.leave();
      throw err;
    }
    node.watchReconnects();
    if (o.failover && node.types.size > 0) node.startFailover();
    node.unobserve = observeNode(node.id, () => [...node!.hosts.values()].map((h) => ({ ...h.info(), type: h.def.type })));
    return node;
  }

  // ---- public API ------------------------------------------------------------

  /**
   * Start an agent and return a ref to it. Runs here when this node hosts the
   * type (or under a supervisor that runs here); otherwise on a node that
   * does, waiting up to `spawnWaitMs` for one to appear.
   *
   * @throws AgentExistsError, UnknownAgentTypeError, NoNodeForTypeError, SupervisorNotFoundError
   */
  async spawn<M = unknown, R = unknown>(type: string, options: SpawnOptions = {}): Promise<AgentRef<M, R>> {
    this.assertOpen();
    const request = spawnRequest(type, options);
    if (options.node !== undefined && options.node !== this.id) {
      await this.calls.spawnOnNode(options.node, request);
    } else if (options.supervisor !== undefined && !this.supervisors.has(options.supervisor as AgentId)) {
      await this.calls.spawnUnder(options.supervisor, request);
    } else if (this.types.has(type) || options.node === this.id) {
      await this.spawnHere(request);
    } else {
      await this.calls.spawnInPool(request);
    }
    return this.messenger.ref<M, R>(type, request.key, this.sender);
  }

  /** A ref to an agent anywhere in the namespace, without spawning: `ref("counter", "c1")` or `ref("counter/c1")`. */
  ref<M = unknown, R = unknown>(typeOrId: string, key?: string): AgentRef<M, R> {
    if (key === undefined) {
      const p = parseAgentId(typeOrId);
      return this.messenger.ref<M, R>(p.type, p.key, this.sender);
    }
    return this.messenger.ref<M, R>(typeOrId, key, this.sender);
  }

  /** The agents on this node, then the few its root supervisor gave up on lately (`failed`). */
  async list(): Promise<AgentInfo[]> {
    return [...[...this.hosts.values()].map((h) => h.info()), ...this.root.givenUpAgents()];
  }

  /** Every live node of the namespace. */
  nodes(): Promise<NodeInfo[]> {
    return this.calls.nodes();
  }

  /** Every agent in the namespace, asking each live node; nodes that do not answer are listed in `unreachable`. */
  listAll(timeoutMs = 2000): Promise<{ agents: AgentInfo[]; nodes: NodeInfo[]; unreachable: string[] }> {
    return this.calls.listAll(timeoutMs, this);
  }

  /** This node's supervision tree. */
  tree(): NodeTree {
    const nested = (child: Child): Supervisor | undefined => this.supervisors.get(child.id);
    return { node: this.id, id: "root", strategy: "one_for_one", children: this.root.tree(nested) };
  }

  /** The supervision trees of every live node. */
  treeAll(timeoutMs = 2000): Promise<NodeTree[]> {
    return this.calls.treeAll(timeoutMs, this);
  }

  /**
   * Stop an agent for good, wherever it runs: it is removed from its
   * supervisor and not restarted. Its persisted state is kept.
   *
   * @throws AgentNotFoundError when it is not running
   */
  async stop(target: AgentRef | string): Promise<void> {
    this.assertOpen();
    const id = targetId(target);
    if (this.hosts.has(id)) return this.stopHere(id);
    await this.calls.stopRemote(id);
  }

  /** Make an agent fail as if its `receive` threw, wherever it runs (agentctl kill). */
  async kill(target: AgentRef | string, reason = "killed"): Promise<void> {
    this.assertOpen();
    const id = targetId(target);
    if (this.hosts.has(id)) return this.killHere(id, reason);
    await this.calls.killRemote(id, reason);
  }

  /** Where an agent runs, from the registry; undefined when it does not run. */
  whereIs(id: string): Promise<string | undefined> {
    return this.calls.whereIs(id);
  }

  /** The persisted state of an agent and its revision, or undefined. */
  persistedState(id: string): Promise<{ value: unknown; revision: number } | undefined> {
    return this.calls.persistedState(id);
  }

  /** Delete the persisted state of an agent that runs nowhere (an explicit operation); AgentExistsError while it runs. */
  async deleteState(id: string): Promise<void> {
    const { type, key } = parseAgentId(id);
    const here = this.hosts.get(id as AgentId);
    if (here && here.state !== "stopped" && here.state !== "failed") throw new AgentExistsError(id, this.id);
    const where = await this.registry.lookup(type, key);
    if (where?.live) throw new AgentExistsError(id, where.reg.node);
    await this.stateStore.remove(type, key);
  }

  /**
   * Subscribe to lifecycle and supervision events of the namespace.
   * Returns a function that unsubscribes.
   */
  onEvent(handler: (event: TroupeEvent) => void, filter: { kind?: EventKind; type?: string; key?: string } = {}): () => void {
    return this.calls.onEvent(handler, filter);
  }

  /** Stop every agent here (reverse start order), leave the cluster, and close the connection if the node opened it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.markClosed(undefined);
      try {
        await this.closeAll();
      } finally {
        this.resolveClosed(this.closeReason);
      }
    })();
    return this.closing;
  }

  /** Record why the node closes; the first reason stands. */
  private markClosed(reason: Error | undefined): void {
    if (this.reasonSet) return;
    this.reasonSet = true;
    this.closeReason = reason;
  }

  /** Stop listening, stop every agent, leave the cluster, close the connection if it is ours. */
  private async closeAll(): Promise<void> {
    for (const s of this.controlSubs) s.unsubscribe();
    await this.failover?.stop();
    await Promise.allSettled([...this.spawning]);
    this.unobserve?.();
    this.statuses?.stop();
    await this.root.shutdown();
    await this.membership.leave();
    await this.memory.close().catch(() => {});
    this.messenger.close(new NodeClosedError(this.id));
    if (this.ownsConnection) await this.nc.drain().catch(() => {});
  }

  /**
   * Counts of what this node refused or could not deliver where nobody could be
   * told: control requests refused with no inbox to answer (each also an
   * `invalid_message` event about `node/<id>`), and replies dropped (not an
   * inbox subject, or the connection was gone).
   */
  stats(): { rejectedControl: number; droppedReplies: number } {
    return { rejectedControl: this.rejectedControl, droppedReplies: this.messenger.droppedReplies };
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Resolves once the node has closed: undefined after `close()`, or the
   * reason when it closed on its own (NodeNameTakenError: another process took
   * its name). A process that runs a node waits on this to exit when the node did.
   */
  whenClosed(): Promise<Error | undefined> {
    return this.closedWith;
  }

  // ---- hosting ---------------------------------------------------------------

  private assertOpen(): void {
    if (this.closing) throw new NodeClosedError(this.id);
  }

  private nodeInfo(): NodeAnnouncement {
    return {
      id: this.id,
      types: [...this.types.keys()],
      startedAt: this.startedAt,
      pid: process.pid,
      host: hostname(),
      agents: this.hosts.size,
    };
  }

  /**
   * Check that the registry still names this node for an agent it runs, and
   * fence the local activation when another node has taken it over.
   */
  private async verifyClaim(id: AgentId): Promise<void> {
    const host = this.hosts.get(id);
    if (!host || (host.state !== "running" && host.state !== "starting")) return;
    const { type, key } = parseAgentId(id);
    const where = await this.registry.lookup(type, key).catch(() => "unknown" as const);
    if (where === "unknown") return;
    if (where && where.reg.node !== this.id) host.fence();
  }

  /** Check every agent here against the registry (after a reconnect, or a gap in our heartbeats). */
  private async verifyClaims(): Promise<void> {
    if (this.closing) return;
    for (const id of [...this.hosts.keys()]) await this.verifyClaim(id);
  }

  /** After each reconnect, make sure no agent here was taken over while we were away. Ends on close. */
  private watchReconnects(): void {
    // nats.js hands out a queued iterator whose stop() ends the loop below and unregisters it.
    const statuses = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.statuses = { stop: () => statuses.stop?.() };
    void (async () => {
      for await (const s of statuses) {
        if (this.closing) return;
        if (s.type === "reconnect") void this.verifyClaims();
      }
    })().catch(() => {});
  }

  /**
   * Another process took this node's name (this one stalled or was cut off past
   * the lapse window and was taken for gone): it may run our agents now, so stop
   * handling at once, write nothing more, and close.
   */
  private async loseName(): Promise<void> {
    if (this.closing) return;
    this.markClosed(new NodeNameTakenError(this.id, this.namespace));
    this.hostEnv.events.publish(EventKindValues.NameLost, "node", this.id, { instance: this.membership.instance });
    for (const host of this.hosts.values()) host.fence();
    await this.close().catch(() => {});
  }

  private startFailover(): void {
    this.failover = new Failover(
      this.id,
      this.membership,
      this.registry,
      this.o.clock,
      this.o.heartbeatMs,
      (type) => this.types.has(type),
      async (type, key, reg) => {
        if (this.closing) return;
        const restart = Object.values(RestartType).includes(reg.restart as RestartType) ? (reg.restart as RestartType) : undefined;
        await this.spawnHere({ op: "spawn", type, key, args: reg.args, restart });
        this.hostEnv.events.publish(EventKindValues.Failover, type, key, { from: reg.node });
        // If the node only looked gone (a stall, clock trouble), tell it to let go of the agent.
        void this.control(this.subjects.nodeControl(reg.node), { op: "fence", id: formatAgentId(type, key) }, undefined, 1000).catch(() => {});
      },
      this.startedAt,
      this.o.random,
      undefined,
      this.membership.instance,
      (failure) => this.hostEnv.events.publish(EventKindValues.FailoverFailed, "node", this.id, { ...failure }),
    );
    this.failover.start();
  }

  private async listen(): Promise<void> {
    const callback = (err: Error | null, msg: Msg): void => {
      if (err) this.hostEnv.events.publish(EventKindValues.AgentError, "node", this.id, { where: "control subscription", reason: errorText(err) });
      else void this.onControl(msg);
    };
    this.controlSubs.push(this.nc.subscribe(this.subjects.nodeControl(this.id), { callback }));
    for (const type of this.types.keys()) {
      this.controlSubs.push(this.nc.subscribe(this.subjects.pool(type), { queue: this.subjects.poolQueue(type), callback }));
    }
    await this.nc.flush();
  }

  /**
   * A control request from the wire: decoded and checked, then carried out.
   * Never throws and never rejects: every failure becomes a typed error reply
   * (to an inbox subject only) or, with nowhere to reply, a counted drop.
   */
  private async onControl(msg: Msg): Promise<void> {
    let inReplyTo = "";
    const replyTo = msg.reply && isReplySubject(msg.reply) ? msg.reply : undefined;
    try {
      const env = decodeEnvelope(msg.data, this.hostEnv.maxMessageBytes);
      inReplyTo = env.id;
      if (env.kind !== Kind.System) throw new InvalidArgumentError("kind", "a node's control subject takes system messages only");
      if (msg.reply && !replyTo) throw new InvalidMessageError(replySubjectProblem(msg.reply));
      const result = await this.handleControl(decodeControl(env.body));
      if (replyTo) this.messenger.reply(replyTo, inReplyTo, this.sender, result, null);
    } catch (err) {
      if (replyTo) {
        this.messenger.reply(replyTo, inReplyTo, this.sender, null, toWireError(err));
      } else {
        this.rejectedControl++;
        this.hostEnv.events.publish(EventKindValues.InvalidMessage, "node", this.id, { reason: errorText(err) });
      }
    }
  }

  private async handleControl(c: Control): Promise<unknown> {
    switch (c.op) {
      case "spawn":
        await this.spawnHere(c);
        return { id: formatAgentId(c.type, c.key), node: this.id };
      case "stop":
        await this.stopHere(c.id);
        return { stopped: c.id };
      case "kill":
        this.killHere(c.id, c.reason ?? "killed");
        return { killed: c.id };
      case "fence":
        await this.verifyClaim(c.id);
        return { checked: c.id };
      case "list":
        return this.list();
      case "tree":
        return this.tree();
    }
  }

  private async spawnHere(c: Extract<Control, { op: "spawn" }>): Promise<void> {
    this.assertOpen();
    validateToken("agent type", c.type);
    validateToken("agent key", c.key);
    if (!this.types.has(c.type)) throw new UnknownAgentTypeError(c.type, [...this.types.keys()]);
    const running = this.hosts.get(formatAgentId(c.type, c.key));
    if (running && running.state !== "stopped" && running.state !== "failed") throw new AgentExistsError(running.id, this.id);
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

  private async stopHere(id: AgentId): Promise<void> {
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

  private killHere(id: AgentId, reason: string): void {
    const host = this.hosts.get(id);
    if (!host || (host.state !== "running" && host.state !== "starting")) throw new AgentNotFoundError(id);
    host.kill(reason);
  }

  private async createHost(spec: NormalizedChildSpec, parent: Parent): Promise<AgentHost> {
    const def = this.types.get(spec.type);
    if (!def) throw new UnknownAgentTypeError(spec.type, [...this.types.keys()]);
    const id = formatAgentId(spec.type, spec.key) as AgentId;
    const existing = this.hosts.get(id);
    if ((existing && existing.state !== "stopped" && existing.state !== "failed") || this.claiming.has(id)) {
      throw new AgentExistsError(id, this.id);
    }
    this.claiming.add(id);
    try {
      await this.registry.claim(spec.type, spec.key, this.id, parent.id, { args: spec.args, restart: spec.restart });
    } finally {
      this.claiming.delete(id);
    }
    const host = new AgentHost(def, spec.key, spec.args, parent, this.hostEnv);
    this.hosts.set(id, host);
    return host;
  }

  private async releaseHost(child: Child): Promise<void> {
    // Stopped, or failed for good (given up on): its supervisor forgot it, so does the node.
    if (this.hosts.get(child.id) === child && (child.state === "stopped" || child.state === "failed")) this.hosts.delete(child.id);
    await this.registry.release(child.type, child.key, this.id);
  }

  /** The agent type that runs a supervisor: its activation starts the children; stopping it stops them. */
  private supervisorAgent(def: SupervisorType): AgentType {
    return defineAgent({
      type: def.type,
      persist: false,
      state: () => ({}),
      receive: (_msg: unknown, ctx) => {
        const sup = this.supervisors.get(ctx.id);
        const nested = (child: Child): Supervisor | undefined => this.supervisors.get(child.id);
        return { id: ctx.id, strategy: def.spec.strategy, children: sup ? sup.tree(nested) : [] };
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

  /** Send a control request and wait for the answer; `noResponders` makes the error for "nobody listens". */
  private control(subject: string, body: Control, noResponders?: () => Error, timeoutMs = this.o.askTimeoutMs): Promise<unknown> {
    return this.calls.control(subject, body, noResponders, timeoutMs);
  }
}

export type { AgentInfo, NodeInfo, TroupeError };
