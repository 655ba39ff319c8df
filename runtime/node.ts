// A node: one process's share of the runtime, and the public facade over it.
// It holds the NATS connection, runs agents (Hosting), answers control
// requests (ControlServer), heartbeats into the membership bucket under a name
// it claimed, adopts the agents of nodes that are gone (Failover), and gives
// access to the namespace's shared memory. Requests to other nodes go through
// ClusterCalls, which the light client shares.

import { hostname } from "node:os";
import type { NatsConnection, Status } from "@nats-io/nats-core";
import { RestartType } from "../supervisors/strategy.js";
import type { AgentInfo, HostEnv } from "./agent-host.js";
import type { AgentRef } from "./agent-ref.js";
import { ClusterCalls, spawnRequest, targetId, type NodeTree } from "./cluster-calls.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { checkCredentialsFor, readCredentials, type Credentials } from "./auth/credentials.js";
import { SenderSigner, SenderVerifier } from "./auth/sender-proof.js";
import { onConnection } from "./connection.js";
import { openDurable, type DurableParts } from "./durable/open-durable.js";
import { DurableSender } from "./durable/durable-sender.js";
import { ControlServer } from "./control-server.js";
import { DeadLetters, ensureDeadLetterStream } from "./dead-letters.js";
import { AgentExistsError, InvalidConfigError, JetStreamNotEnabledError, NodeClosedError, NodeNameTakenError, TroupeError } from "./errors.js";
import { EventKind as EventKindValues, EventPublisher, type EventKind, type TroupeEvent } from "./events.js";
import { Failover } from "./failover.js";
import { Hosting } from "./hosting.js";
import { AgentServices } from "./interop/agent-services.js";
import type { AgentType } from "./define-agent.js";
import { InvalidEntries } from "./invalid-entries.js";
import { MailboxBudget } from "./mailbox.js";
import { Membership, type NodeAnnouncement, type NodeInfo } from "./membership.js";
import { openMemory, type Memory } from "./memory/index.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import { Messenger } from "./messenger.js";
import { PermissionDenials } from "./permission-denials.js";
import { McpHub } from "./model/mcp-hub.js";
import type { Pool } from "./pool.js";
import { PoolBoard } from "./pool-board.js";
import { PoolLoadReporter } from "./pool-load-reporter.js";
import type { PoolOptions } from "./pool-options.js";
import { validateNodeOptions, type NodeOptions, type SpawnOptions, type ValidOptions } from "./node-options.js";
import { Registry } from "./registry.js";
import { StateStore, type Retry } from "./state-store.js";
import { formatAgentId, parseAgentId, Subjects, type AgentId } from "./subjects.js";
import { checkNamespaceStreams } from "./namespace-streams.js";
import { configureTracing, observeNode } from "./telemetry.js";
import type { OtlpExport, OtlpExportStats } from "./otlp-export.js";
import { TurnBudget } from "./turn-budget.js";
import { TimerIndex, wakeableTypes } from "./timer-index.js";
import { TimerWakeups } from "./timer-wakeups.js";
import { TopicRouter } from "./topic-router.js";
import { TopicPublisher } from "./topic-publisher.js";
import { emptyRecord, SubscriptionStore } from "./subscription-store.js";
import { ensureTopicsStream } from "./topics-stream.js";
import { ensureEventsStream } from "./events-stream.js";
import { NoticeBoard, type NodeNotice } from "./node-notice.js";
import type { Topic } from "./define-topic.js";
import { troupeVersion } from "./interop/agent-services.js";
import { AgentProtocol } from "./interop/agent-protocol.js";

export type { NodeOptions, SpawnOptions, NodeTree };

