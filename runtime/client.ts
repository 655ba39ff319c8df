// A light client: a process that calls agents without hosting any (agentctl, a
// web service). It sends tells, asks and control requests, reads the cluster's
// registry, membership and state, and uses shared memory. It never heartbeats
// (so it is no member of the cluster and `node ls` does not show it), answers
// no control requests, and creates no stream or bucket: the namespace's must
// exist already, else lookups fail with NamespaceNotFoundError. Memory writes
// create their bucket as a node's do; memory reads never create one. Its
// `deadLetters` lists, replays, deletes and purges the namespace's dead letters.

import type { NatsConnection } from "@nats-io/nats-core";
import type { AgentInfo } from "./agent-host.js";
import type { AgentRef } from "./agent-ref.js";
import { nameFromCredentials, validateClientOptions, type ClientOptions, type ValidClientOptions } from "./client-options.js";
import { ClusterCalls, spawnRequest, targetId, type NodeTree } from "./cluster-calls.js";
import { existingClusterBuckets } from "./cluster-buckets.js";
import { DeadLetterQueue } from "./dead-letter-queue.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { checkCredentialsFor, readCredentials, type Credentials } from "./auth/credentials.js";
import { SenderSigner } from "./auth/sender-proof.js";
import { onConnection } from "./connection.js";
import { AgentNotFoundError, ClientClosedError, InvalidArgumentError } from "./errors.js";
import type { EventKind, TroupeEvent } from "./events.js";
import { openEventFeed, type EventFeed, type EventFeedOptions } from "./event-feed.js";
import type { NodeInfo } from "./membership.js";
import { openMemory, type Memory } from "./memory/index.js";
import { Messenger } from "./messenger.js";
import { jetstream } from "@nats-io/jetstream";
import { TypeDirectory } from "./durable/type-directory.js";
import { ActivationMode } from "./define-agent.js";
import { DurableSender } from "./durable/durable-sender.js";
import { MailboxKind } from "./mailbox-kind.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import type { Retry } from "./state-store.js";
import type { Clock } from "./clock.js";
import type { SpawnOptions } from "./node-options.js";
import type { Pool } from "./pool.js";
import { PoolBoard } from "./pool-board.js";
import type { PoolOptions } from "./pool-options.js";
import { parseAgentId, Subjects, validateToken, type AgentId } from "./subjects.js";
import { TopicPublisher } from "./topic-publisher.js";
import type { Topic } from "./define-topic.js";

export type { ClientOptions };

/**
 * Connect a light client to a namespace. Nothing is written to the server:
 * the namespace's buckets are opened (never created) when first needed.
 *
 * @example
 * const client = await connectClient({ servers: "nats://127.0.0.1:4222", namespace: "prod" });
 * const ref = await client.spawn("counter", { key: "c1" }); // on a node that hosts counter
 * await client.ref("counter/c1").ask({ op: "inc" });
 * await client.close();
 */
export async function connectClient(options: ClientOptions = {}): Promise<TroupeClient> {
  const checked = validateClientOptions(options);
  const credentials = checked.credentials === undefined ? undefined : await readCredentials(checked.credentials);
  if (credentials !== undefined) checkCredentialsFor(credentials, checked.namespace);
  const o = credentials === undefined ? checked : nameFromCredentials(checked, options.name, credentials);
  return onConnection(options.connection, { servers: o.servers, name: `troupe-client-${o.name}`, credentials, tls: o.tls }, (nc, owned) =>
    TroupeClient.create(nc, o, owned, credentials),
  );
}

/** A connected light client. Made by {@link connectClient}. */
export class TroupeClient {
  /** This client's name: the sender of its messages. */
  readonly name: string;
  readonly namespace: string;
  /** The namespace's shared memory; reads of a bucket that does not exist throw BucketNotFoundError. */
  readonly memory: Memory;
  /**
   * The namespace's dead letters: list, get, replay (as a tell from this
   * client, to an agent that runs), delete and purge. A namespace without a
   * dead-letter stream gives NamespaceNotFoundError.
   */
  readonly deadLetters: DeadLetterQueue;
  /** The NATS connection this client talks through. */
  readonly connection: NatsConnection;