/** Troupe's version, as micro-service registrations report it (keep with package.json). */

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
  let o = validateNodeOptions(options);
  const verified = o.agents.filter((a) => a.kind === "agent" && a.requireVerifiedSender).map((a) => a.type);
  if (verified.length > 0 && o.credentials === undefined) {
    throw new InvalidConfigError(
      "credentials",
      `agent type ${verified.join(", ")} accepts only verified senders, and a node without credentials cannot check their proofs (give credentials, or NATS_CREDS)`,
    );
  }
  const credentials = o.credentials === undefined ? undefined : await readCredentials(o.credentials);
  // A credential bound to a node name names the node when the options do not.
  const pinned = credentials === undefined ? undefined : checkCredentialsFor(credentials, o.namespace, options.name);
  if (pinned !== undefined && options.name === undefined) o = { ...o, name: pinned };
  return onConnection(options.connection, { servers: o.servers, name: `troupe-node-${o.name}`, credentials, tls: o.tls }, (nc, owned) =>
    TroupeNode.create(nc, o, owned, credentials),
  );
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
  /** The agents this node runs, under its root supervisor. */
  private readonly hosting: Hosting;
  /** Answers spawn, stop, kill, fence, list and tree requests from other nodes and clients. */
  private readonly control: ControlServer;
  /** The NATS micro services of the hosted types ($SRV). */
  private readonly services: AgentServices;
  private readonly events: EventPublisher;
  /** What agents' `can` declarations refused here. */
  private readonly denials: PermissionDenials;
  /** The pools used from here (node.pool, ctx.pool), and the load reports of pool members hosted here. */
  private readonly pools: PoolBoard;
  private readonly poolLoad: PoolLoadReporter;
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
  /** This node's use of the process's OTLP export (`telemetry` option). */
  private otlp: OtlpExport | undefined;
  /** The connection's status events, watched for reconnects until close. */
  private statuses: { stop(): void } | undefined;
  /** The credential this node connected with, if any: it signs for, and checks the senders of, agents that accept only verified senders. */
  private readonly credentials: Credentials | undefined;
  /** Wakes this node's passivated on-demand agents when their timers are due (absent when it hosts none that persist). */
  private wakeups: TimerWakeups | undefined;
  /** The core topic subscriptions of the agents here (one NATS subscription per pattern), and publishing on topics. */
  private readonly topicRouter: TopicRouter;
  private readonly topicPublisher: TopicPublisher;
  /** The NATS agent protocol for the types exposed with `protocol: "nats-agents"` (runtime/interop/agent-protocol.ts). */
  private readonly agentProtocol: AgentProtocol;
  /** MCP servers of the hosted model agents' tools (mcpTools), connected on first need. */
  private readonly mcp: McpHub;
  /** Who hears this node's notices (adoptions, disconnects, reconnects). */
  private readonly notices = new NoticeBoard();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly o: ValidOptions,
    private readonly ownsConnection: boolean,
    private readonly stateStore: StateStore,
    private readonly registry: Registry,
    private readonly membership: Membership,
    memory: Memory,
    private readonly durable: DurableParts,
    credentials: Credentials | undefined,
    private readonly timerIndex: TimerIndex | undefined,
    private readonly subscriptions: SubscriptionStore,
  ) {
    this.id = o.name;
    this.credentials = credentials;
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
      signer: credentials ? new SenderSigner(credentials) : undefined,
    });
    this.calls = new ClusterCalls(
      this.messenger,
      this.subjects,
      { membership: async () => membership, registry: async () => registry, stateStore: async () => stateStore },
      { namespace: o.namespace, clock: o.clock, askTimeoutMs: o.askTimeoutMs, spawnWaitMs: o.spawnWaitMs, sender: this.sender },
    );
    this.events = new EventPublisher(nc, this.subjects, o.name, o.clock, maxMessageBytes);
    this.denials = new PermissionDenials(this.events);
    this.pools = new PoolBoard({
      clock: o.clock,
      random: o.random,
      onDemand: async (type) => (await this.messenger.lookupRoute(type)).onDemand,
      activate: (id) => this.calls.activate(id),
      spawn: (type, key) => this.spawn(type, { key }),
      subscribe: (subject, callback) => {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) callback(msg.data);
          },
        });
        return () => sub.unsubscribe();
      },
      loadSubject: (type, name) => this.subjects.poolLoad(type, name),
    });
    this.topicRouter = new TopicRouter(nc, this.subjects, maxMessageBytes);
    this.topicPublisher = new TopicPublisher(this.messenger, this.subjects, maxMessageBytes, durable.js, o.clock);
    this.mcp = new McpHub(o.clock);
    const host: HostEnv = {
      pools: this.pools,
      nodeId: o.name,
      nc,
      clock: o.clock,
      messenger: this.messenger,
      events: this.events,
      deadLetters: new DeadLetters(nc, this.subjects, o.name, o.clock),
      stateStore,
      memory,
      denials: this.denials,
      maxMessageBytes,
      mailboxBudget: new MailboxBudget(o.mailboxBytes),
      turns: new TurnBudget(o.clock),
      durable: durable.hostsDurable ? { js: durable.js, jsm: durable.jsm, stream: this.subjects.mailboxStream() } : undefined,
      verifier: credentials ? SenderVerifier.forCredentials(credentials, o.namespace, o.clock) : undefined,
      timerIndex,
      topics: this.topicRouter,
      topicPublisher: this.topicPublisher,
      mcp: this.mcp,
      subscriptions,
    };
    this.messenger.useDurableMailboxes(durable.directory, new DurableSender(durable.js, o.clock));
    this.agentProtocol = new AgentProtocol(o.agents, {
      nc,
      clock: o.clock,
      namespace: o.namespace,
      version: troupeVersion(),
      maxPayload: maxMessageBytes,
      inactivityMs: o.askTimeoutMs,
      // A prompt comes from outside, unproven: it is sent with no sender (never as this node, never signed).
      ref: (type, key) => this.messenger.ref(type, key, null),
      trouble: (where, err) => this.trouble(where, err),
    });
    const agentProtocol = this.agentProtocol;
    this.hosting = new Hosting(o.agents, {
      watchHosts: agentProtocol.active ? { started: (t, k) => agentProtocol.agentStarted(t, k), released: (t, k) => agentProtocol.agentReleased(t, k) } : undefined,
      nodeId: o.name,
      host,
      registry,
      random: o.random,
      root: o.root,
      closing: () => this.closing !== undefined,
      fenceOn: (node, id) => this.fenceOn(node, id),
    });
    this.poolLoad = new PoolLoadReporter(o.name, nc, this.subjects, o.clock, () => this.hosting.poolMemberHosts());
    this.control = new ControlServer(o.name, nc, this.subjects, this.messenger, this.events, this.hosting, maxMessageBytes);
    this.services = new AgentServices(
      { nc, subjects: this.subjects, clock: o.clock, nodeId: o.name, maxMessageBytes, askTimeoutMs: o.askTimeoutMs, ref: (t, k) => this.messenger.ref(t, k, null) },
      o.agents.filter((a): a is AgentType => a.kind === "agent"),
    );
  }

  /** @internal Use {@link startNode}. */
  static async create(nc: NatsConnection, o: ValidOptions, ownsConnection: boolean, credentials?: Credentials): Promise<TroupeNode> {
    const subjects = new Subjects(o.namespace);
    if (!(nc.info as { jetstream?: boolean } | undefined)?.jetstream) {
      throw new JetStreamNotEnabledError(Array.isArray(o.servers) ? o.servers.join(",") : o.servers);
    }
    const retry: Retry = (operation, fn) => withJetStreamRetry(operation, fn, { clock: o.clock, ...DEFAULT_RETRY });
    configureTracing(o.tracing);
    const invalid = new InvalidEntries();
    // Streams of the namespace's names made by someone else are refused before anything is written.
    await checkNamespaceStreams(nc, subjects, retry);
    const membership = await Membership.open(nc, subjects, o.name, o.clock, o.heartbeatMs, retry, invalid, o.replicas);
    // The name is claimed (compare-and-set) before anything else, and beats from then on.
    let announce = (): NodeAnnouncement => ({ id: o.name, types: [], startedAt: o.clock.now(), pid: process.pid, host: hostname(), agents: 0 });
    await membership.claim(() => announce());
    let node: TroupeNode | undefined;
    let otlp: OtlpExport | undefined;
    // An export failure told before the node exists (during its start, or on joining an export already failing) is reported once it does.
    let earlyTrouble: Error | undefined;
    try {
      // The SDK is loaded only by a node that asks for it.
      if (o.telemetry) otlp = (await import("./otlp-export.js")).startOtlpExport(o.telemetry, {
        nodeId: o.name,
        namespace: o.namespace,
        clock: o.clock,
        tracing: o.tracing ?? true,
        trouble: (err) => (node ? node.trouble("telemetry export", err) : (earlyTrouble ??= err)),
      });
      const [stateStore, registry, memory, subscriptions] = await Promise.all([
        StateStore.open(nc, subjects, retry, o.replicas),
        Registry.open(nc, subjects, membership, o.clock, retry, invalid, o.replicas),
        Promise.resolve(openMemory(nc, subjects, { clock: o.clock, ...o.memory }, { writer: `node:${o.name}` })),
        SubscriptionStore.open(nc, subjects, retry, o.replicas),
        ensureDeadLetterStream(nc, subjects, o.replicas),
        ensureTopicsStream(nc, subjects, o.replicas),
        o.eventHistory === null ? undefined : ensureEventsStream(nc, subjects, o.replicas, o.eventHistory),
      ]);
      const durable = await openDurable(nc, subjects, o, retry, invalid);
      const timerIndex = wakeableTypes(o.agents).length > 0 ? await TimerIndex.open(nc, subjects, retry, o.replicas) : undefined;
      node = new TroupeNode(nc, o, ownsConnection, stateStore, registry, membership, memory, durable, credentials, timerIndex, subscriptions);
      node.otlp = otlp;
      if (earlyTrouble) node.trouble("telemetry export", earlyTrouble);
      const events = node.events;
      invalid.sink = (entry) => events.publish(EventKindValues.InvalidEntry, "node", o.name, { ...entry });
      announce = () => node!.nodeInfo();
      await node.followSubscriptions();
      await node.control.listen();
      await node.services.start();
      node.agentProtocol.start();
      await membership.start(
        () => void node!.verifyClaims(),
        () => void node!.loseName(),
      );
    } catch (err) {
      if (node) await node.close().catch(() => {});
      else await membership.leave();
      await otlp?.release();
      throw err;
    }
    node.watchReconnects();
    if (o.failover && node.hosting.typeNames().length > 0) node.startFailover();
    node.hosting.startPassivation();
    node.poolLoad.start();
    await node.startTimerWakeups();
    node.unobserve = observeNode(node.id, () => node!.hosting.agentStats());
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
    } else if (options.supervisor !== undefined && !this.hosting.hasSupervisor(options.supervisor)) {
      await this.calls.spawnUnder(options.supervisor, request);
    } else if (this.hosting.hostsType(type) || options.node === this.id) {
      await this.hosting.spawn(request);
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

  /**
   * A pool of agents of `type`: each ask or tell goes to one member, chosen by
   * the policy (default least loaded). Members are `<type>/<name>-<i>`; `min`
   * are brought up on first use, more (up to `max`) when all are busy.
   *
   * @example
   * const workers = node.pool("worker", { policy: "least_loaded", min: 4, max: 16 });
   * await workers.ask({ job: 1 });
   * @throws InvalidConfigError naming a bad option
   */
  pool<M = unknown, R = unknown>(type: string, options?: PoolOptions<M>): Pool<M, R> {
    this.assertOpen();
    return this.pools.pool<M, R>(type, options, (t, k) => this.messenger.ref(t, k, this.sender));
  }

  /**
   * Publish `msg` on a topic, as this node (`node:<id>` is the subscribers' `ctx.sender`).
   * A core topic (a name, `"orders.placed"`): resolves once handed to NATS, at most once.
   * A durable one (`defineTopic({ name, durable: true })`): resolves once JetStream stored it.
   *
   * @throws InvalidArgumentError for a bad topic name, InvalidMessageError, TopicUnavailableError
   */
  async publish(topic: Topic, msg: unknown): Promise<void> {
    this.assertOpen();
    await this.topicPublisher.publish(topic, msg, this.sender);
  }

  /** The agents on this node, then the few its root supervisor gave up on lately (`failed`). */
  async list(): Promise<AgentInfo[]> {
    return this.hosting.list();
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
    return { node: this.id, id: "root", strategy: "one_for_one", children: this.hosting.tree() };
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
    if (this.hosting.runs(id)) return this.hosting.stop(id);
    await this.calls.stopRemote(id);
  }

  /** Make an agent fail as if its `receive` threw, wherever it runs (agentctl kill). */
  async kill(target: AgentRef | string, reason = "killed"): Promise<void> {
    this.assertOpen();
    const id = targetId(target);
    if (this.hosting.runs(id)) return this.hosting.kill(id, reason);
    await this.calls.killRemote(id, reason);
  }

  /**
   * Make sure an agent runs: an on-demand agent that runs nowhere is activated
   * on a node of its type's pool. Resolves with the node it runs on.
   *
   * @throws AgentNotFoundError when it is of a spawn-only type and not running, or no node hosts its type
   */
  activate(id: string): Promise<string> {
    return this.calls.activate(id);
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
    if (this.hosting.isLive(id as AgentId)) throw new AgentExistsError(id, this.id);
    const where = await this.registry.lookup(type, key);
    if (where?.live) throw new AgentExistsError(id, where.reg.node);
    await this.stateStore.remove(type, key);
    // What else the agent left behind: its run-time topic subscriptions, its place on the
    // durable topics, its timer wake entry. A new agent with this id starts from nothing.
    await this.subscriptions.save(type, key, emptyRecord());
    await this.durable.jsm.consumers.delete(this.subjects.topicsStream(), this.subjects.topicConsumer(type, key)).catch(() => false);
    await this.timerIndex?.remove(type, key);
  }

  /**
   * Subscribe to lifecycle and supervision events of the namespace.
   * Returns a function that unsubscribes.
   */
  onEvent(handler: (event: TroupeEvent) => void, filter: { kind?: EventKind; type?: string; key?: string } = {}): () => void {
    return this.calls.onEvent(handler, filter);
  }

  /**
   * Hear this node's notices: it adopted an agent of a node that is gone, it lost
   * the server, it reconnected. Returns a function that stops them.
   *
   * @example
   * node.onNotice((n) => console.log(n.kind === "adopted" ? `adopted ${n.agent} from ${n.from}` : `${n.kind} ${n.server}`));
   */
  onNotice(handler: (notice: NodeNotice) => void): () => void {
    return this.notices.on(handler);
  }

  /**
   * Close the node: stop every agent here (reverse start order), leave the
   * cluster, and close the connection if the node opened it.
   *
   * With `{ handover: true }` (a rolling restart; `agentctl node start` does
   * this on SIGTERM) the agents are first handed to live peers that host their
   * types: each commits and stops here, and a peer takes over its claim and
   * starts it from that state; asks sent meanwhile wait for it. On-demand
   * agents are passivated (their next message activates them on a peer).
   * Agents no peer takes are stopped.
   */
  close(options: { handover?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.markClosed(undefined);
      try {
        await this.closeAll(options.handover === true);
      } finally {
        this.resolveClosed(this.closeReason);
      }
    })();
    return this.closing;
  }

  /**
   * Counts of what this node refused or could not deliver where nobody could be
   * told: control requests refused with no inbox to answer (each also an
   * `invalid_message` event about `node/<id>`), and replies dropped (not an
   * inbox subject, or the connection was gone), and tells lost because their
   * on-demand agent could not be activated; and operations agents here tried
   * outside their type's `can` declaration (`permissionDenied`, each also a
   * `permission_denied` event about the agent), and tool calls model agents
   * here refused (`toolRefusals`, each also a `tool_refused` event).
   */
  stats(): { rejectedControl: number; droppedReplies: number; undeliveredTells: number; permissionDenied: number; toolRefusals: number } {
    return {
      rejectedControl: this.control.rejected,
      droppedReplies: this.messenger.droppedReplies,
      undeliveredTells: this.messenger.undeliveredTells,
      permissionDenied: this.denials.count,
      toolRefusals: this.denials.toolRefusals,
    };
  }

  /** What the OTLP export (`telemetry` option) has done: spans exported, failed exports; undefined without one. */
  telemetryStats(): OtlpExportStats | undefined {
    return this.otlp?.stats();
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

  // ---- life in the cluster -------------------------------------------------

  /** Record why the node closes; the first reason stands. */
  private markClosed(reason: Error | undefined): void {
    if (this.reasonSet) return;
    this.reasonSet = true;
    this.closeReason = reason;
  }

  /** Watch the timer wake index for this node's on-demand types (see runtime/timer-wakeups.ts). */
  /** Learn which of this node's agents have run-time topic subscriptions, so that starting one that has none reads nothing. */
  private followSubscriptions(): Promise<void> {
    return this.subscriptions.follow(this.hosting.typeNames(), this.o.clock, (err) => this.trouble("topic subscriptions watch", err));
  }

  private trouble(where: string, err: unknown): void {
    this.events.publish(EventKindValues.AgentError, "node", this.id, { where, reason: err instanceof Error ? err.message : String(err) });
  }

  private async startTimerWakeups(): Promise<void> {
    if (!this.timerIndex) return;
    this.wakeups = new TimerWakeups({
      clock: this.o.clock,
      subjects: this.subjects,
      index: this.timerIndex,
      types: wakeableTypes(this.o.agents),
      activate: (type, key) => this.hosting.activate(type, key),
      trouble: (where, err) => this.trouble(where, err),
    });
    await this.wakeups.start();
  }

  /** Stop listening, stop every agent, leave the cluster, close the connection if it is ours. */
  private async closeAll(handover: boolean): Promise<void> {
    this.services.stop();
    this.control.close();
    this.agentProtocol.close();
    this.poolLoad.stop();
    this.pools.close();
    await this.wakeups?.stop();
    await this.subscriptions.close();
    await this.failover?.stop();
    this.unobserve?.();
    this.statuses?.stop();
    if (handover && !this.nc.isClosed()) await this.hosting.handOver(this.o.askTimeoutMs).catch(() => {});
    await this.hosting.shutdown();
    await this.mcp.close();
    this.topicRouter.close();
    this.registry.close();
    await this.membership.leave();
    await this.memory.close().catch(() => {});
    this.durable.directory.close();
    this.messenger.close(new NodeClosedError(this.id));
    if (this.ownsConnection) await this.nc.drain().catch(() => {});
    await this.otlp?.release();
  }

  private assertOpen(): void {
    if (this.closing) throw new NodeClosedError(this.id);
  }

  private nodeInfo(): NodeAnnouncement {
    return {
      id: this.id,
      types: this.hosting.typeNames(),
      startedAt: this.startedAt,
      pid: process.pid,
      host: hostname(),
      agents: this.hosting.size,
    };
  }

  /** Check every agent here against the registry (after a reconnect, or a gap in our heartbeats). */
  private async verifyClaims(): Promise<void> {
    if (this.closing) return;
    await this.hosting.verifyClaims();
  }

  /** After each reconnect, make sure no agent here was taken over while we were away. Ends on close. */
  private watchReconnects(): void {
    // nats.js hands out a queued iterator whose stop() ends the loop below and unregisters it.
    const statuses = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.statuses = { stop: () => statuses.stop?.() };
    void (async () => {
      for await (const s of statuses) {
        if (this.closing) return;
        if (s.type === "disconnect") this.notices.emit({ kind: "disconnected", server: s.server });
        if (s.type === "reconnect") {
          this.notices.emit({ kind: "reconnected", server: s.server });
          void this.verifyClaims();
        }
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
    this.events.publish(EventKindValues.NameLost, "node", this.id, { instance: this.membership.instance });
    this.hosting.fenceAll();
    await this.close().catch(() => {});
  }

  /** Ask node `node` to let go of `id` if the registry no longer names it (best effort: a node that is gone cannot answer). */
  private async fenceOn(node: string, id: AgentId): Promise<void> {
    await this.calls.control(this.subjects.nodeControl(node, parseAgentId(id).type), { op: "fence", id }, undefined, 1000).catch(() => {});
  }

  private startFailover(): void {
    this.failover = new Failover(
      this.id,
      this.membership,
      this.registry,
      this.o.clock,
      this.o.heartbeatMs,
      (type) => this.hosting.hostsType(type),
      async (type, key, reg) => {
        if (this.closing) return;
        const restart = Object.values(RestartType).includes(reg.restart as RestartType) ? (reg.restart as RestartType) : undefined;
        await this.hosting.spawn({ op: "spawn", type, key, args: reg.args, restart });
        this.events.publish(EventKindValues.Failover, type, key, { from: reg.node });
        this.notices.emit({ kind: "adopted", agent: formatAgentId(type, key), from: reg.node });
        // If the node only looked gone (a stall, clock trouble), tell it to let go of the agent.
        void this.fenceOn(reg.node, formatAgentId(type, key));
      },
      this.startedAt,
      this.o.random,
      undefined,
      this.membership.instance,
      (failure) => this.events.publish(EventKindValues.FailoverFailed, "node", this.id, { ...failure }),
    );
    this.failover.start();
  }
}

export type { AgentInfo, NodeInfo, TroupeError };