  private readonly subjects: Subjects;
  private readonly messenger: Messenger;
  private readonly calls: ClusterCalls;
  /** Which agent types take durable mailboxes (read from the namespace, never created). */
  private readonly directory: TypeDirectory;
  private readonly sender: string;
  /** The pools used from this client. */
  private readonly pools: PoolBoard;
  private closing: Promise<void> | undefined;
  /** Publishes on topics as this client. */
  private readonly topicPublisher: TopicPublisher;
  private readonly clock: Clock;

  /** @internal Use {@link connectClient}. */
  static create(nc: NatsConnection, o: ValidClientOptions, ownsConnection: boolean, credentials?: Credentials): TroupeClient {
    return new TroupeClient(nc, o, ownsConnection, credentials);
  }

  private constructor(
    private readonly nc: NatsConnection,
    o: ValidClientOptions,
    private readonly ownsConnection: boolean,
    /** The credential this client connected with, if any (it signs for agents that accept only verified senders). */
    private readonly credentials: Credentials | undefined,
  ) {
    this.name = o.name;
    this.namespace = o.namespace;
    this.connection = nc;
    this.sender = `client:${o.name}`;
    this.clock = o.clock;
    const subjects = (this.subjects = new Subjects(o.namespace));
    const servers = Array.isArray(o.servers) ? o.servers.join(",") : o.servers;
    const serverMax = nc.info?.max_payload ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.messenger = new Messenger(nc, subjects, o.clock, {
      maxMessageBytes: Math.min(o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, serverMax),
      askTimeoutMs: o.askTimeoutMs,
      servers,
      signer: credentials ? new SenderSigner(credentials) : undefined,
    });
    this.calls = new ClusterCalls(this.messenger, subjects, existingClusterBuckets(nc, subjects, o.clock, servers), {
      namespace: o.namespace,
      clock: o.clock,
      askTimeoutMs: o.askTimeoutMs,
      spawnWaitMs: o.spawnWaitMs,
      sender: this.sender,
    });
    const retry: Retry = (operation, fn) => withJetStreamRetry(operation, fn, { clock: o.clock, ...DEFAULT_RETRY });
    this.directory = TypeDirectory.existing(nc, subjects, retry, () => {
      // A malformed entry counts as core; nodes report it as an invalid_entry event.
    });
    this.messenger.useDurableMailboxes(this.directory, new DurableSender(jetstream(nc), o.clock));
    this.topicPublisher = new TopicPublisher(this.messenger, subjects, Math.min(o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, serverMax), jetstream(nc), o.clock);
    this.memory = openMemory(nc, subjects, { clock: o.clock, ...o.memory }, { readsCreate: false, writer: `client:${o.name}` });
    this.pools = new PoolBoard({
      clock: o.clock,
      random: Math.random,
      onDemand: async (type) => (await this.messenger.lookupRoute(type)).onDemand,
      activate: (id) => this.activate(id),
      spawn: (type, key) => this.spawn(type, { key }),
      subscribe: (subject, callback) => {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) callback(msg.data);
          },
        });
        return () => sub.unsubscribe();
      },
      loadSubject: (type, name) => subjects.poolLoad(type, name),
    });
    this.deadLetters = new DeadLetterQueue(nc, subjects, o.clock, servers, (to, body) => this.resend(to, body), () => this.assertOpen());
  }

  /** A ref to an agent anywhere in the namespace, without spawning: `ref("counter", "c1")` or `ref("counter/c1")`. */
  ref<M = unknown, R = unknown>(typeOrId: string, key?: string): AgentRef<M, R> {
    if (key !== undefined) return this.messenger.ref<M, R>(typeOrId, key, this.sender);
    const p = parseAgentId(typeOrId);
    return this.messenger.ref<M, R>(p.type, p.key, this.sender);
  }

  /**
   * A pool of agents of `type`, as `node.pool`: each ask or tell goes to one
   * member (`<type>/<name>-<i>`) chosen by the policy. A client's credential
   * may activate on-demand members; spawned members need one that may spawn.
   *
   * @throws InvalidConfigError naming a bad option
   */
  pool<M = unknown, R = unknown>(type: string, options?: PoolOptions<M>): Pool<M, R> {
    this.assertOpen();
    return this.pools.pool<M, R>(type, options, (t, k) => this.messenger.ref(t, k, this.sender));
  }

  /**
   * Publish `msg` on a topic, as this client (`client:<name>` is the subscribers' `ctx.sender`).
   * A core topic resolves once handed to NATS; a durable one (`defineTopic({ name, durable: true })`) once stored.
   *
   * @throws InvalidArgumentError for a bad topic name, InvalidMessageError, TopicUnavailableError
   */
  async publish(topic: Topic, msg: unknown): Promise<void> {
    this.assertOpen();
    await this.topicPublisher.publish(topic, msg, this.sender);
  }

  /**
   * Start an agent on a node that hosts its type (waiting up to `spawnWaitMs`
   * for one), on the node named by `node`, or under the supervisor agent
   * named by `supervisor`; returns a ref to it.
   *
   * @throws AgentExistsError, UnknownAgentTypeError, NoNodeForTypeError, SupervisorNotFoundError
   */
  async spawn<M = unknown, R = unknown>(type: string, options: SpawnOptions = {}): Promise<AgentRef<M, R>> {
    this.assertOpen();
    const request = spawnRequest(type, options);
    if (options.node !== undefined) await this.calls.spawnOnNode(options.node, request);
    else if (options.supervisor !== undefined) await this.calls.spawnUnder(options.supervisor, request);
    else await this.calls.spawnInPool(request);
    return this.messenger.ref<M, R>(type, request.key, this.sender);
  }

  /**
   * Stop an agent for good, wherever it runs: it is removed from its
   * supervisor and not restarted. Its persisted state is kept.
   *
   * @throws AgentNotFoundError when it is not running
   */
  async stop(target: AgentRef | string): Promise<void> {
    this.assertOpen();
    await this.calls.stopRemote(targetId(target));
  }

  /** Make an agent fail as if its `receive` threw, wherever it runs; its supervisor decides what follows. */
  async kill(target: AgentRef | string, reason = "killed"): Promise<void> {
    this.assertOpen();
    await this.calls.killRemote(targetId(target), reason);
  }

  /** Every live node of the namespace. */
  nodes(): Promise<NodeInfo[]> {
    this.assertOpen();
    return this.calls.nodes();
  }

  /**
   * The agents on the node named `node`, fetched page by page (a page is as
   * many as fit one message); `timeoutMs` bounds each page's request.
   *
   * @throws InvalidArgumentError when no node of that name answers
   */
  list(node: string, timeoutMs = 2000): Promise<AgentInfo[]> {
    this.assertOpen();
    validateToken("node name", node);
    return this.calls.listNode(node, timeoutMs, () => this.noSuchNode(node));
  }

  /**
   * Every agent in the namespace, asking each live node for all its pages
   * (`timeoutMs` bounds each page's request); nodes that do not answer are
   * listed in `unreachable`.
   */
  listAll(timeoutMs = 2000): Promise<{ agents: AgentInfo[]; nodes: NodeInfo[]; unreachable: string[] }> {
    this.assertOpen();
    return this.calls.listAll(timeoutMs);
  }

  /** The supervision tree of the node named `node`. */
  async tree(node: string, timeoutMs = 2000): Promise<NodeTree> {
    this.assertOpen();
    return (await this.calls.control(this.nodeInfo(node), { op: "tree" }, () => this.noSuchNode(node), timeoutMs)) as NodeTree;
  }

  /** The supervision trees of every live node that answers. */
  treeAll(timeoutMs = 2000): Promise<NodeTree[]> {
    this.assertOpen();
    return this.calls.treeAll(timeoutMs);
  }

  /**
   * Make sure an agent runs: an on-demand agent that runs nowhere is activated
   * on a node of its type's pool. Resolves with the node it runs on.
   *
   * @throws AgentNotFoundError when it is of a spawn-only type and not running, or no node hosts its type
   */
  activate(id: string): Promise<string> {
    this.assertOpen();
    return this.calls.activate(id);
  }

  /** Where an agent runs, from the registry; undefined when it does not run. */
  whereIs(id: string): Promise<string | undefined> {
    this.assertOpen();
    return this.calls.whereIs(id);
  }

  /** Every agent with persisted state, running or not: those not running are stopped agents that kept their state. */
  persistedIds(): Promise<AgentId[]> {
    this.assertOpen();
    return this.calls.persistedIds();
  }

  /** The persisted state of an agent and its revision, or undefined. */
  persistedState(id: string): Promise<{ value: unknown; revision: number } | undefined> {
    this.assertOpen();
    return this.calls.persistedState(id);
  }

  /**
   * Subscribe to lifecycle and supervision events of the namespace.
   * Returns a function that unsubscribes.
   */
  onEvent(handler: (event: TroupeEvent) => void, filter: { kind?: EventKind; type?: string; key?: string } = {}): () => void {
    this.assertOpen();
    return this.calls.onEvent(handler, filter);
  }

  /**
   * Read the namespace's events, decoded and checked: with `since` (ms), the kept
   * history from then on followed by live events, with no gap or duplicate between
   * them; without it, live events only. Filter by `kinds` and `agent`. Messages that
   * are no well-formed event are skipped and counted (`feed.skipped`). Creates nothing.
   *
   * @example
   * const feed = await client.events({ since: 5 * 60_000, kinds: ["child_failed"] });
   * for await (const e of feed) console.log(e.at, e.kind, e.id);
   * @throws NamespaceNotFoundError with `since` when the namespace keeps no events; InvalidArgumentError for a bad kind, agent or since
   */
  events(options: EventFeedOptions = {}): Promise<EventFeed> {
    this.assertOpen();
    return openEventFeed(this.nc, this.subjects, this.clock, options);
  }

  /** Fail waiting asks, stop memory watches, and close the connection if the client opened it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.pools.close();
      this.messenger.close(new ClientClosedError(this.name));
      this.directory.close();
      await this.memory.close().catch(() => {});
      if (this.ownsConnection) await this.nc.drain().catch(() => {});
    })();
    return this.closing;
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** The mailbox an agent type takes in this namespace (`"core"` unless a node registered it `"durable"`). */
  async mailboxOf(type: string): Promise<MailboxKind> {
    this.assertOpen();
    validateToken("agent type", type);
    return (await this.messenger.lookupRoute(type)).mailbox;
  }

  /** How agents of a type come to run in this namespace (`"spawn"` unless a node registered it `"on-demand"`). */
  async activationOf(type: string): Promise<ActivationMode> {
    this.assertOpen();
    validateToken("agent type", type);
    return (await this.messenger.lookupRoute(type)).onDemand ? ActivationMode.OnDemand : ActivationMode.Spawn;
  }

  /** A dead letter's message sent again: to an agent that runs, and on the server before this resolves. */
  private async resend(to: AgentId, body: unknown): Promise<void> {
    // A durable mailbox keeps the message until its agent runs; a core tell to nobody would be lost,
    // so an on-demand agent is activated first, and any other must be running.
    const route = await this.messenger.lookupRoute(parseAgentId(to).type);
    if (route.onDemand) await this.activate(to);
    else if (route.mailbox !== MailboxKind.Durable && (await this.whereIs(to)) === undefined) throw new AgentNotFoundError(to);
    await this.ref(to).tell(body);
    this.messenger.flushTells();
    await this.nc.flush();
  }

  private nodeInfo(node: string): string {
    validateToken("node name", node);
    return this.subjects.nodeInfo(node);
  }

  private noSuchNode(node: string): InvalidArgumentError {
    return new InvalidArgumentError("node", `no node named "${node}" answers in namespace "${this.namespace}"`);
  }

  private assertOpen(): void {
    if (this.closing) throw new ClientClosedError(this.name);
  }
}
